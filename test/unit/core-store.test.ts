/** The core's store: group commit's hooks, the outbox queries' plans, the v1 → v2 migration. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, schemaVersion, type Db } from '../../server/store/db';
import { MIGRATIONS } from '../../server/store/migrations';
import { PeerTouches } from '../../server/store/peer-touches';
import { Repository } from '../../server/store/repository';
import { WriteBatcher } from '../../lib/node/write-batcher';
import { openTempStore, type TempStore } from '../support/store';
import { directStoreFields } from '../support/messages';

let store: TempStore;
let db: Db;
let repo: Repository;
let writes: WriteBatcher;

beforeEach(() => {
  ({ db, repo } = store = openTempStore('sb-store-'));
  writes = new WriteBatcher(db);
});

afterEach(() => store.close());

const stateOf = (key: string) => repo.getState(key);

describe('WriteBatcher hooks', () => {
  test('after-commit actions run once the batch commits, in write order, before any caller hears back', async () => {
    const seen: string[] = [];
    const first = writes.run(() => {
      repo.setState('a', '1');
      writes.afterCommit(() => seen.push(`after a (committed: ${readCommitted('a')})`));
    });
    const second = writes.run(() => writes.afterCommit(() => seen.push('after b')));
    void first.then(() => seen.push('caller a'));
    await Promise.all([first, second]);
    assert.deepEqual(seen, ['after a (committed: 1)', 'after b', 'caller a']);
  });

  test('a write that throws takes its after-commit actions with it (their fallbacks run); its neighbours keep theirs', async () => {
    const seen: string[] = [];
    const failing = writes.run(() => {
      repo.setState('lost', 'x');
      writes.afterCommit(
        () => seen.push('failed write'),
        () => seen.push('failed write: fallback'),
      );
      throw new Error('boom');
    });
    const fine = writes.run(() => {
      repo.setState('kept', 'y');
      writes.afterCommit(() => seen.push('fine write'));
    });
    await assert.rejects(failing, /boom/);
    await fine;
    assert.deepEqual(seen, ['failed write: fallback', 'fine write']);
    assert.equal(stateOf('lost'), undefined);
    assert.equal(stateOf('kept'), 'y');
  });

  test('a failed commit runs no after-commit action and rejects every write of the batch', async () => {
    const seen: string[] = [];
    const a = writes.run(() =>
      writes.afterCommit(
        () => seen.push('a'),
        () => seen.push('a: fallback'),
      ),
    );
    // A before-commit write runs outside the savepoints: its failure is the batch's failure.
    const b = writes.run(() =>
      writes.beforeCommit('fails', () => {
        throw new Error('disk full');
      }),
    );
    await assert.rejects(a, /disk full/);
    await assert.rejects(b, /disk full/);
    assert.deepEqual(seen, ['a: fallback']);
    // The batcher carries on with the next batch.
    await writes.run(() => repo.setState('after', 'ok'));
    assert.equal(stateOf('after'), 'ok');
  });

  test('before-commit writes run once per batch and key, last, inside the transaction', async () => {
    let runs = 0;
    let latest = '';
    const write = (value: string) =>
      writes.run(() => {
        latest = value;
        writes.beforeCommit('cursor', () => {
          runs++;
          repo.setState('cursor', latest);
        });
      });
    await Promise.all([write('1'), write('2'), write('3')]);
    assert.equal(runs, 1, 'three writes in one batch share one before-commit write');
    assert.equal(stateOf('cursor'), '3');
    await write('4');
    assert.equal(runs, 2, 'the next batch gets its own');
    assert.equal(stateOf('cursor'), '4');
  });
});

describe('WriteBatcher with the fsync off the event loop', () => {
  test('the connection stops fsyncing on commit; writes, hooks and events are told only after the batcher has synced', async () => {
    const offThread = new WriteBatcher(db, { syncOffThread: true });
    assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL: the batcher does the fsync');
    const seen: string[] = [];
    offThread.onCommit = () => seen.push('onCommit');
    const write = offThread.run(() => {
      repo.setState('k', 'v');
      offThread.afterCommit(() => seen.push('after commit'));
    });
    void write.then(() => seen.push('caller'));
    const idle = offThread.idle().then(() => seen.push('idle'));
    await Promise.all([write, idle]);
    assert.deepEqual(seen, ['after commit', 'onCommit', 'caller', 'idle']);
    assert.equal(stateOf('k'), 'v');
    offThread.dispose();
  });

  test('a failed sync rejects its writes and every later one, and tells the owner once', async () => {
    const offThread = new WriteBatcher(db, { syncOffThread: true });
    const lost: Error[] = [];
    offThread.onDurabilityLost = (error) => lost.push(error);
    // The batcher opens the WAL by name at its first sync: gone, it cannot sync.
    await writes.run(() => repo.setState('before', '1'));
    rmSync(`${db.name}-wal`);
    let fallback = false;
    const write = offThread.run(() => {
      repo.setState('k', 'v');
      offThread.afterCommit(
        () => assert.fail('never durable, so never acted on'),
        () => (fallback = true),
      );
    });
    await assert.rejects(write, /could not be made durable/);
    assert.equal(fallback, true);
    await assert.rejects(offThread.run(() => repo.setState('k2', 'v')), /could not be made durable/);
    assert.equal(lost.length, 1);
    await offThread.idle();
  });
});

/** What another connection sees: only committed data. */
function readCommitted(key: string): string | undefined {
  const reader = new Database(join(store.home, 'store.db'), { readonly: true });
  try {
    return (reader.prepare('SELECT value FROM sync_state WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  } finally {
    reader.close();
  }
}

describe('peer last-seen writes', () => {
  test('at most once a second per peer, and only counted once the write commits', async () => {
    const peers = new PeerTouches(repo, writes);
    const now = '2026-01-01T00:00:00.000Z';
    await assert.rejects(
      writes.run(() => {
        peers.touch('bob', now);
        throw new Error('rolled back');
      }),
    );
    assert.deepEqual(repo.peers(), [], 'the rolled-back touch wrote nothing');
    await writes.run(() => peers.touch('bob', now));
    assert.deepEqual(repo.peers().map((p) => p.name), ['bob'], 'so the next touch was not skipped');
    await writes.run(() => peers.touch('bob', '2026-01-01T00:00:00.500Z'));
    assert.equal(repo.peers()[0]!.last_at, now, 'a touch within the second is skipped');
  });
});

describe('outbox queries', () => {
  // The statements are private to the repository; their SQL is read back from it here.
  const statements = () => (repo as unknown as { s: Record<string, { source: string }> }).s;
  const plan = (name: string, ...args: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${statements()[name]!.source}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');

  test('the sync engine and the outbox lists read open rows through the index, never the whole outbox', () => {
    // A scan here once made every drain read every message ever sent.
    for (const [name, args] of [
      ['outboxClaim', [10]],
      ['anyPending', []],
      ['outboxListOpen', ['dead']],
      ['outboxReleaseInflight', ['now']],
      ['outboxOpenCounts', []],
      ['outboxClaimExcept', ['["bob"]', 10]],
    ] as const) {
      const detail = plan(name, ...args);
      assert.match(detail, /INDEX outbox_open/, `${name}: ${detail}`);
      assert.doesNotMatch(detail, /TEMP B-TREE/, `${name}: ${detail}`);
    }
    assert.doesNotMatch(plan('outboxList'), /TEMP B-TREE/, 'the full list reads newest first without sorting');
  });

  test('a message is read by id in index order, the inbound copy first, with no sort', async () => {
    for (const name of ['messageById', 'messageSeq', 'inboundByServerId', 'idHolders']) assert.doesNotMatch(plan(name, 'x'), /TEMP B-TREE|SCAN/, name);
    // The event pump reads each event's message by index too, in the same statement.
    assert.doesNotMatch(plan('eventsWithMessages', 0, 10), /TEMP B-TREE|SCAN m|SCAN messages/, plan('eventsWithMessages', 0, 10));
    const now = new Date().toISOString();
    const self = { id: 'm', client_message_id: 'c', server_id: null, conversation: 'me', from: 'me', to: 'me', body: 'note to self', reply_to: null, request_id: null, created_at: now, read: true };
    await writes.run(() => {
      repo.insertMessage({ ...self, direction: 'out', state: 'sent', ...directStoreFields('out') });
      repo.insertMessage({ ...self, direction: 'in', state: 'received', ...directStoreFields('in') });
    });
    assert.equal(repo.message('m')?.direction, 'in');
    await writes.run(() => {
      repo.addEvent('message/received', 'm', now);
      repo.addEvent('outbox/changed', 'gone', now);
    });
    const events = repo.eventsWithMessages(0, 10);
    assert.deepEqual(
      events.map((e) => [e.type, e.ref, e.message?.direction]),
      [
        ['message/received', 'm', 'in'],
        ['outbox/changed', 'gone', undefined],
      ],
    );
    assert.deepEqual(events[0]!.message, repo.message('m'));
  });

  test('lists and counts agree with the rows, done ones included', async () => {
    const now = new Date().toISOString();
    await writes.run(() => {
      for (const [i, state] of (['pending', 'inflight', 'done', 'done', 'dead'] as const).entries()) {
        repo.insertOutbox({ client_message_id: `c${i}`, id: `m${i}`, fingerprint: 'f', now, inflight: state === 'inflight' });
        if (state === 'done') repo.recordOutboxVerdict(`m${i}`, 'sent', `s${i}`, now);
        if (state === 'dead') repo.recordOutboxFailure(`m${i}`, 'dead', 'gave up', now);
      }
    });
    assert.deepEqual(repo.outboxCounts(), { pending: 1, inflight: 1, done: 2, dead: 1, aborted: 0, expired: 0 });
    assert.deepEqual(repo.outboxOpenCounts(), { pending: 1, inflight: 1, done: 0, dead: 1, aborted: 0, expired: 0 });
    assert.deepEqual(repo.outboxRows('done').map((r) => r.id), ['m3', 'm2']);
    assert.deepEqual(repo.outboxRows().map((r) => r.id), ['m4', 'm3', 'm2', 'm1', 'm0']);
    assert.equal(repo.hasPendingOutbox(), true);
    assert.equal(repo.recordOutboxVerdict('m2', 'sent', 'again', now), false, 'a second verdict for a done row changes nothing');
  });
});

describe('message rows', () => {
  test('a message reads back field for field as it was stored (each value in its own column)', async () => {
    const now = new Date().toISOString();
    await writes.run(() =>
      repo.insertMessage({
        id: 'm1',
        client_message_id: 'c1',
        server_id: 's1',
        conversation: '#team',
        direction: 'in',
        from: 'bob.helper',
        to: '#team',
        body: 'hello @me',
        reply_to: 'r1',
        request_id: 'q1',
        created_at: now,
        state: 'received',
        read: false,
        group_id: 'g1',
        mentions: ['me'],
        mentions_me: true,
        from_owner: 'bob',
      }),
    );
    const { attachments, receipts, ...stored } = repo.message('m1')!;
    assert.deepEqual(stored, {
      id: 'm1', client_message_id: 'c1', server_id: 's1', conversation: '#team', direction: 'in', from: 'bob.helper', to: '#team',
      body: 'hello @me', reply_to: 'r1', request_id: 'q1', created_at: now, state: 'received', read: false, group: 'team',
      mentions: ['me'], mentions_me: true, from_owner: 'bob',
    });
    assert.deepEqual([attachments, receipts], [[], null]);
  });

  test("a receipt's check reads an outbound message's server id: null before its verdict, none for an inbound copy or an unknown id", async () => {
    const now = new Date().toISOString();
    const m = { id: 'm', client_message_id: 'c', server_id: null, conversation: 'bob', from: 'me', to: 'bob', body: 'hi', reply_to: null, request_id: null, created_at: now };
    await writes.run(() => repo.insertMessage({ ...m, direction: 'in', state: 'received', read: false, ...directStoreFields('in') }));
    assert.equal(repo.outboundServerId('m'), undefined, 'an inbound message is no outbound one');
    assert.equal(repo.outboundServerId('nope'), undefined);
    await writes.run(() => repo.insertMessage({ ...m, direction: 'out', state: 'queued', read: true, ...directStoreFields('out') }));
    assert.deepEqual(repo.outboundServerId('m'), { server_id: null });
    await writes.run(() => repo.setMessageState('m', 'sent', 's9'));
    assert.deepEqual(repo.outboundServerId('m'), { server_id: 's9' });
  });
});

describe('migration 2', () => {
  test('a version-1 store keeps its rows and gets the open-outbox index', () => {
    const path = join(store.home, 'v1.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.prepare("INSERT INTO outbox (client_message_id, id, fingerprint, state, created_at, updated_at) VALUES ('c', 'm', 'f', 'pending', 'now', 'now')").run();
    old.close();
    const migrated = openStore(path, store.home);
    try {
      assert.equal(schemaVersion(migrated), MIGRATIONS.length);
      const indexes = (migrated.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'").all() as { name: string }[]).map((r) => r.name);
      assert.ok(indexes.includes('outbox_open'), indexes.join());
      assert.ok(!indexes.includes('outbox_live'), indexes.join());
      assert.equal(new Repository(migrated).hasPendingOutbox(), true);
    } finally {
      migrated.close();
    }
  });
});

describe('migrations 3 and 4 (message identity, expired outbox state)', () => {
  test('a version-2 store: a taken-over id is given back to its original; outbox rows keep their order and may expire', () => {
    const path = join(store.home, 'v2.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.exec(MIGRATIONS[1]!);
    old.pragma('user_version = 2');
    const insert = old.prepare(
      `INSERT INTO messages (id, client_message_id, server_id, conversation, direction, sender, recipient, body, created_at, state, read)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'now', ?, 0)`,
    );
    // bob's own message X, and mallory's message that reused X (stored by the old code).
    insert.run('X', 'c1', 'srv-bob', 'mallory', 'out', 'bob', 'mallory', 'original', 'sent');
    insert.run('X', 'c2', 'srv-mallory', 'mallory', 'in', 'mallory', 'bob', 'hostile', 'received');
    // A message to oneself: both copies keep the one id.
    insert.run('S', 'c3', 'srv-self', 'bob', 'out', 'bob', 'bob', 'note', 'sent');
    insert.run('S', 'c3', 'srv-self', 'bob', 'in', 'bob', 'bob', 'note', 'received');
    for (const [i, state] of ['done', 'pending', 'dead'].entries()) {
      old.prepare("INSERT INTO outbox (client_message_id, id, fingerprint, state, created_at, updated_at) VALUES (?, ?, 'f', ?, 'now', 'now')").run(`k${i}`, `o${i}`, state);
    }
    old.close();
    const migrated = openStore(path, store.home);
    try {
      assert.equal(schemaVersion(migrated), MIGRATIONS.length);
      const r = new Repository(migrated);
      assert.equal(r.message('X')?.body, 'original', 'read X shows bob\'s own message again');
      assert.equal(r.message('srv-mallory')?.body, 'hostile', 'the other one is known by its server id');
      assert.equal(r.message('S')?.direction, 'in');
      assert.equal(migrated.prepare("SELECT count(*) AS n FROM messages WHERE id = 'S'").get() && (migrated.prepare("SELECT count(*) AS n FROM messages WHERE id = 'S'").get() as { n: number }).n, 2);
      assert.equal(r.hasInboundServerId('srv-mallory'), true);
      assert.deepEqual(r.outboxRows().map((row) => row.id), ['o2', 'o1', 'o0'], 'newest first, as before the rebuild');
      migrated.prepare("UPDATE outbox SET state = 'expired' WHERE id = 'o0'").run();
      assert.equal(r.outboxCounts().expired, 1);
      const indexes = (migrated.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'").all() as { name: string }[]).map((row) => row.name);
      assert.ok(indexes.includes('outbox_open'), indexes.join());
    } finally {
      migrated.close();
    }
  });
});
