/**
 * Group commit's grouping and bookkeeping (lib/node/write-batcher.ts): which writes share a
 * transaction, when the owner hears of a commit, and when the off-thread fsync applies. Real
 * SQLite files; the batcher's age clock is frozen or stepped by the test, and its fdatasync is
 * held by the test where batches must queue behind it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { type Db } from '../../server/store/db';
import { Repository } from '../../server/store/repository';
import { WriteBatcher } from '../../lib/node/write-batcher';
import { waitFor } from '../support/wait';
import { openTempStore, type TempStore } from '../support/store';
import { frozenClock } from '../support/clock';

let store: TempStore;
let db: Db;
let repo: Repository;

beforeEach(() => ({ db, repo } = store = openTempStore('sb-batcher-')));

afterEach(() => store.close());

describe('which writes share a transaction', () => {
  test('writes of one turn are one commit; the callers get their own values back', async () => {
    const writes = new WriteBatcher(db);
    const commits: number[] = [];
    writes.onCommit = () => commits.push(writes.stats.commits);
    const values = await Promise.all([1, 2, 3].map((i) => writes.run(() => (repo.setState(`k${i}`, String(i)), i * 10))));
    assert.deepEqual(values, [10, 20, 30]);
    assert.deepEqual(writes.stats, { commits: 1, writes: 3 });
    assert.deepEqual(commits, [1], 'the owner hears once per commit');
  });

  test('while writes keep arriving turn after turn they wait for each other; the first quiet turn commits', async (t) => {
    frozenClock(t);
    const writes = new WriteBatcher(db);
    const all: Promise<unknown>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      all.push(writes.run(() => repo.setState(`k${turn}`, 'v')));
      await nextTurn();
    }
    assert.equal(writes.stats.commits, 0, 'still growing: nothing committed yet');
    await Promise.all(all);
    assert.deepEqual(writes.stats, { commits: 1, writes: 5 });
  });

  test('a batch waits for company 3 ms at most', async (t) => {
    const clock = frozenClock(t);
    const writes = new WriteBatcher(db);
    const first = writes.run(() => repo.setState('a', '1'));
    await nextTurn();
    clock.advance(2.9);
    const second = writes.run(() => repo.setState('b', '1'));
    await nextTurn();
    assert.equal(writes.stats.commits, 0, 'younger than 3 ms and growing: held');
    clock.advance(0.1);
    const third = writes.run(() => repo.setState('c', '1'));
    await nextTurn();
    await Promise.all([first, second, third]);
    assert.deepEqual(writes.stats, { commits: 1, writes: 3 }, 'committed at 3 ms, though it still grew');
    const fourth = writes.run(() => repo.setState('d', '1'));
    await fourth;
    assert.deepEqual(writes.stats, { commits: 2, writes: 4 }, 'the next write starts a batch of its own');
  });

  test('ungrouped, each write commits alone (the contrast group commit is measured against)', async () => {
    const writes = new WriteBatcher(db, { grouped: false });
    let told = 0;
    writes.onCommit = () => told++;
    await Promise.all([1, 2, 3].map((i) => writes.run(() => repo.setState(`k${i}`, 'v'))));
    assert.deepEqual(writes.stats, { commits: 3, writes: 3 });
    assert.equal(told, 1, 'the owner hears once per flush');
  });
});

describe('idle and dispose', () => {
  test('idle resolves at once when nothing is queued, after the queue otherwise, and even when that write fails', async () => {
    const writes = new WriteBatcher(db);
    let settled = false;
    await writes.idle();
    const failing = writes.run(() => {
      throw new Error('boom');
    });
    const idle = writes.idle().then(() => (settled = true));
    assert.equal(settled, false);
    await assert.rejects(failing, /boom/);
    await idle;
    assert.equal(writes.stats.commits, 1, 'the idle probe shared the failing write\'s batch');
  });

  test('idle waits for an fsync in progress', async () => {
    const syncs: ((error: NodeJS.ErrnoException | null) => void)[] = [];
    const writes = new WriteBatcher(db, { syncOffThread: true, fdatasync: (_fd, done) => syncs.push(done) });
    const write = writes.run(() => repo.setState('k', 'v'));
    await waitFor('the fsync to start', () => (syncs.length === 1 ? true : undefined), 5000, 5);
    let idle = false;
    const idled = writes.idle().then(() => (idle = true));
    await nextTurn();
    await nextTurn();
    assert.equal(idle, false, 'the fsync has not finished');
    syncs[0]!(null);
    await write;
    await waitFor('the idle probe\'s fsync', () => (syncs.length === 2 ? true : undefined), 5000, 5);
    syncs[1]!(null);
    await idled;
    writes.dispose();
  });

  test('dispose closes the WAL handle once; a batcher that never synced has none', async () => {
    const writes = new WriteBatcher(db, { syncOffThread: true });
    await writes.run(() => repo.setState('k', 'v'));
    writes.dispose();
    writes.dispose();
    new WriteBatcher(db, { syncOffThread: true }).dispose();
  });
});

describe('the off-thread fsync', () => {
  test('batches committed during one fsync share the next one, and are told only after it', async () => {
    const syncs: ((error: NodeJS.ErrnoException | null) => void)[] = [];
    const writes = new WriteBatcher(db, { syncOffThread: true, fdatasync: (_fd, done) => syncs.push(done) });
    const told: string[] = [];
    writes.onCommit = () => told.push('commit');
    const first = writes.run(() => repo.setState('a', '1')).then(() => told.push('a'));
    await waitFor('the first fsync', () => (syncs.length === 1 ? true : undefined), 5000, 5);
    const second = writes.run(() => repo.setState('b', '1')).then(() => told.push('b'));
    await nextTurn();
    await nextTurn();
    const third = writes.run(() => repo.setState('c', '1')).then(() => told.push('c'));
    await nextTurn();
    await nextTurn();
    assert.equal(writes.stats.commits, 3, 'the later batches committed while the fsync ran');
    assert.deepEqual(told, [], 'nobody is told before their fsync');
    syncs[0]!(null);
    await first;
    assert.deepEqual(told, ['commit', 'a']);
    await waitFor('the second fsync', () => (syncs.length === 2 ? true : undefined), 5000, 5);
    assert.deepEqual(told, ['commit', 'a'], 'b and c wait for the fsync that covers them');
    syncs[1]!(null);
    await Promise.all([second, third]);
    assert.deepEqual(told, ['commit', 'a', 'commit', 'b', 'c']);
    assert.equal(syncs.length, 2, 'two batches, one fsync');
    writes.dispose();
  });

  test('it applies only to a file database in WAL mode; otherwise SQLite syncs each commit itself', async () => {
    const fullSync = (d: Db) => d.pragma('synchronous', { simple: true });
    const before = fullSync(db);
    new WriteBatcher(db, {});
    assert.equal(fullSync(db), before, 'not asked: unchanged');
    const memory = new Database(':memory:');
    try {
      const syncs: number[] = [];
      const writes = new WriteBatcher(memory, { syncOffThread: true, fdatasync: (fd, done) => (syncs.push(fd), done(null)) });
      assert.equal(fullSync(memory), 2, 'FULL: in memory there is no WAL to sync');
      memory.exec('CREATE TABLE t (v)');
      await writes.run(() => memory.prepare('INSERT INTO t VALUES (1)').run());
      assert.deepEqual(syncs, []);
    } finally {
      memory.close();
    }
    const rollbackJournal = new Database(join(store.home, 'journal.db'));
    try {
      rollbackJournal.pragma('journal_mode = DELETE');
      const syncs: number[] = [];
      const writes = new WriteBatcher(rollbackJournal, { syncOffThread: true, fdatasync: (fd, done) => (syncs.push(fd), done(null)) });
      assert.equal(fullSync(rollbackJournal), 2, 'FULL: no WAL file to sync');
      rollbackJournal.exec('CREATE TABLE t (v)');
      await writes.run(() => rollbackJournal.prepare('INSERT INTO t VALUES (1)').run());
      assert.deepEqual(syncs, []);
    } finally {
      rollbackJournal.close();
    }
  });
});
