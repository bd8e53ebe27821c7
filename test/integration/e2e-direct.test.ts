/**
 * End-to-end encrypted direct messages (issue 18, docs/security.md "Direct messages"), in this
 * process: a real relay (RelayServer on 127.0.0.1, its own SQLite data directory) and real
 * cores (Core.start on temp homes, their own stores). Alice and bob have two devices each.
 * - After 1:1 messages with unique markers (a reply and an ask among them), no file of the
 *   relay's data directory (database, WAL) holds a marker, while both of bob's devices and
 *   alice's other device read every one, with the reply's and the ask's ids intact.
 * - A ciphertext altered at the relay, or one not encrypted for this device, is refused and
 *   said (status last_error), never stored or shown; the messages after it arrive, and the
 *   cursor passes it.
 * - The relay dedupes a retried send on its client id although the retry's envelope is new.
 * Every wait has a deadline; everything is closed in `finally`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RELAY_PROTOCOL_V6, type VerdictFrame } from '../../protocol/relay';
import type { Message } from '../../protocol/rpc';
import { RelayStore } from '../../relay/store';
import type { RelayServer } from '../../relay/server';
import { writeConfig } from '../../server/config';
import { Core } from '../../server/core';
import { DirectBodies } from '../../server/sync/direct-bodies';
import { PeerKeys } from '../../server/store/peer-keys';
import { sealDirect } from '../../lib/node/e2e/direct';
import { fromB64 } from '../../lib/node/e2e/bytes';
import { loadOrCreateIdentity } from '../../lib/node/e2e/identity';
import { silentLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { addTestUser, makeTempDir, RawRelayClient, startTestRelay, publishHomeKeys } from '../support/relay';
import { tempHome } from '../support/cli';
import { waitFor } from '../support/wait';

type Device = 'alice' | 'alice2' | 'bob' | 'bob2';
const USER: Record<Device, string> = { alice: 'alice', alice2: 'alice', bob: 'bob', bob2: 'bob' };

interface World {
  relay: RelayServer;
  dataDir: string;
  tokens: Record<string, string>;
  homes: Record<Device, string>;
  cores: Partial<Record<Device, Core>>;
  start(device: Device): Promise<Core>;
  stop(device: Device): Promise<void>;
}

async function withWorld(body: (w: World) => Promise<void>): Promise<void> {
  const dir = makeTempDir('sb-e2e-direct-');
  const homes: (() => void)[] = [];
  const clients: RawRelayClient[] = [];
  let relay: RelayServer | undefined;
  const cores: Partial<Record<Device, Core>> = {};
  try {
    const dataDir = join(dir.path, 'data');
    const tokens = { alice: await addTestUser(dataDir, 'alice'), bob: await addTestUser(dataDir, 'bob') };
    relay = await startTestRelay({ dataDir, ratePerSecond: 0 });
    const started = relay;
    const made = (['alice', 'alice2', 'bob', 'bob2'] as const).map((d) => {
      const t = tempHome(`sb-e2e-${d}-`);
      homes.push(t.cleanup);
      return [d, t.home] as const;
    });
    const w: World = {
      relay: started,
      dataDir,
      tokens,
      homes: Object.fromEntries(made) as Record<Device, string>,
      cores,
      async start(device) {
        const paths = homePaths(w.homes[device]);
        writeConfig(paths, { relay: started.url, user: USER[device], device: `${device}-core`, insecure: false }, tokens[USER[device] as 'alice' | 'bob']);
        const core = await Core.start(paths, { serve: false, sync: true, log: silentLogger });
        cores[device] = core;
        await waitFor(`${device} online`, () => (core.sync.isOnline() ? true : undefined));
        return core;
      },
      async stop(device) {
        await cores[device]?.stop();
        delete cores[device];
      },
    };
    // Every device's keys are in the directory before anyone sends (a device that comes later is a key change).
    for (const [device, home] of made) await publishHomeKeys(started.url, USER[device], tokens[USER[device] as 'alice' | 'bob'], home, `${device}-core`);
    await body(w);
  } finally {
    await Promise.all(clients.map((c) => c.closeAndWait().catch(() => undefined)));
    for (const core of Object.values(cores)) await core?.stop();
    await relay?.close();
    for (const cleanup of homes) cleanup();
    dir.remove();
  }
}

/** Whether any file of the relay's data directory (database, WAL, shm) holds `marker`. */
function relayHolds(dataDir: string, marker: string): boolean {
  return readdirSync(dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .some((e) => readFileSync(join(e.parentPath, e.name)).includes(marker));
}

const has = (core: Core, id: string) => waitFor(`message ${id}`, () => core.service.repo.message(id));
const lastError = (core: Core) => core.sync.status().last_error ?? '';
const bodies = (core: Core): string[] => core.service.repo.inbox({ unread: false, limit: 1000 }).map((m: Message) => m.body);

function storedItems(dataDir: string, user: string): { seq: number; item: string }[] {
  const store = RelayStore.open(dataDir);
  try {
    return store.db.prepare('SELECT seq, item FROM deliveries WHERE user = ? ORDER BY seq').all(user) as { seq: number; item: string }[];
  } finally {
    store.close();
  }
}

describe('direct messages are end-to-end encrypted', () => {
  test("the relay's files hold no marker; both of bob's devices and alice's other device read every message, replies and asks intact", async () => {
    await withWorld(async (w) => {
      const alice = await w.start('alice');
      const alice2 = await w.start('alice2');
      const bob = await w.start('bob');
      const bob2 = await w.start('bob2');
      const stamp = Date.now().toString(36);
      const marker = (n: number) => `MARKER-${stamp}-${n}`;
      const first = await alice.service.send({ to: 'bob', body: `${marker(1)} hello`, wait_ms: 10_000 });
      assert.equal(first.status, 'sent', first.reason ?? '');
      await has(bob, first.id);
      for (const core of [alice2, bob2]) await has(core, first.id);
      // Two devices go offline, so the relay keeps what follows for them (it prunes what every device took).
      await w.stop('alice2');
      await w.stop('bob2');
      const reply = await bob.service.send({ to: 'alice', body: `${marker(2)} a reply`, reply_to: first.id, wait_ms: 10_000 });
      assert.equal(reply.status, 'sent', reply.reason ?? '');
      const ask = await alice.service.send({ to: 'bob', body: `${marker(3)} an ask`, request_id: `req-${stamp}`, wait_ms: 10_000 });
      assert.equal(ask.status, 'sent', ask.reason ?? '');
      // The relay's copies name no reply_to or request_id in the clear: both are inside the ciphertext.
      type Stored = { kind: string; message?: { id: string; reply_to: string | null; request_id: string | null; body: string; sealed?: string } };
      const copy = (user: string, id: string) => storedItems(w.dataDir, user).map((r) => JSON.parse(r.item) as Stored).find((i) => i.message?.id === id)?.message;
      for (const [user, id] of [['alice', reply.id], ['bob', ask.id]] as const) {
        const stored = copy(user, id);
        assert.ok(stored, `${id} is stored for ${user}`);
        assert.deepEqual([stored.body, stored.reply_to, stored.request_id], ['', null, null]);
        assert.ok((stored.sealed ?? '').length > 0);
      }
      const laterAlice2 = await w.start('alice2');
      const laterBob2 = await w.start('bob2');
      // Each of the four devices has the whole thread, as the sender wrote it.
      for (const core of [alice, laterAlice2, bob, laterBob2]) {
        for (const [id, n] of [[first.id, 1], [reply.id, 2], [ask.id, 3]] as const) {
          const m = await has(core, id);
          assert.ok(m.body.startsWith(marker(n)), `${m.body} on a device of ${core.sync.localUser()}`);
        }
        assert.equal(core.service.repo.message(reply.id)!.reply_to, first.id);
        assert.equal(core.service.repo.message(ask.id)!.request_id, `req-${stamp}`);
        assert.equal(lastError(core), '', 'nothing refused');
      }
      assert.ok(bodies(laterBob2).some((b) => b.startsWith(marker(3))), "bob's second device lists it in its inbox");
      for (const n of [1, 2, 3]) assert.equal(relayHolds(w.dataDir, marker(n)), false, `the relay's files hold ${marker(n)}`);
      assert.equal(relayHolds(w.dataDir, `req-${stamp}`), false, "the relay's files hold the ask's request id");
    });
  });

  test('a ciphertext altered at the relay is refused and said, never shown; the next message arrives and the cursor passes it', async () => {
    await withWorld(async (w) => {
      const alice = await w.start('alice');
      let bob = await w.start('bob');
      const warm = await alice.service.send({ to: 'bob', body: 'first contact', wait_ms: 10_000 });
      assert.equal(warm.status, 'sent', warm.reason ?? '');
      await has(bob, warm.id);
      await w.stop('bob');
      const tampered = await alice.service.send({ to: 'bob', body: 'TAMPERED-original', wait_ms: 10_000 });
      assert.equal(tampered.status, 'sent', tampered.reason ?? '');
      const after = await alice.service.send({ to: 'bob', body: 'after the tampered one', wait_ms: 10_000 });
      assert.equal(after.status, 'sent', after.reason ?? '');
      // The relay operator flips one character of the ciphertext of bob's copy.
      const row = storedItems(w.dataDir, 'bob').find((r) => r.item.includes(tampered.id))!;
      const item = JSON.parse(row.item) as { message: { sealed: string } };
      const sealed = JSON.parse(item.message.sealed) as { ct: string };
      sealed.ct = (sealed.ct[0] === 'A' ? 'B' : 'A') + sealed.ct.slice(1);
      item.message.sealed = JSON.stringify(sealed);
      const store = RelayStore.open(w.dataDir);
      try {
        store.db.prepare("UPDATE deliveries SET item = ? WHERE user = 'bob' AND seq = ?").run(JSON.stringify(item), row.seq);
      } finally {
        store.close();
      }
      bob = await w.start('bob');
      await has(bob, after.id);
      assert.equal(bob.service.repo.message(tampered.id), undefined, 'never stored, never shown');
      assert.ok(!bodies(bob).some((b) => b.includes('TAMPERED')));
      assert.match(lastError(bob), new RegExp(`refused message \\S+ from alice: the message from alice does not decrypt: it was altered`));
      const cursor = Number(bob.service.repo.getState('relay_cursor'));
      assert.ok(cursor >= row.seq + 1, `the cursor (${cursor}) passed the refused delivery (${row.seq}) and the one after it`);
    });
  });

  test('a message not encrypted for this device is refused on it and read on the device it was for', async () => {
    await withWorld(async (w) => {
      const bob = await w.start('bob');
      const bob2 = await w.start('bob2');
      // Alice's device seals for bob's first device only (a relay cannot add a device to an envelope).
      const aliceIdentity = loadOrCreateIdentity(w.homes.alice);
      const bobRecord = loadOrCreateIdentity(w.homes.bob);
      const message = { id: `m-${Date.now()}`, client_message_id: `c-${Date.now()}`, to: 'bob', created_at: new Date().toISOString() };
      const sealed = sealDirect({
        sender: { user: 'alice', device: 'alice-core' },
        identity: aliceIdentity,
        recipients: [{ user: 'bob', device: 'bob-core', dh: bobRecord.dhPublic }],
        payload: { body: 'for bob-core only', reply_to: null, request_id: null },
        context: { ...message, from: 'alice' },
      });
      const raw = await RawRelayClient.login(w.relay.url, 'alice', w.tokens.alice!, 'alice-core', 0, RELAY_PROTOCOL_V6);
      try {
        raw.send({ type: 'send', message: { ...message, body: '', reply_to: null, request_id: null, sealed } as never });
        const verdict = (await raw.next('verdict')) as VerdictFrame;
        assert.equal(verdict.result, 'accepted', JSON.stringify(verdict));
      } finally {
        await raw.closeAndWait();
      }
      assert.equal((await has(bob, message.id)).body, 'for bob-core only');
      await waitFor("bob2's refusal", () => (lastError(bob2).includes('not encrypted for this device') ? true : undefined));
      assert.equal(bob2.service.repo.message(message.id), undefined);
    });
  });

  test('a retry with a fresh envelope is the same send: the relay answers duplicate; the core compares plain text', async () => {
    await withWorld(async (w) => {
      const alice = await w.start('alice');
      const bob = await w.start('bob');
      const first = await alice.service.send({ to: 'bob', body: 'once', client_message_id: 'cid-once', wait_ms: 10_000 });
      assert.equal(first.status, 'sent', first.reason ?? '');
      const again = await alice.service.send({ to: 'bob', body: 'once', client_message_id: 'cid-once', wait_ms: 10_000 });
      assert.equal(again.status, 'duplicate');
      await assert.rejects(alice.service.send({ to: 'bob', body: 'other', client_message_id: 'cid-once', wait_ms: 10_000 }), /already used for different content/);
      // The same message sealed again (new content key, new nonce) under its client id, as a core retries after a lost verdict.
      const bodies = new DirectBodies(PeerKeys.of(alice.service.repo.db), w.homes.alice, () => ({ user: 'alice', device: 'alice-core' }));
      const stored = alice.service.repo.message(first.id)!;
      const frame = { id: stored.id, client_message_id: 'cid-once', to: 'bob', body: 'once', reply_to: null, request_id: null, created_at: stored.created_at };
      const one = bodies.seal(frame, 'alice');
      const two = bodies.seal(frame, 'alice');
      assert.notEqual(one.sealed, two.sealed, 'every envelope is new');
      const raw = await RawRelayClient.login(w.relay.url, 'alice', w.tokens.alice!, 'alice-retry', 0, RELAY_PROTOCOL_V6);
      try {
        raw.send({ type: 'send', message: two as never });
        const verdict = (await raw.next('verdict')) as VerdictFrame;
        assert.equal(verdict.result, 'duplicate', JSON.stringify(verdict));
        assert.equal(verdict.result === 'duplicate' && verdict.server_id, first.server_id);
      } finally {
        await raw.closeAndWait();
      }
      assert.equal(bob.service.repo.inbox({ unread: false, limit: 100 }).filter((m) => m.body === 'once').length, 1, 'delivered once');
      assert.ok(fromB64(JSON.parse(one.sealed!).nonce, 24));
    });
  });

  test('the relay takes `sealed` only on a v6 connection, only to a user, and only up to its limit', async () => {
    await withWorld(async (w) => {
      await w.start('bob');
      const frame = (cid: string, sealed: string, to = 'bob') => ({ type: 'send', message: { id: `id-${cid}`, client_message_id: cid, to, body: '', reply_to: null, request_id: null, created_at: new Date().toISOString(), sealed } });
      const verdictOf = async (version: number, f: ReturnType<typeof frame>) => {
        const raw = await RawRelayClient.login(w.relay.url, 'alice', w.tokens.alice!, `alice-v${version}`, 0, version);
        try {
          raw.send(f as never);
          return (await raw.next('verdict')) as VerdictFrame;
        } finally {
          await raw.closeAndWait();
        }
      };
      const old = await verdictOf(5, frame('old', 'x'));
      assert.equal(old.result, 'rejected');
      assert.match(old.result === 'rejected' ? old.reason : '', /a sealed body needs relay protocol 6; this connection speaks 5/);
      const big = await verdictOf(RELAY_PROTOCOL_V6, frame('big', 'x'.repeat(200_000)));
      assert.equal(big.result, 'rejected');
      assert.match(big.result === 'rejected' ? big.reason : '', /the sealed body is 200000 characters; the relay accepts at most/);
      assert.equal((await verdictOf(RELAY_PROTOCOL_V6, frame('fits', 'x'.repeat(1000)))).result, 'accepted', 'opaque: the relay does not read it');
    });
  });
});
