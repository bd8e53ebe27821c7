/**
 * WriteBatcher under storage faults: a full store (SQLite's own page cap, `max_page_count`,
 * which fails writes exactly like a full disk: SQLITE_FULL), a failing fdatasync, and an
 * after-commit action that throws. Real SQLite files in a temp dir.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type Db } from '../../server/store/db';
import { Repository } from '../../server/store/repository';
import { DiskFullError } from '../../lib/node/storage-errors';
import { WriteBatcher } from '../../lib/node/write-batcher';
import { openTempStore, type TempStore } from '../support/store';

let store: TempStore;
let db: Db;
let repo: Repository;

beforeEach(() => ({ db, repo } = store = openTempStore('sb-faults-')));

afterEach(() => store.close());

/** Rows another connection sees: only what committed. */
function committedKeys(prefix: string): string[] {
  const reader = new Database(db.name, { readonly: true });
  try {
    return (reader.prepare('SELECT key FROM sync_state WHERE key LIKE ? ORDER BY key').pluck().all(`${prefix}%`) as string[]);
  } finally {
    reader.close();
  }
}

/** Leaves room for only a few more pages: the next writes of any size meet SQLITE_FULL. */
function capStore(spare: number): void {
  // Free pages inside the file (a migration that rebuilt a table leaves some) would be room too.
  db.exec('VACUUM');
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + spare}`);
}

const uncapStore = () => db.pragma('max_page_count = 1073741823');
/** A value that needs a page of its own. */
const big = (i: number) => `${i}:${'x'.repeat(3000)}`;

describe('WriteBatcher on a full store', () => {
  test('once SQLITE_FULL rolls back the transaction, the whole batch fails: nothing stored, no after-commit action, no end-of-batch write', async () => {
    const writes = new WriteBatcher(db);
    capStore(4);
    const seen: string[] = [];
    let highest = 0;
    // One turn: one batch. Each write stores a page-sized row and moves an end-of-batch cursor,
    // as the sync engine does with deliveries.
    const results = Array.from({ length: 40 }, (_, i) =>
      writes.run(() => {
        repo.setState(`row-${String(i).padStart(2, '0')}`, big(i));
        highest = i;
        writes.beforeCommit('cursor', () => repo.setState('cursor', String(highest)));
        writes.afterCommit(
          () => seen.push(`acted ${i}`),
          () => seen.push(`fallback ${i}`),
        );
      }),
    );
    const settled = await Promise.allSettled(results);
    const rejected = settled.filter((r) => r.status === 'rejected');
    assert.equal(rejected.length, 40, 'every write of the batch is rejected');
    for (const r of rejected) {
      assert.ok(r.reason instanceof DiskFullError, `rejected with ${String(r.reason)}`);
      assert.equal(r.reason.message, `disk full at ${db.name}`);
    }
    assert.deepEqual(committedKeys('row-'), [], 'no write of the failed batch committed on its own');
    assert.deepEqual(committedKeys('cursor'), [], 'the end-of-batch write did not commit on its own');
    assert.ok(!seen.some((s) => s.startsWith('acted')), 'no after-commit action ran');
    assert.equal(seen.filter((s) => s.startsWith('fallback')).length, seen.length);
    assert.equal(writes.diskFull?.error.message, `disk full at ${db.name}`);

    // Space returns: the next batch stores, and the batcher says the store is fine again.
    uncapStore();
    await writes.run(() => repo.setState('row-after', 'ok'));
    assert.deepEqual(committedKeys('row-'), ['row-after']);
    assert.equal(writes.diskFull, undefined);
  });

  test('a write that swallows the SQLITE_FULL still fails the batch: the writes after it and the end-of-batch write never commit alone', async () => {
    const writes = new WriteBatcher(db);
    capStore(2);
    const careless = writes.run(() => {
      try {
        for (let i = 0; i < 10; i++) repo.setState(`row-${i}`, big(i));
      } catch {
        // A careless write: returns as if all were well.
      }
    });
    const later = writes.run(() => {
      repo.setState('later', 'small');
      writes.beforeCommit('cursor', () => repo.setState('cursor', '10'));
    });
    await assert.rejects(careless);
    await assert.rejects(later);
    assert.deepEqual(committedKeys('later'), []);
    assert.deepEqual(committedKeys('cursor'), []);
  });

  test('while full, a write that stores nothing does not clear the disk-full state', async () => {
    const writes = new WriteBatcher(db);
    capStore(1);
    await assert.rejects(
      writes.run(() => {
        for (let i = 0; i < 4; i++) repo.setState(`row-${i}`, big(i));
      }),
      DiskFullError,
    );
    await writes.run(() => repo.getState('row-0'));
    assert.ok(writes.diskFull, 'a read-only write proves nothing about space');
  });
});

describe('WriteBatcher when fdatasync fails', () => {
  test('the batches waiting behind a failed fdatasync are all rejected, later writes too, and the owner is told once', async () => {
    // fdatasync is held until the test lets it finish, so batches can queue behind it.
    const syncs: ((error: NodeJS.ErrnoException | null) => void)[] = [];
    const writes = new WriteBatcher(db, { syncOffThread: true, fdatasync: (_fd, done) => syncs.push(done) });
    const lost: Error[] = [];
    writes.onDurabilityLost = (error) => lost.push(error);
    const fallbacks: number[] = [];
    const write = (i: number) =>
      writes.run(() => {
        repo.setState(`k${i}`, String(i));
        writes.afterCommit(
          () => assert.fail(`write ${i} was never durable, so it is never acted on`),
          () => fallbacks.push(i),
        );
      });
    const first = write(1);
    await waitUntil(() => syncs.length === 1, 'the first fdatasync to start');
    // Two more batches commit while the first sync runs; they wait for the next one.
    const second = write(2);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const third = write(3);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(syncs.length, 1, 'one fdatasync at a time');
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }) as NodeJS.ErrnoException;
    syncs[0]!(eio);
    for (const pending of [first, second, third]) await assert.rejects(pending, /could not be made durable: EIO/);
    assert.deepEqual(fallbacks.sort(), [1, 2, 3]);
    await assert.rejects(write(4), /could not be made durable/);
    assert.equal(lost.length, 1, 'onDurabilityLost is called once');
    assert.equal(syncs.length, 1, 'nothing is synced after the failure');
    await writes.idle();
    writes.dispose();
  });
});

describe('WriteBatcher when an after-commit action throws', () => {
  test("every caller of the batch still settles, the other actions run, the owner hears of it, and later batches work", async () => {
    const writes = new WriteBatcher(db);
    const failures: unknown[] = [];
    writes.onActionFailed = (error) => failures.push(error);
    const acted: string[] = [];
    const a = writes.run(() => {
      repo.setState('a', '1');
      writes.afterCommit(() => acted.push('a'));
      return 'a';
    });
    const b = writes.run(() => {
      repo.setState('b', '1');
      writes.afterCommit(() => {
        throw new Error('a bug in an action');
      });
      return 'b';
    });
    const c = writes.run(() => {
      repo.setState('c', '1');
      writes.afterCommit(() => acted.push('c'));
      return 'c';
    });
    assert.deepEqual(await Promise.all([a, b, c]), ['a', 'b', 'c']);
    assert.deepEqual(acted, ['a', 'c']);
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]), /a bug in an action/);
    assert.equal(await writes.run(() => (repo.setState('d', '1'), 'd')), 'd');
    assert.deepEqual(committedKeys(''), ['a', 'b', 'c', 'd']);
  });
});

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
