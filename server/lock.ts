/**
 * One owner per store. The lock is an exclusive SQLite transaction held open on a dedicated
 * database: SQLite takes it with POSIX advisory locks (LockFileEx on Windows), which the
 * kernel releases the moment the holder dies, however it dies. No PID files, no staleness
 * windows, no PID reuse hazard. A side file names the holder, for messages only: it is never
 * used to decide whether the lock is held.
 */
import Database from 'better-sqlite3';
import type { HomePaths } from '../lib/node/paths';
import { describeHolder, readHolder, type HolderInfo } from './holder';
import { ensurePrivateDir, writePrivateFile } from './fs-private';

export class LockedError extends Error {
  constructor(readonly holder: HolderInfo | undefined) {
    super(holder ? `the store is locked by ${describeHolder(holder)}` : 'the store is locked by another process');
  }
}

export class StoreLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly paths: HomePaths,
  ) {}

  /** Takes the lock or throws `LockedError` at once; never waits. */
  static acquire(paths: HomePaths, holder?: Omit<HolderInfo, 'pid' | 'since'>): StoreLock {
    ensurePrivateDir(paths.home);
    const db = new Database(paths.lock, { timeout: 0 });
    try {
      db.pragma('journal_mode = DELETE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY' || (error as { code?: string }).code === 'SQLITE_LOCKED') {
        throw new LockedError(currentHolder(paths));
      }
      throw error;
    }
    const lock = new StoreLock(db, paths);
    if (holder) lock.describe({ ...holder, pid: process.pid, since: new Date().toISOString() });
    return lock;
  }

  /** Updates what others are told about the holder (e.g. once the socket is bound). */
  describe(info: HolderInfo): void {
    writePrivateFile(this.paths.holder, JSON.stringify(info) + '\n');
  }

  release(): void {
    if (!this.db.open) return;
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
    }
  }
}

/** Whether some process holds the lock right now; probes by trying to take it. */
export function isLocked(paths: HomePaths): boolean {
  try {
    StoreLock.acquire(paths).release();
    return false;
  } catch (error) {
    if (error instanceof LockedError) return true;
    throw error;
  }
}

/** How long a contender waits for a brand-new holder to write its description. */
const HOLDER_DESCRIBE_GRACE_MS = 300;

/**
 * The holder's description, for messages. A holder writes it just after taking the lock, so a
 * contender arriving in between finds no file, or the previous holder's: it waits a moment
 * for a description whose process is alive.
 */
function currentHolder(paths: HomePaths): HolderInfo | undefined {
  const deadline = Date.now() + HOLDER_DESCRIBE_GRACE_MS;
  for (;;) {
    const holder = readHolder(paths);
    if ((holder && isAlive(holder.pid)) || Date.now() > deadline) return holder;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export { describeHolder, readHolder, type HolderInfo };
