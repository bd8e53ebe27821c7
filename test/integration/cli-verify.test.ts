/**
 * Trust on first use and safety numbers through the built CLI (issue 18, stage 3): a real relay
 * on 127.0.0.1 (protocol v5, its key directory), real homes, real cores, `switchboard` as child
 * processes. `init` makes the home's device keys (0600); a core publishes them when it connects;
 * `verify <user>` shows the same 60 digits on both sides (direct and delegated); `--confirm`
 * with a wrong number is refused (exit 1) and with the right one marks the peer verified, which
 * `peers` shows; a relay that swaps the peer's key makes the peer `changed` and the next send to
 * it fail (exit 1, naming `verify <user> --accept-change`) until it is accepted.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Peer, TrustInfo } from '../../protocol/rpc';
import { ExitCode } from '../../lib/node/cli/errors';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { deviceKeysPath, generateIdentity } from '../../lib/node/e2e/identity';
import { RelayStore } from '../../relay/store';
import { Cleanups, ok, okJson, refusedWith, run, told } from '../support/cli';
import { killAllRelays } from '../support/relay';
import { RelayHomes } from '../support/relay-homes';
import { waitFor } from '../support/wait';

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});



describe('verify: trust on first use and safety numbers', () => {
  const world = new RelayHomes(cleanups, 'sb-', ['alice', 'bob'] as const);
  const relay = world.relay;
  const { alice, bob } = world.home;
  let number = '';

  before(() => world.start(['bob']));

  test('init makes the device keys 0600; both sides see the same safety number, unverified', async () => {
    assert.equal(statSync(deviceKeysPath(alice)).mode & 0o777, 0o600);
    // Bob's core publishes its keys once it is online: wait for them to be in the directory.
    const seen = await waitFor('bob’s keys in the directory', async () => {
      const r = await run(alice, ['verify', 'bob', '--json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as TrustInfo) : undefined;
    });
    assert.equal(seen.trust, 'unverified');
    assert.equal(seen.devices, 1);
    assert.equal(seen.fresh, true);
    assert.match(seen.safety_number!, /^(\d{5} ){11}\d{5}$/);
    number = seen.safety_number!;
    // Bob asks through his running core (delegated); alice ran directly: the same number.
    assert.equal((await okJson<TrustInfo>(bob, ['verify', 'alice'])).safety_number, number);
    const human = await ok(alice, ['verify', 'bob']);
    assert.equal(human, `bob: unverified (1 device)\nsafety number: ${number}\ncompare it with bob over another channel, then \`switchboard verify bob --confirm <number>\`\n`);
  });

  test('a wrong number is refused (exit 1); the right one marks bob verified, and peers says so', async () => {
    await refusedWith(alice, ['verify', 'bob', '--confirm', '0'.repeat(60)], 'safety_number_mismatch', /not the safety number of you and bob/);
    assert.equal((await okJson<TrustInfo>(alice, ['verify', 'bob'])).trust, 'unverified', 'nothing was marked');
    const confirmed = await okJson<TrustInfo>(alice, ['verify', 'bob', '--confirm', number.replace(/ /g, '')]);
    assert.equal(confirmed.trust, 'verified');
    assert.match(await ok(alice, ['send', '--to', 'bob', '-m', 'hi bob']), /^sent /);
    const peers = (await okJson<{ peers: Peer[] }>(alice, ['peers'])).peers;
    assert.equal(peers.find((p) => p.name === 'bob')?.trust, 'verified');
    assert.match(await ok(alice, ['peers']), /^bob {2}messages 1 .* {2}verified$/m);
  });

  test('a relay that swaps bob’s key makes him changed: sends to him fail until the change is accepted', async () => {
    // The relay operator replaces bob's record with one of a key of their own (self-signed, so it passes the relay's checks).
    const store = RelayStore.open(relay.dataDir);
    try {
      const row = store.db.prepare("SELECT device FROM device_keys WHERE user = 'bob'").get() as { device: string };
      const forged = signDeviceRecord(generateIdentity(), 'bob', row.device, Date.now());
      store.db.prepare("UPDATE device_keys SET record = ? WHERE user = 'bob'").run(JSON.stringify(forged));
    } finally {
      store.close();
    }
    const changed = await okJson<TrustInfo>(alice, ['verify', 'bob']);
    assert.equal(changed.trust, 'changed');
    assert.equal(changed.safety_number, number, 'the pinned number stays');
    assert.ok(changed.new_safety_number && changed.new_safety_number !== number);
    assert.equal((await okJson<{ peers: Peer[] }>(alice, ['peers'])).peers.find((p) => p.name === 'bob')?.trust, 'changed');
    await refusedWith(alice, ['send', '--to', 'bob', '-m', 'not while changed'], 'key_changed', /verify bob --accept-change/);
    await refusedWith(alice, ['verify', 'bob', '--confirm', number], 'key_changed', /--accept-change/);
    const accepted = await okJson<TrustInfo>(alice, ['verify', 'bob', '--accept-change']);
    assert.equal(accepted.trust, 'unverified');
    assert.equal(accepted.safety_number, changed.new_safety_number);
    assert.match(await ok(alice, ['send', '--to', 'bob', '-m', 'after accepting']), /^sent /);
  });

  test('the same answers direct (no core) and delegated (a running core)', async () => {
    const args = [['verify', 'bob'], ['verify', 'bob', '--json'], ['peers'], ['verify', 'nobody-here', '--json']];
    const direct = [];
    // One at a time: each direct run holds the home's lock while it runs.
    for (const a of args) direct.push(await run(alice, a));
    await world.startCore('alice');
    try {
      for (const [i, a] of args.entries()) {
        const delegated = await run(alice, a);
        assert.deepEqual([delegated.code, delegated.stdout, delegated.stderr], [direct[i]!.code, direct[i]!.stdout, direct[i]!.stderr], a.join(' '));
      }
    } finally {
      await world.stopCore('alice');
    }
  });

  test('a user with no keys: verify is refused with no_keys', async () => {
    await refusedWith(alice, ['verify', 'nobody-here'], 'no_keys', /no device keys known for nobody-here/);
  });
});
