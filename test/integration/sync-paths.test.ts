/**
 * The outbox's failure paths, in this process: real cores (Core.start on temp homes, their
 * own SQLite stores) and a real relay (RelayServer on 127.0.0.1, its own data dir), so a
 * mutation of the sync engine, the service or the relay is seen by these tests directly.
 * Every wait has a deadline; every core, relay and temp dir is closed in `finally`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { RELAY_MAX_FRAME_BYTES } from '../../protocol/relay';
import type { Message, OutboxState } from '../../protocol/rpc';
import { relayDbPath } from '../../relay/data-dir';
import { addTestUser, makeTempDir, RawRelayClient, startTestRelay, publishHomeKeys } from '../support/relay';
import type { RelayServer, RelayServerOptions } from '../../relay/server';
import { writeConfig } from '../../server/config';
import { Core } from '../../server/core';
import { CoreError } from '../../server/errors';
import { coreSendFingerprint } from '../../lib/node/send-fingerprint';
import { newId } from '../../lib/node/ids';
import { silentLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { MAX_ATTEMPTS, SyncEngine } from '../../server/sync/engine';
import { RelayLink } from '../../server/sync/relay-link';
import { helloCursors } from '../support/hello-cursors';
import { tempHome } from '../support/cli';
import { waitFor } from '../support/wait';
import { withTimeout } from '../../lib/node/with-timeout';
import { directStoreFields } from '../support/messages';

// ---- a world of one relay and some cores, torn down whatever happens ---------------------

interface World {
  relay: RelayServer;
  dataDir: string;
  tokens: Record<string, string>;
  /** A core for `user`, configured for the relay; sync starts unless `sync: false`. */
  core(user: string, options?: { sync?: boolean; home?: string }): Promise<Core>;
  /** A fresh temp home, removed at the end. */
  home(prefix: string): string;
  /** The user's first home: its device keys (device `<user>-core`) are in the relay's directory from the start, so others can send to it before its core runs. */
  homeOf(user: string): string;
  client(user: string, device: string): Promise<RawRelayClient>;
}

async function withWorld(users: string[], options: Partial<RelayServerOptions>, body: (w: World) => Promise<void>): Promise<void> {
  const dir = makeTempDir('sb-paths-relay-');
  const cores: Core[] = [];
  const homes: (() => void)[] = [];
  const clients: RawRelayClient[] = [];
  let relay: RelayServer | undefined;
  try {
    const dataDir = join(dir.path, 'data');
    const tokens: Record<string, string> = {};
    for (const user of users) tokens[user] = await addTestUser(dataDir, user);
    relay = await startTestRelay({ dataDir, ratePerSecond: 0, ...options });
    const started = relay;
    const firstHomes = new Map<string, string>();
    let firstUnused = new Set(users);
    const w: World = {
      relay: started,
      dataDir,
      tokens,
      home(prefix) {
        const t = tempHome(prefix);
        homes.push(t.cleanup);
        return t.home;
      },
      homeOf(user) {
        return firstHomes.get(user)!;
      },
      async core(user, { sync = true, home = firstUnused.delete(user) ? w.homeOf(user) : w.home(`sb-paths-${user}-`) } = {}) {
        const paths = homePaths(home);
        writeConfig(paths, { relay: started.url, user, device: `${user}-core`, insecure: false }, tokens[user]);
        const core = await Core.start(paths, { serve: false, sync, log: silentLogger });
        cores.push(core);
        return core;
      },
      async client(user, device) {
        const c = await RawRelayClient.login(started.url, user, tokens[user]!, device);
        clients.push(c);
        return c;
      },
    };
    for (const user of users) {
      const home = w.home(`sb-paths-${user}-`);
      firstHomes.set(user, home);
      // Published on the default relay only: a test that starts a relay with other options (no key directory) has none.
      await publishHomeKeys(started.url, user, tokens[user]!, home, `${user}-core`);
    }
    firstUnused = new Set(users);
    await body(w);
  } finally {
    await Promise.all(clients.map((c) => c.closeAndWait().catch(() => undefined)));
    for (const core of cores) await core.stop();
    await relay?.close();
    for (const cleanup of homes) cleanup();
    dir.remove();
  }
}

const online = (core: Core) => waitFor('the core to be online', () => (core.sync.isOnline() ? true : undefined));
const rowState = (core: Core, id: string) => core.service.repo.outboxById(id)?.state;
const untilRow = (core: Core, id: string, state: OutboxState) => waitFor(`outbox row ${id} to be ${state}`, () => (rowState(core, id) === state ? core.service.repo.outboxById(id) : undefined));
const inboxOf = (core: Core) => core.service.repo.inbox({ unread: false, limit: 1000 });
const now = () => new Date().toISOString();

/** Stores an outbound message and its pending outbox row the way an older core would have, with no checks. */
function storeOutbound(core: Core, to: string, body: string): string {
  const repo = core.service.repo;
  const id = newId();
  const at = now();
  repo.insertMessage({ id, client_message_id: id, server_id: null, conversation: to, direction: 'out', from: 'alice', to, body, reply_to: null, request_id: null, created_at: at, state: 'queued', read: true, ...directStoreFields('out') });
  repo.insertOutbox({ client_message_id: id, id, fingerprint: coreSendFingerprint({ to, body }), now: at, inflight: false });
  return id;
}

// ---- the outbox's state machine ------------------------------------------------------------

describe('an inflight row whose link is lost', () => {
  test(`dies after ${MAX_ATTEMPTS} attempts without a verdict; one with an attempt left goes back to pending and is sent`, async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice', { sync: false });
      const spent = (await alice.service.send({ to: 'bob', body: 'out of attempts' })).id;
      const spare = (await alice.service.send({ to: 'bob', body: 'one attempt left' })).id;
      // Each earlier attempt went out on a link that was lost before its verdict came back.
      await alice.service.writes.run(() => {
        for (let i = 0; i < MAX_ATTEMPTS; i++) alice.service.repo.markInflight(spent, now());
        for (let i = 0; i < MAX_ATTEMPTS - 1; i++) alice.service.repo.markInflight(spare, now());
      });
      alice.sync.start();
      await online(alice);
      assert.equal(rowState(alice, spent), 'inflight', 'an inflight row is not claimed again while its link lives');
      alice.sync.reconnect(); // the link is lost with both rows in flight
      const dead = await untilRow(alice, spent, 'dead');
      assert.equal(dead.attempts, MAX_ATTEMPTS);
      assert.match(dead.last_error ?? '', new RegExp(`no verdict after ${MAX_ATTEMPTS} attempts`));
      assert.equal(alice.service.repo.message(spent)?.state, 'failed');
      const sent = await untilRow(alice, spare, 'done');
      assert.equal(sent.attempts, MAX_ATTEMPTS, 'sent once more, its last attempt');
      assert.equal(alice.service.repo.message(spare)?.state, 'sent');
    });
  });

  test('a waiter on a row that dies is woken without a verdict', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice', { sync: false });
      const id = (await alice.service.send({ to: 'bob', body: 'waited on' })).id;
      await alice.service.writes.run(() => {
        for (let i = 0; i < MAX_ATTEMPTS; i++) alice.service.repo.markInflight(id, now());
      });
      alice.sync.start();
      await online(alice);
      const verdict = alice.sync.awaitVerdict(id, 600_000);
      alice.sync.reconnect();
      // Its own wait is ten minutes: only the row's death can wake it within this deadline.
      assert.equal(await withTimeout(verdict, 20_000, 'the waiter to wake'), undefined);
      assert.equal(rowState(alice, id), 'dead');
    });
  });
});

describe('abort and requeue', () => {
  /** A core with one row in each open state. */
  async function rows(w: World): Promise<{ core: Core; ids: Record<'pending' | 'inflight' | 'dead' | 'aborted', string> }> {
    const core = await w.core('alice', { sync: false });
    const send = async (body: string) => (await core.service.send({ to: 'bob', body, client_message_id: `cid-${body}` })).id;
    const ids = { pending: await send('pending'), inflight: await send('inflight'), dead: await send('dead'), aborted: await send('aborted') };
    await core.service.writes.run(() => {
      core.service.repo.markInflight(ids.inflight, now());
      core.service.repo.recordOutboxFailure(ids.dead, 'dead', 'rejected by the relay: no', now());
    });
    await core.service.abort(ids.aborted);
    return { core, ids };
  }

  test('abort: a pending or dead row may be aborted; an inflight or aborted one is refused and left as it was', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const { core, ids } = await rows(w);
      for (const state of ['pending', 'dead'] as const) {
        const item = await core.service.abort(ids[state]);
        assert.equal(item.state, 'aborted', state);
        assert.equal(core.service.repo.message(ids[state])?.state, 'aborted', state);
      }
      await assert.rejects(core.service.abort(ids.inflight), (e: unknown) => e instanceof CoreError && /in flight and may already be at the relay/.test(e.message));
      assert.equal(rowState(core, ids.inflight), 'inflight');
      assert.equal(core.service.repo.message(ids.inflight)?.state, 'queued');
      await assert.rejects(core.service.abort(ids.aborted), (e: unknown) => e instanceof CoreError && /already aborted/.test(e.message));
      // Found by client id as well as by id.
      await assert.rejects(core.service.abort('cid-inflight'), /in flight/);
      await assert.rejects(core.service.abort('no-such-row'), /outbox entry no-such-row/);
    });
  });

  test('requeue: a pending row is aborted and its content queued again under a new id; an inflight one is refused', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const { core, ids } = await rows(w);
      const before = core.service.repo.message(ids.pending)!;
      const requeued = await core.service.requeue(ids.pending);
      assert.equal(requeued.aborted, ids.pending);
      assert.equal(rowState(core, ids.pending), 'aborted');
      assert.equal(core.service.repo.message(ids.pending)?.state, 'aborted');
      assert.notEqual(requeued.item.id, ids.pending);
      assert.equal(requeued.item.state, 'pending');
      assert.equal(requeued.item.attempts, 0);
      assert.notEqual(requeued.item.client_message_id, before.client_message_id);
      const again = core.service.repo.message(requeued.item.id)!;
      assert.deepEqual([again.to, again.body, again.reply_to, again.request_id, again.direction], [before.to, before.body, before.reply_to, before.request_id, 'out']);
      assert.equal(core.service.repo.outboxById(requeued.item.id)?.fingerprint, coreSendFingerprint({ to: before.to, body: before.body }));
      // An aborted row is requeued without being aborted again; a dead one ends aborted.
      const fromAborted = await core.service.requeue(ids.aborted);
      assert.equal(fromAborted.item.state, 'pending');
      const fromDead = await core.service.requeue(ids.dead);
      assert.equal(rowState(core, fromDead.aborted), 'aborted');
      await assert.rejects(core.service.requeue(ids.inflight), (e: unknown) => e instanceof CoreError && /in flight; wait for its verdict/.test(e.message));
      assert.equal(rowState(core, ids.inflight), 'inflight');
    });
  });

  test('a requeued message is sent and arrives once, under its new id', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice', { sync: false });
      const bob = await w.core('bob');
      const first = await alice.service.send({ to: 'bob', body: 'requeued' });
      const requeued = await alice.service.requeue(first.id);
      alice.sync.start();
      await untilRow(alice, requeued.item.id, 'done');
      const got = await waitFor('bob to receive it', () => (inboxOf(bob).length > 0 ? inboxOf(bob) : undefined));
      assert.deepEqual(got.map((m) => [m.id, m.body]), [[requeued.item.id, 'requeued']]);
      assert.equal(rowState(alice, first.id), 'aborted');
    });
  });
});

describe('a new row the engine did not claim is sent all the same', () => {
  test('a send behind a pending row (not claimed on insert) kicks the drain, which sends both', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice');
      const bob = await w.core('bob');
      await Promise.all([online(alice), online(bob)]);
      // A row left pending, as by an older core: nothing has told the engine about it yet.
      const older = storeOutbound(alice, 'bob', 'left pending');
      const sent = await alice.service.send({ to: 'bob', body: 'behind it' });
      assert.equal(sent.status, 'queued');
      await untilRow(alice, older, 'done');
      await untilRow(alice, sent.id, 'done');
      const got = await waitFor('bob to have both', () => (inboxOf(bob).length === 2 ? inboxOf(bob) : undefined));
      assert.deepEqual(got.map((m) => m.body).sort(), ['behind it', 'left pending']);
    });
  });

  test('a requeue while online, behind a pending row, kicks the drain too: both are sent', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice');
      await online(alice);
      // Once one send has had its verdict, the drain at connect is over.
      assert.equal((await alice.service.send({ to: 'bob', body: 'first', wait_ms: 10_000 })).status, 'sent');
      const dead = storeOutbound(alice, 'bob', 'died');
      await alice.service.writes.run(() => alice.service.repo.recordOutboxFailure(dead, 'dead', 'rejected by the relay: no', now()));
      // With a pending row ahead the copy is not claimed on insert: only the requeue's kick sends them.
      const older = storeOutbound(alice, 'bob', 'left pending');
      const requeued = await alice.service.requeue(dead);
      assert.equal(requeued.item.state, 'pending');
      assert.equal((await untilRow(alice, requeued.item.id, 'done')).verdict, 'sent');
      assert.equal((await untilRow(alice, older, 'done')).verdict, 'sent');
    });
  });
});

describe('verdicts', () => {
  test('a late verdict for a row aborted meanwhile changes nothing', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice');
      await online(alice);
      // Once one send has had its verdict, the drain at connect is over and new sends are claimed on insert.
      assert.equal((await alice.service.send({ to: 'bob', body: 'first', wait_ms: 10_000 })).status, 'sent');
      const sent = await alice.service.send({ to: 'bob', body: 'aborted in flight' });
      // Claimed on insert: it is on the wire now, and its verdict cannot have been stored yet
      // (that takes a socket read and a write, neither of which has had a turn).
      assert.equal(rowState(alice, sent.id), 'inflight');
      alice.service.repo.setOutboxState(sent.id, 'aborted', now());
      alice.service.repo.setMessageState(sent.id, 'aborted');
      // Woken by the verdict's arrival (its own wait is ten minutes), told nothing about it.
      assert.equal(await withTimeout(alice.sync.awaitVerdict(sent.id, 600_000), 20_000, 'the verdict'), undefined);
      const row = alice.service.repo.outboxById(sent.id)!;
      assert.equal(row.state, 'aborted');
      assert.equal(row.server_id, null);
      assert.equal(alice.service.repo.message(sent.id)?.state, 'aborted');
    });
  });

  test("the relay's storage error is a retryable verdict: the row waits as queued, then is sent once the store recovers", async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice');
      await online(alice);
      // Another writer holds the relay's database: the relay cannot commit the send.
      const holder = new Database(relayDbPath(w.dataDir));
      let held = true;
      try {
        holder.pragma('busy_timeout = 0');
        holder.exec('BEGIN IMMEDIATE');
        const result = await alice.service.send({ to: 'bob', body: 'stored later', wait_ms: 30_000 });
        assert.equal(result.status, 'queued');
        assert.equal(result.reason_code, 'deferred');
        assert.match(result.reason ?? '', /^the relay deferred it: relay storage error; /);
        const row = alice.service.repo.outboxById(result.id)!;
        assert.ok(row.state === 'pending' || row.state === 'inflight', `not dead: ${row.state}`);
        holder.exec('ROLLBACK');
        held = false;
        const done = await untilRow(alice, result.id, 'done');
        assert.equal(done.verdict, 'sent');
        assert.equal(alice.service.repo.message(result.id)?.state, 'sent');
      } finally {
        if (held) holder.exec('ROLLBACK');
        holder.close();
      }
    });
  });

  test('a message whose frame is over the limit dies in the drain, and the messages behind it are sent', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice', { sync: false });
      // A control character takes six bytes once JSON-encoded: this body is far over the limit.
      const huge = storeOutbound(alice, 'bob', '\u0001'.repeat(RELAY_MAX_FRAME_BYTES / 4));
      const behind = storeOutbound(alice, 'bob', 'behind it');
      const waiter = alice.sync.awaitVerdict(huge, 60_000);
      alice.sync.start();
      const dead = await untilRow(alice, huge, 'dead');
      assert.match(dead.last_error ?? '', new RegExp(`bytes once encoded; the relay takes at most ${RELAY_MAX_FRAME_BYTES}`));
      assert.equal(dead.attempts, 0, 'never sent');
      assert.equal(alice.service.repo.message(huge)?.state, 'failed');
      assert.equal(await waiter, undefined, 'its waiter is woken');
      await untilRow(alice, behind, 'done');
      assert.equal(alice.sync.isOnline(), true, 'the link was never closed by an oversize frame');
    });
  });
});

// ---- the relay cursor ----------------------------------------------------------------------

describe('the relay cursor', () => {

  test('advances with each committed delivery, is stored, and is what the next hello resumes from', async (t) => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const cursors = helloCursors(t);
      const alice = await w.core('alice');
      const bobHome = w.homeOf('bob');
      let bob = await w.core('bob', { home: bobHome });
      await Promise.all([online(alice), online(bob)]);
      for (const body of ['one', 'two']) await alice.service.send({ to: 'bob', body, wait_ms: 10_000 });
      await waitFor('two deliveries', () => (inboxOf(bob).length === 2 ? true : undefined));
      const cursor = Number(await waitFor('the cursor to be stored', () => bob.service.repo.getState('relay_cursor')));
      assert.ok(cursor >= 2, `cursor ${cursor}`);
      // A reconnect in the same process resumes from the cursor it holds.
      const before = cursors.length;
      bob.sync.reconnect();
      await waitFor('bob to reconnect', () => (cursors.length > before && bob.sync.isOnline() ? true : undefined));
      assert.equal(cursors.at(-1), cursor);
      // Messages sent while bob's core is down arrive after its restart, none twice, none lost.
      await bob.stop();
      for (const body of ['three', 'four']) await alice.service.send({ to: 'bob', body, wait_ms: 10_000 });
      bob = await w.core('bob', { home: bobHome });
      assert.equal(cursors.at(-1), cursor, 'a restarted core resumes from the cursor it stored');
      const all = await waitFor('four messages', () => (inboxOf(bob).length === 4 ? inboxOf(bob) : undefined));
      assert.deepEqual(all.map((m: Message) => m.body).sort(), ['four', 'one', 'three', 'two']);
      assert.ok(Number(await waitFor('the cursor to advance', () => (Number(bob.service.repo.getState('relay_cursor')) > cursor ? bob.service.repo.getState('relay_cursor') : undefined))) > cursor);
    });
  });
});

describe('acks and the sync times', () => {
  /** The relay's committed cursor for one device, read from its store by a connection of its own. */
  function relayAcked(dataDir: string, user: string, device: string): number {
    const db = new Database(relayDbPath(dataDir), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT acked FROM devices WHERE user = ? AND device = ?').pluck().get(user, device) as number | undefined) ?? 0;
    } finally {
      db.close();
    }
  }

  test('stored deliveries are acked up to the stored cursor; a verdict stamps last_ack_at and a delivery last_inbound_at, neither the other', async () => {
    await withWorld(['alice', 'bob'], {}, async (w) => {
      const alice = await w.core('alice');
      const bob = await w.core('bob');
      await Promise.all([online(alice), online(bob)]);
      for (const body of ['one', 'two']) assert.equal((await alice.service.send({ to: 'bob', body, wait_ms: 10_000 })).status, 'sent');
      await waitFor('two deliveries', () => (inboxOf(bob).length === 2 ? true : undefined));
      const cursor = Number(bob.service.repo.getState('relay_cursor'));
      assert.ok(cursor >= 2, `cursor ${cursor}`);
      // Without the ack the relay would send both again on every reconnect and count them against bob's quota.
      await waitFor("the relay to hold bob's ack", () => (relayAcked(w.dataDir, 'bob', 'bob-core') === cursor ? true : undefined));
      // alice had verdicts (and receipts, which are not messages); bob had messages and no verdict.
      assert.notEqual(alice.service.repo.getState('last_ack_at') ?? null, null, "alice's last_ack_at");
      assert.equal(alice.service.repo.getState('last_inbound_at') ?? null, null, "alice's last_inbound_at");
      assert.notEqual(bob.service.repo.getState('last_inbound_at') ?? null, null, "bob's last_inbound_at");
      assert.equal(bob.service.repo.getState('last_ack_at') ?? null, null, "bob's last_ack_at");
      assert.deepEqual(
        { ack: bob.sync.status().last_ack_at, inbound: bob.sync.status().last_inbound_at },
        { ack: null, inbound: bob.service.repo.getState('last_inbound_at') },
      );
    });
  });
});

// ---- the relay's rate limit keeps order ----------------------------------------------------

describe("the relay's rate limit", () => {
  test('after a refusal, later sends wait for the refused one to be resent, so order is kept; the hold ends at 5 s', async (t) => {
    await withWorld(['alice', 'bob'], { ratePerSecond: 2 }, async (w) => {
      // The rate limiter reads performance.now; the order hold reads Date.now. Both are stepped here.
      let perf = performance.now();
      let wall = Date.now();
      t.mock.method(performance, 'now', () => perf);
      t.mock.method(Date, 'now', () => wall);
      const alice = await w.client('alice', 'a');
      const bob = await w.client('bob', 'b');
      const verdict = async (cid: string) => {
        alice.sendMessage('bob', cid, cid);
        return alice.next('verdict');
      };
      assert.equal((await verdict('m1')).result, 'accepted');
      assert.equal((await verdict('m2')).result, 'accepted');
      const refused = await verdict('m3');
      assert.ok(refused.result === 'rejected' && refused.retryable && /rate limit exceeded/.test(refused.reason), JSON.stringify(refused));
      perf += 1000; // the bucket is full again
      const held = await verdict('m4');
      assert.ok(held.result === 'rejected' && held.retryable && /an earlier message was refused; resend it first/.test(held.reason), JSON.stringify(held));
      assert.equal((await verdict('m3')).result, 'accepted', 'the refused one, resent');
      const m4 = await verdict('m4');
      assert.equal(m4.result, 'accepted', JSON.stringify(m4));
      const delivered = await bob.take('deliver', 4);
      assert.deepEqual(delivered.map((d) => (d.item.kind === 'message' ? d.item.message.client_message_id : '')), ['m1', 'm2', 'm3', 'm4']);

      assert.equal((await verdict('m5')).result, 'rejected', 'the bucket is empty');
      perf += 1000;
      wall += 4999;
      assert.match(JSON.stringify(await verdict('m6')), /resend it first/, 'still held at 4999 ms');
      wall += 1;
      assert.equal((await verdict('m6')).result, 'accepted', 'the hold has expired at exactly 5 s: m5 was never resent, m6 flows');
    });
  });
});

// ---- a retryable refusal is always sent again --------------------------------------------

describe('a send the relay refused as retryable', () => {
  test('is sent again even when a drain that found nothing to claim finishes after the refusal put it back to pending', async (t) => {
    await withWorld(['alice', 'bob'], { ratePerSecond: 1 }, async (w) => {
      const alice = await w.core('alice');
      await online(alice);
      // A drain starts (a new send, a timer) as the verdicts arrive: its claim runs in the same
      // batch, just before the verdicts are stored, so it finds every row still in flight.
      type Inbound = { storeInbound(link: RelayLink): Promise<void> };
      const engine = SyncEngine.prototype as unknown as Inbound;
      const storeInbound = engine.storeInbound;
      t.mock.method(engine, 'storeInbound', function (this: SyncEngine, link: RelayLink) {
        this.kick();
        return storeInbound.call(this, link);
      });
      assert.equal((await alice.service.send({ to: 'bob', body: 'first', wait_ms: 10_000 })).status, 'sent');
      const refused = await alice.service.send({ to: 'bob', body: 'second', wait_ms: 10_000 });
      assert.match(refused.reason ?? '', /rate limit exceeded/, JSON.stringify(refused));
      const row = await untilRow(alice, refused.id, 'done');
      assert.equal(row.verdict, 'sent');
    });
  });
});
