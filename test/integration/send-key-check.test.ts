/**
 * Key changes are seen at send time, not only at `verify` (issue 18): a real relay on
 * 127.0.0.1 (protocol v5), real homes and cores, the built CLI. Alice's first send to bob pins
 * his keys (first contact); the relay operator then swaps bob's record for a key of their own;
 * alice's next plain `send` (no `verify` before it) looks the keys up, finds the change, fails
 * with key_changed (exit 1) and stores nothing; `peers` shows bob `changed`; nothing of it
 * reaches the relay or bob; after `verify bob --accept-change` sends go again, sealed for the
 * accepted (the operator's) key, which bob's real core cannot open: it refuses them and says so. Both direct (no
 * core: each verb looks up, being a first contact for its process) and delegated (a running
 * core: it looks up on first contact, after every reconnect, then at most every KEYS_FRESH_MS).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROTOCOL_VERSION, type Message, type Peer, type SendResult, type TrustChanged } from '../../protocol/rpc';
import { SocketClient } from '../../server/cli/socket-client';
import { homePaths } from '../../lib/node/paths';
import { ExitCode } from '../../lib/node/cli/errors';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { RelayStore } from '../../relay/store';
import { Cleanups, ok, okJson, run, told } from '../support/cli';
import { killAllRelays } from '../support/relay';
import { RelayHomes } from '../support/relay-homes';
import { waitFor } from '../support/wait';

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});


/** The relay operator replaces bob's device record with a self-signed one of a key of their own. */
function swapBobsKey(dataDir: string): void {
  const store = RelayStore.open(dataDir);
  try {
    const row = store.db.prepare("SELECT device FROM device_keys WHERE user = 'bob'").get() as { device: string };
    store.db.prepare("UPDATE device_keys SET record = ? WHERE user = 'bob'").run(JSON.stringify(signDeviceRecord(generateIdentity(), 'bob', row.device, Date.now())));
  } finally {
    store.close();
  }
}

/** Whether any file of the relay's data directory (database, WAL) holds `marker`. */
function relayHolds(dataDir: string, marker: string): boolean {
  return readdirSync(dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .some((e) => readFileSync(join(e.parentPath, e.name)).includes(marker));
}

async function trustOf(home: string, user: string): Promise<string | undefined> {
  return (await okJson<{ peers: Peer[] }>(home, ['peers'])).peers.find((p) => p.name === user)?.trust;
}

describe('a changed key is found by the send itself', () => {
  const world = new RelayHomes(cleanups, 'sb-', ['alice', 'bob'] as const);
  const relay = world.relay;
  const { alice, bob } = world.home;

  before(async () => {
    await world.start(['bob']);
    // Bob's core publishes his keys once it is online.
    await waitFor('bob’s keys in the directory', () => {
      const store = RelayStore.open(relay.dataDir);
      try {
        return store.db.prepare("SELECT 1 FROM device_keys WHERE user = 'bob'").get() !== undefined || undefined;
      } finally {
        store.close();
      }
    });
  });

  async function refusedSend(marker: string): Promise<void> {
    const args = ['send', '--to', 'bob', '-m', marker];
    const human = await run(alice, args);
    assert.equal(human.code, ExitCode.Failed, told(args, human));
    assert.match(human.stderr, /bob's keys changed .*verify bob --accept-change/, told(args, human));
    const machine = await run(alice, [...args, '--json']);
    assert.equal(machine.code, ExitCode.Failed, told(args, machine));
    assert.equal((JSON.parse(machine.stderr) as { error: { code: string } }).error.code, 'key_changed', told(args, machine));
  }

  test('direct: the first send pins; after a swap a plain send fails with key_changed, peers says changed; accepted, sends go', async () => {
    assert.equal((await okJson<SendResult>(alice, ['send', '--to', 'bob', '-m', 'first contact'])).status, 'sent');
    assert.equal(await trustOf(alice, 'bob'), 'unverified', 'the first send pinned bob’s keys');
    swapBobsKey(relay.dataDir);
    await refusedSend('marker-direct-5c1e');
    assert.equal(await trustOf(alice, 'bob'), 'changed');
    await ok(alice, ['verify', 'bob', '--accept-change']);
    assert.equal(await trustOf(alice, 'bob'), 'unverified');
    assert.equal((await okJson<SendResult>(alice, ['send', '--to', 'bob', '-m', 'after accepting, direct'])).status, 'sent');
  });

  test('delegated: a running core looks again after it reconnects to the relay; a swap then is refused the same way', async () => {
    await world.startCore('alice');
    // A client of alice's core (as a VS Code window is) hears each change of bob's trust.
    const watcher = await SocketClient.connect(homePaths(alice).socket, 10_000);
    const heard: TrustChanged[] = [];
    watcher.onNotification((name, params) => {
      if (name === 'trust/changed') heard.push(params);
    });
    await watcher.call('initialize', { client: { name: 'trust-watcher', version: '1' }, protocol: PROTOCOL_VERSION });
    await watcher.call('events/subscribe', {});
    try {
      // This send looks bob's keys up: fresh for KEYS_FRESH_MS, on this connection.
      assert.equal((await okJson<SendResult>(alice, ['send', '--to', 'bob', '-m', 'through the core'])).status, 'sent');
      // Bob's core stays away meanwhile: it would publish his real keys again when it reconnects.
      await world.stopCore('bob');
      await relay.restart();
      await waitFor('alice’s core online again', async () => ((JSON.parse(await ok(alice, ['status', '--json'])) as { sync: { state: string } }).sync.state === 'online' ? true : undefined));
      swapBobsKey(relay.dataDir);
      // The pins were fresh before the reconnect; the new connection makes the send look again.
      await refusedSend('marker-delegated-9d2b');
      assert.equal(await trustOf(alice, 'bob'), 'changed');
      await waitFor('trust/changed: bob changed', () => heard.length >= 1 || undefined);
      assert.deepEqual(heard, [{ user: 'bob', trust: 'changed' }], 'first contact and the fresh re-pins said nothing: the state did not move');
      await ok(alice, ['verify', 'bob', '--accept-change']);
      await waitFor('trust/changed: bob accepted', () => heard.length >= 2 || undefined);
      assert.deepEqual(heard[1], { user: 'bob', trust: 'unverified' });
      assert.equal((await okJson<SendResult>(alice, ['send', '--to', 'bob', '-m', 'after accepting, delegated'])).status, 'sent');
    } finally {
      watcher.close();
      await world.stopCore('alice');
    }
  });

  test('nothing refused reached the relay or bob; what was sent after accepting the operator’s key is sealed for that key, and bob’s core refuses it, saying so', async () => {
    await world.startCore('bob');
    // The first was sealed for bob's real key; all three after the first accept-change, for the
    // operator's (the last one reaches this new core of bob's; it refused the others while it ran).
    const bodies = await waitFor('bob has the messages sealed for his key, and has refused the others', async () => {
      const messages = (await okJson<{ messages: Message[] }>(bob, ['inbox'])).messages.map((m) => m.body);
      const status = JSON.parse(await ok(bob, ['status', '--json'])) as { sync: { last_error: string | null } };
      return messages.includes('first contact') && /refused message \S+ from alice: the message from alice does not decrypt/.test(status.sync.last_error ?? '') ? messages : undefined;
    });
    for (const accepted of ['after accepting, direct', 'through the core', 'after accepting, delegated']) {
      assert.ok(!bodies.includes(accepted), `bob's core did not show ${accepted}`);
      assert.equal(relayHolds(relay.dataDir, accepted), false, `the relay never held ${accepted}`);
    }
    for (const marker of ['marker-direct-5c1e', 'marker-delegated-9d2b']) {
      assert.ok(!bodies.some((b) => b.includes(marker)), `bob never got ${marker}`);
      assert.equal(relayHolds(relay.dataDir, marker), false, `the relay never held ${marker}`);
    }
    // Nor did alice keep it to send later.
    const outbox = await ok(alice, ['outbox', 'list', '--json']);
    assert.ok(!outbox.includes('marker-'), outbox);
  });
});
