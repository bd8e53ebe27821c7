/**
 * WriteBatcher's edges that only the dist/ disk-full tests reached before: the onSpaceChange
 * transitions, the disk-full outcome found among a batch's outcomes, the batch-size and
 * batch-age limits at their exact values, the before-commit dedupe, fallbacks for actions
 * without one, idle() while batches await their fsync, dispose closing the WAL handle, and
 * the default handlers. Real SQLite files in a temp dir; the clock and fdatasync are injected.
 */
import assert from 'node:assert/strict';
import { fdatasync, fstatSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { type Db } from '../../server/store/db';
import { Repository } from '../../server/store/repository';
import { DiskFullError } from '../../lib/node/storage-errors';
import { WriteBatcher } from '../../lib/node/write-batcher';
import { waitFor } from '../support/wait';
import { openTempStore, type TempStore } from '../support/store';
import { frozenClock } from '../support/clock';

let store: TempStore;
let db: Db;
let repo: Repository;

beforeEach(() => ({ db, repo } = store = openTempStore('sb-batcher-edges-')));

afterEach(() => store.close());

/** What a write meets when the file system has no room (a write that also writes a file). */
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

type SpaceChange = Parameters<WriteBatcher['onSpaceChange']>[0];

describe('onSpaceChange', () => {
  test('full is reported once, with the state diskFull holds; space back is reported once, with what it was', async () => {
    const writes = new WriteBatcher(db);
    const changes: SpaceChange[] = [];
    writes.onSpaceChange = (change) => changes.push(change);
    await assert.rejects(writes.run(() => { throw enospc(); }), DiskFullError);
    const state = writes.diskFull;
    assert.ok(state);
    assert.deepEqual(changes, [{ full: true, state }]);
    assert.equal(changes[0]!.full === true && changes[0]!.state, state, 'the very state diskFull holds');
    // Still full: not said again, and the state (its `since`) is kept.
    await assert.rejects(writes.run(() => { throw enospc(); }), DiskFullError);
    assert.equal(writes.diskFull, state);
    assert.equal(changes.length, 1);
    await writes.run(() => repo.setState('k', 'v'));
    assert.equal(writes.diskFull, undefined);
    assert.deepEqual(changes, [{ full: true, state }, { full: false, was: state }]);
    await writes.run(() => repo.setState('k2', 'v'));
    assert.equal(changes.length, 2, 'space back is said once');
  });

  test('the disk-full outcome is found among the batch\'s outcomes, after a stored write and another failure', async () => {
    const writes = new WriteBatcher(db);
    const changes: SpaceChange[] = [];
    writes.onSpaceChange = (change) => changes.push(change);
    // One turn, one batch: a write that stores, one that fails otherwise, one that meets a full disk.
    const stored = writes.run(() => repo.setState('a', '1'));
    const other = writes.run(() => {
      throw new Error('not about space');
    });
    const refused = writes.run(() => {
      throw enospc();
    });
    await stored;
    await assert.rejects(other, /not about space/);
    await assert.rejects(refused, DiskFullError);
    assert.equal(writes.stats.commits, 1, 'the three shared one transaction');
    assert.ok(writes.diskFull, 'the batch met a full disk, though another write of it stored');
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.full, true);
  });

  test('a batch that fails for another reason while full does not say space is back', async () => {
    const writes = new WriteBatcher(db);
    const changes: SpaceChange[] = [];
    writes.onSpaceChange = (change) => changes.push(change);
    await assert.rejects(writes.run(() => { throw enospc(); }), DiskFullError);
    // The end-of-batch write fails: the whole transaction is gone, for a reason other than space.
    const failed = writes.run(() => {
      repo.setState('a', '1');
      writes.beforeCommit('cursor', () => {
        throw new Error('end-of-batch write failed');
      });
    });
    await assert.rejects(failed, /end-of-batch write failed/);
    assert.ok(writes.diskFull, 'nothing was stored, so nothing proves there is room');
    assert.equal(changes.length, 1);
  });

  test('an in-memory store is named ":memory:" in its disk-full error', async () => {
    const memory = new Database(':memory:');
    try {
      const writes = new WriteBatcher(memory);
      await assert.rejects(writes.run(() => { throw enospc(); }), (error: unknown) => {
        assert.ok(error instanceof DiskFullError);
        assert.equal(error.message, 'disk full at :memory:');
        return true;
      });
    } finally {
      memory.close();
    }
  });
});

describe('the batch limits, at their exact values', () => {
  test('a batch of 4096 writes commits at the first check, though it grew', async (t) => {
    frozenClock(t);
    const writes = new WriteBatcher(db);
    const all = Array.from({ length: 4096 }, (_, i) => writes.run(() => i));
    await nextTurn();
    assert.deepEqual(writes.stats, { commits: 1, writes: 4096 }, 'full: not held for company');
    await Promise.all(all);
  });

  test('a batch 3 ms old commits at that check though it still grew', async (t) => {
    const clock = frozenClock(t);
    const writes = new WriteBatcher(db);
    const first = writes.run(() => repo.setState('a', '1'));
    await nextTurn();
    assert.equal(writes.stats.commits, 0, 'young and growing: held');
    clock.advance(3);
    const second = writes.run(() => repo.setState('b', '1'));
    await nextTurn();
    assert.deepEqual(writes.stats, { commits: 1, writes: 2 }, 'committed at the check that found it 3 ms old');
    await Promise.all([first, second]);
  });
});

describe('beforeCommit and afterCommit', () => {
  test('of the end-of-batch writes asked for under one key, the first asked runs, once', async () => {
    const writes = new WriteBatcher(db);
    const ran: number[] = [];
    await Promise.all(
      [1, 2, 3].map((i) =>
        writes.run(() => {
          repo.setState(`k${i}`, 'v');
          writes.beforeCommit('cursor', () => ran.push(i));
        }),
      ),
    );
    assert.equal(writes.stats.commits, 1);
    assert.deepEqual(ran, [1]);
  });

  test('an action without a fallback, of a write that rolled back, is dropped; the rest of the batch commits', async () => {
    const writes = new WriteBatcher(db);
    const acted: string[] = [];
    const failing = writes.run(() => {
      repo.setState('gone', '1');
      writes.afterCommit(() => acted.push('gone'));
      throw new Error('the write changed its mind');
    });
    const kept = writes.run(() => {
      repo.setState('kept', '1');
      writes.afterCommit(() => acted.push('kept'));
      return 'kept';
    });
    await assert.rejects(failing, /changed its mind/);
    assert.equal(await kept, 'kept');
    assert.deepEqual(acted, ['kept']);
    assert.equal(repo.getState('gone'), undefined);
  });

  test('actions without a fallback, of a batch whose transaction is gone, are dropped; every caller hears the batch\'s error', async () => {
    const writes = new WriteBatcher(db);
    const a = writes.run(() => {
      repo.setState('a', '1');
      writes.afterCommit(() => assert.fail('never durable'));
      writes.beforeCommit('cursor', () => {
        throw new Error('end-of-batch write failed');
      });
    });
    await assert.rejects(a, /end-of-batch write failed/);
    assert.equal(repo.getState('a'), undefined);
  });
});

describe('idle', () => {
  test('resolves after the write queued before it has settled, not at once', async () => {
    const writes = new WriteBatcher(db);
    const order: string[] = [];
    const write = writes.run(() => repo.setState('k', 'v')).then(() => order.push('write'));
    const idle = writes.idle().then(() => order.push('idle'));
    await Promise.all([write, idle]);
    assert.deepEqual(order, ['write', 'idle']);
  });

  test('asked between two fsyncs (from onCommit), waits for the batches still awaiting theirs', async () => {
    const syncs: ((error: NodeJS.ErrnoException | null) => void)[] = [];
    const writes = new WriteBatcher(db, { syncOffThread: true, fdatasync: (_fd, done) => syncs.push(done) });
    let idled: Promise<void> | undefined;
    let idle = false;
    writes.onCommit = () => {
      idled ??= writes.idle().then(() => {
        idle = true;
      });
    };
    const first = writes.run(() => repo.setState('a', '1'));
    await waitFor('the first fsync', () => (syncs.length === 1 ? true : undefined), 5000, 5);
    const second = writes.run(() => repo.setState('b', '1'));
    await nextTurn();
    await nextTurn();
    assert.equal(writes.stats.commits, 2, 'the second batch committed and awaits the next fsync');
    syncs[0]!(null);
    await first;
    assert.ok(idled, 'onCommit asked');
    await nextTurn();
    await nextTurn();
    assert.equal(idle, false, 'the second batch is not durable yet');
    await waitFor('the second fsync', () => (syncs.length === 2 ? true : undefined), 5000, 5);
    syncs[1]!(null);
    await second;
    await waitFor('the idle probe\'s fsync', () => (syncs.length === 3 ? true : undefined), 5000, 5);
    syncs[2]!(null);
    await idled;
    assert.equal(idle, true);
    writes.dispose();
  });
});

describe('after durability is lost', () => {
  test('a flush that finds its writes already rejected commits nothing', async () => {
    const syncs: ((error: NodeJS.ErrnoException | null) => void)[] = [];
    const writes = new WriteBatcher(db, { syncOffThread: true, fdatasync: (_fd, done) => syncs.push(done) });
    const lost: Error[] = [];
    writes.onDurabilityLost = (error) => lost.push(error);
    const first = writes.run(() => repo.setState('a', '1'));
    await waitFor('the first fsync', () => (syncs.length === 1 ? true : undefined), 5000, 5);
    // Queued (its flush scheduled) when the fsync fails: rejected there, so its flush finds nothing.
    const second = writes.run(() => repo.setState('b', '1'));
    syncs[0]!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(first, /could not be made durable/);
    await assert.rejects(second, /could not be made durable/);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(writes.stats, { commits: 1, writes: 1 }, 'no empty transaction after the failure');
    assert.equal(lost.length, 1);
    writes.dispose();
  });
});

describe('dispose', () => {
  test('closes the handle the batcher opened on the WAL file', async () => {
    const fds: number[] = [];
    const writes = new WriteBatcher(db, { syncOffThread: true, fdatasync: (fd, done) => (fds.push(fd), fdatasync(fd, done)) });
    await writes.run(() => repo.setState('k', 'v'));
    const fd = fds[0]!;
    assert.ok(fstatSync(fd).isFile(), 'open while the batcher lives');
    writes.dispose();
    assert.throws(() => fstatSync(fd), { code: 'EBADF' });
  });
});

describe('the default handlers', () => {
  test('an action that throws is rethrown in a microtask when the owner set no handler', async (t) => {
    const queued: (() => void)[] = [];
    t.mock.method(globalThis, 'queueMicrotask', (callback: () => void) => queued.push(callback));
    const writes = new WriteBatcher(db);
    const bug = new Error('a bug in an action');
    await writes.run(() => {
      repo.setState('k', 'v');
      writes.afterCommit(() => {
        throw bug;
      });
    });
    assert.equal(queued.length, 1);
    assert.throws(() => queued[0]!(), (error: unknown) => error === bug);
  });

  test('a lost fsync is thrown when the owner set no handler: better to stop than to go on', () => {
    const writes = new WriteBatcher(db);
    const lost = new Error('the store could not be made durable: EIO');
    assert.throws(() => writes.onDurabilityLost(lost), (error: unknown) => error === lost);
  });
});
