/**
 * Defects 6 and 7 end to end: a real relay process, real cores (each its own home and SQLite
 * store), the real CLI, and a hostile peer speaking raw relay frames, all on 127.0.0.1.
 * Ages and limits are made small with the relay's and the core's own flags; every wait is a
 * bounded poll, every process is killed by its PID, every temp dir is removed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ErrorCodes, type ConversationMessagesResult, type CoreStatus, type Message, type OutboxListResult, type SendResult } from '../../protocol/rpc';
import { RELAY_PROTOCOL_V6, type DeliverFrame, type VerdictFrame } from '../../protocol/relay';
import { killAllRelays, RawRelayClient, TestRelay, publishHomeKeys } from '../support/relay';
import { homePaths } from '../../lib/node/paths';
import { kill9, run, startCore, tempHome } from '../support/cli';
import { sleep, waitFor, withClient } from '../support/wait';

const children = new Set<ChildProcess>();
const cleanups: (() => void | Promise<void>)[] = [];
const rawClients: RawRelayClient[] = [];

after(async () => {
  for (const client of rawClients.splice(0)) await client.closeAndWait().catch(() => undefined);
  for (const child of [...children]) await kill9(child);
  await killAllRelays();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const call = <T>(home: string, method: string, params: unknown) => withClient(home, 'ledger-test', (c) => c.call(method, params) as Promise<T>);
const coreStatus = (home: string) => call<CoreStatus>(home, 'status/get', {});
const getMessage = (home: string, id: string) => call<Message>(home, 'message/get', { id });
const send = (home: string, to: string, text: string, waitMs = 10_000) => call<SendResult>(home, 'message/send', { to, body: text, wait_ms: waitMs });
const thread = async (home: string, peer: string) => (await call<ConversationMessagesResult>(home, 'conversation/messages', { peer, limit: 1000 })).messages;

function waitOnline(home: string): Promise<CoreStatus> {
  return waitFor(`${home} online`, async () => {
    const s = await coreStatus(home);
    return s.sync.state === 'online' ? s : undefined;
  });
}

interface Side {
  user: string;
  home: string;
  core: ChildProcess | undefined;
}

async function side(relay: TestRelay, user: string): Promise<Side> {
  const { home, cleanup } = tempHome(`sb-${user}-`);
  cleanups.push(cleanup);
  await relay.configureHome(home, user);
  return { user, home, core: undefined };
}

async function up(s: Side, extraArgs: string[] = []): Promise<void> {
  const child = await startCore(s.home, extraArgs);
  children.add(child);
  child.once('exit', () => children.delete(child));
  s.core = child;
  await waitOnline(s.home);
}

async function down(s: Side): Promise<void> {
  if (s.core) await kill9(s.core);
  s.core = undefined;
}

async function newRelay(args: string[] = []): Promise<TestRelay> {
  const relay = new TestRelay({ extraArgs: args });
  cleanups.push(() => relay.dispose());
  await relay.start();
  return relay;
}

/**
 * A peer that writes its own frames: it chooses every id a well-behaved core would mint. It
 * publishes a device record first (from an identity of its own), so cores can seal for it.
 */
async function hostile(relay: TestRelay, user: string): Promise<RawRelayClient> {
  const token = await relay.addUser(user);
  const { home, cleanup } = tempHome(`sb-${user}-keys-`);
  cleanups.push(cleanup);
  await publishHomeKeys(relay.url, user, token, home, `${user}-device`);
  const client = await RawRelayClient.login(relay.url, user, token, `${user}-device`, 0, RELAY_PROTOCOL_V6);
  rawClients.push(client);
  return client;
}

function reuse(client: RawRelayClient, to: string, id: string, text: string, cmid: string): Promise<VerdictFrame> {
  client.sendMessage(to, text, cmid, { id });
  return client.next('verdict', 10_000);
}

/** Counts rows of a relay table through a read-only connection (WAL lets it read beside the relay). */
function relayRows(relay: TestRelay, sql: string): number {
  const db = new Database(join(relay.dataDir, 'relay.db'), { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('message ids cannot be taken over (defect 6)', () => {
  test('the relay refuses an id another sender used, for a sent and a received message', async () => {
    const relay = await newRelay();
    const [alice, bob] = [await side(relay, 'alice'), await side(relay, 'bob')];
    await Promise.all([up(alice), up(bob)]);
    const mallory = await hostile(relay, 'mallory');

    const sent = await send(alice.home, 'mallory', 'alice: the original');
    assert.equal(sent.status, 'sent');
    const seen = (await mallory.next('deliver', 10_000)) as DeliverFrame;
    assert.equal(seen.item.kind === 'message' && seen.item.message.id, sent.id, 'mallory learns the id of the message alice sent her');
    const fromBob = await send(bob.home, 'alice', 'bob: the original');
    assert.equal(fromBob.status, 'sent');

    for (const [id, cmid] of [
      [sent.id, 'takeover-sent'],
      [fromBob.id, 'takeover-received'],
    ] as const) {
      const verdict = await reuse(mallory, 'alice', id, 'mallory: hostile', cmid);
      assert.equal(verdict.result, 'rejected', `the relay took id ${id} from mallory`);
      if (verdict.result === 'rejected') {
        assert.equal(verdict.retryable, false);
        assert.equal(verdict.code, 'id_taken');
        assert.match(verdict.reason, /already used by another message/);
      }
    }
    // A fresh id goes through: the refusal is about the id, not about mallory.
    assert.equal((await reuse(mallory, 'alice', 'mallory-own-id', 'mallory: hello', 'fresh')).result, 'accepted');
    await waitFor('mallory\'s own message at alice', async () => ((await thread(alice.home, 'mallory')).length === 2 ? true : undefined));
    assert.equal((await getMessage(alice.home, sent.id)).body, 'alice: the original');
    assert.equal((await getMessage(alice.home, fromBob.id)).body, 'bob: the original');
    await Promise.all([down(alice), down(bob)]);
  });

  test('past the relay\'s dedupe window the core still keeps each id with its original; messages to oneself keep both copies', async () => {
    // A relay that forgets sends after a second: the core must protect itself without it.
    const relay = await newRelay(['--retention', '1s', '--dedupe-window', '1s']);
    const [alice, bob] = [await side(relay, 'alice'), await side(relay, 'bob')];
    await Promise.all([up(alice), up(bob)]);
    const mallory = await hostile(relay, 'mallory');

    const sent = await send(alice.home, 'mallory', 'alice: the original');
    const fromBob = await send(bob.home, 'alice', 'bob: the original');
    const toSelf = await send(alice.home, 'alice', 'alice: a note to self');
    assert.deepEqual([sent.status, fromBob.status, toSelf.status], ['sent', 'sent', 'sent']);
    await waitFor('bob\'s message at alice', async () => ((await thread(alice.home, 'bob')).length === 1 ? true : undefined));

    // Bounded polling: each attempt is a new send (new client id) until the relay has pruned
    // the dedupe row that owns the id and accepts it.
    let attempt = 0;
    const acceptedReuse = async (id: string, label: string) =>
      waitFor(`the relay to forget id ${id}`, async () => {
        const verdict = await reuse(mallory, 'alice', id, `mallory: hostile ${label}`, `${label}-${attempt++}`);
        return verdict.result === 'accepted' ? verdict : undefined;
      }, 30_000, 200);
    const inboundFromMallory = (count: number) =>
      waitFor(`${count} hostile message(s) at alice`, async () => {
        const messages = await thread(alice.home, 'mallory');
        return messages.filter((m) => m.direction === 'in').length >= count ? messages : undefined;
      });
    // Over an id alice sent: her message must keep it (the old code let `read` show mallory's).
    const overSent = await acceptedReuse(sent.id, 'sent');
    await inboundFromMallory(1);
    assert.equal((await getMessage(alice.home, sent.id)).body, 'alice: the original', 'read <id> shows alice\'s own message');
    // Over an id alice received from bob: bob's keeps it, and mallory's is kept too, not dropped.
    const overReceived = await acceptedReuse(fromBob.id, 'received');
    assert.equal(overSent.result === 'accepted' && overReceived.result === 'accepted', true);

    const malloryThread = await inboundFromMallory(2);
    // The thread holds alice's message once, untouched, and mallory's two under their server ids.
    assert.deepEqual(
      malloryThread.map((m) => [m.direction, m.body]),
      [
        ['out', 'alice: the original'],
        ['in', 'mallory: hostile sent'],
        ['in', 'mallory: hostile received'],
      ],
    );
    const [original, hostileSent, hostileReceived] = malloryThread;
    assert.equal(original!.id, sent.id);
    assert.equal(hostileSent!.id, overSent.result === 'accepted' ? overSent.server_id : '');
    assert.equal(hostileReceived!.id, overReceived.result === 'accepted' ? overReceived.server_id : '');
    assert.equal(new Set(malloryThread.map((m) => m.id)).size, 3, 'every message of the thread has its own id');

    // What alice types: `read <id>` shows her own message, and bob's, as before.
    const readSent = await run(alice.home, ['read', sent.id, '--json']);
    assert.equal(readSent.code, 0, readSent.stderr);
    assert.equal((JSON.parse(readSent.stdout) as Message).body, 'alice: the original');
    assert.equal((await getMessage(alice.home, fromBob.id)).body, 'bob: the original');
    assert.deepEqual((await thread(alice.home, 'bob')).map((m) => m.body), ['bob: the original']);
    // The hostile ones are read (and replied to) by the id the thread shows.
    assert.equal((await getMessage(alice.home, hostileSent!.id)).body, 'mallory: hostile sent');

    // A message to oneself: one id, both copies, `read` shows the inbound one.
    const selfThread = await thread(alice.home, 'alice');
    assert.deepEqual(selfThread.map((m) => [m.id, m.direction]).sort(), [[toSelf.id, 'in'], [toSelf.id, 'out']]);
    assert.equal((await getMessage(alice.home, toSelf.id)).direction, 'in');
    await Promise.all([down(alice), down(bob)]);
  });
});

describe('quotas and retention (defect 7)', () => {
  test('a full recipient: the relay refuses with quota, the sender keeps it queued and says why, others flow; accepted once the recipient drains', async () => {
    const relay = await newRelay(['--quota-messages', '2']);
    const [alice, bob] = [await side(relay, 'alice'), await side(relay, 'bob')];
    await up(alice); // bob stays offline: his messages wait at the relay

    assert.equal((await send(alice.home, 'bob', 'one')).status, 'sent');
    assert.equal((await send(alice.home, 'bob', 'two')).status, 'sent');
    const third = await send(alice.home, 'bob', 'three');
    assert.equal(third.status, 'queued');
    assert.equal(third.reason_code, 'deferred');
    assert.match(third.reason ?? '', /^the relay deferred it: quota: "bob" already has 2 undelivered messages/);

    const listed = await run(alice.home, ['outbox', 'list', '--state', 'pending']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`pending\\s+${third.id}.*last error: quota: "bob" already has 2 undelivered messages`));
    const status = await coreStatus(alice.home);
    assert.equal(status.sync.held.length, 1);
    assert.equal(status.sync.held[0]!.to, 'bob');
    assert.match(status.sync.held[0]!.reason, /^quota:/);
    const statusText = await run(alice.home, ['status']);
    assert.match(statusText.stdout, /held for bob until .*: quota: "bob" already has 2 undelivered messages/);

    // bob being full holds back only bob's messages.
    assert.equal((await send(alice.home, 'alice', 'to myself meanwhile')).status, 'sent');

    await up(bob);
    const inbound = await waitFor('all three at bob', async () => {
      const messages = (await thread(bob.home, 'alice')).filter((m) => m.direction === 'in');
      return messages.length === 3 ? messages : undefined;
    }, 60_000, 200);
    assert.deepEqual(inbound.map((m) => m.body), ['one', 'two', 'three']);
    const after = await waitFor('alice\'s outbox to settle', async () => {
      const s = await coreStatus(alice.home);
      return s.outbox.pending === 0 && s.outbox.inflight === 0 && s.sync.held.length === 0 ? s : undefined;
    });
    assert.equal(after.sync.held.length, 0, 'the hold is lifted once bob took one');
    await Promise.all([down(alice), down(bob)]);
  });

  test('an undelivered message expires: the sender\'s outbox shows it expired; the relay prunes what no one needs', async () => {
    const relay = await newRelay(['--retention', '1s', '--dedupe-window', '2s']);
    const [alice, bob] = [await side(relay, 'alice'), await side(relay, 'bob')];
    await up(alice); // bob is offline for longer than the retention

    const lost = await send(alice.home, 'bob', 'never picked up');
    assert.equal(lost.status, 'sent');
    const expired = await waitFor('the message to expire', async () => {
      const { items } = await call<OutboxListResult>(alice.home, 'outbox/list', { state: 'expired' });
      return items.find((item) => item.id === lost.id);
    }, 30_000, 200);
    assert.match(expired.last_error ?? '', /^expired: the relay held it for its whole retention and no device of bob took it/);
    assert.equal((await getMessage(alice.home, lost.id)).state, 'failed');

    const listed = await run(alice.home, ['outbox', 'list']);
    assert.match(listed.stdout, new RegExp(`expired\\s+${lost.id}`));
    const status = await coreStatus(alice.home);
    assert.equal(status.outbox.expired, 1);
    assert.match((await run(alice.home, ['status'])).stdout, /1 expired/);
    // bob comes back: the expired message is gone; a requeued copy (new id) arrives.
    await up(bob);
    const requeued = await run(alice.home, ['outbox', 'requeue', lost.id]);
    assert.equal(requeued.code, 0, requeued.stderr);
    const inbound = await waitFor('the requeued copy at bob', async () => {
      const messages = (await thread(bob.home, 'alice')).filter((m) => m.direction === 'in');
      return messages.length >= 1 ? messages : undefined;
    });
    assert.deepEqual(inbound.map((m) => m.body), ['never picked up']);
    assert.notEqual(inbound[0]!.id, lost.id, 'only the copy, under its new id');

    // Delivered items, dedupe rows and receipt markers all go once past their windows.
    await waitFor('the relay to prune', () => {
      const left = {
        deliveries: relayRows(relay, 'SELECT count(*) AS n FROM deliveries'),
        dedupe: relayRows(relay, 'SELECT count(*) AS n FROM dedupe'),
        receipts: relayRows(relay, 'SELECT count(*) AS n FROM receipts_sent'),
      };
      return left.deliveries + left.dedupe + left.receipts === 0 ? left : undefined;
    }, 30_000, 200);
    assert.equal(relayRows(relay, 'SELECT coalesce(sum(messages), 0) AS n FROM undelivered'), 0);
    await Promise.all([down(alice), down(bob)]);
  });

  test('core events are pruned after --event-retention; a stale cursor is told to resync, not left in silence', async () => {
    const { home, cleanup } = tempHome('sb-events-');
    cleanups.push(cleanup);
    const core = await startCore(home, ['--event-retention', '1s']);
    children.add(core);
    try {
      for (const text of ['makes an event', 'and another']) assert.equal((await call<SendResult>(home, 'message/send', { to: 'bob', body: text })).status, 'queued');
      const newest = await withClient(home, 'ledger-test', async (c) => ((await c.call('events/subscribe', { since: 0 })) as { cursor: number }).cursor);
      assert.ok(newest >= 2);
      const stale = await waitFor('the events to be pruned', async () => {
        try {
          await call(home, 'events/subscribe', { since: 1 });
          return undefined;
        } catch (error) {
          return error as { code: number; message: string; data?: { kind: string; pruned_through: number } };
        }
      }, 30_000, 200);
      assert.equal(stale.code, ErrorCodes.CursorTooOld);
      assert.equal(stale.data?.kind, 'cursor_too_old');
      assert.ok((stale.data?.pruned_through ?? 0) >= newest);
      assert.match(stale.message, /cursor 1 is too old.*resync/);
      // The rows are gone, and the newest cursor is still the newest ever written.
      const db = new Database(homePaths(home).store, { readonly: true });
      try {
        assert.equal((db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 0);
      } finally {
        db.close();
      }
      assert.equal(await withClient(home, 'ledger-test', async (c) => ((await c.call('events/subscribe', {})) as { cursor: number }).cursor), stale.data?.pruned_through);
      // A cursor at the pruned edge misses nothing and is fine; so is 0 (whatever is kept).
      await call(home, 'events/subscribe', { since: stale.data?.pruned_through });
      await call(home, 'events/subscribe', { since: 0 });
      // The CLI says so in one line.
      const follow = await run(home, ['inbox', '--follow', '--since', '1'], { timeoutMs: 15_000 });
      assert.equal(follow.code, 1);
      assert.match(follow.stderr, /cursor 1 is too old.*resync/);
    } finally {
      await kill9(core);
    }
  });
});
