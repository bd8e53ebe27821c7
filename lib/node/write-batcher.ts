/**
 * Group commit. Writes requested in the same turn of the event loop run in one transaction,
 * each inside its own savepoint so one failing write does not undo its neighbours; every
 * caller's promise settles only after that transaction has committed and reached the disk.
 * Many concurrent sends thus share one fsync.
 *
 * With `syncOffThread`, the batcher makes commits durable itself: the connection runs with
 * `synchronous = NORMAL` (a commit writes the WAL but does not fsync it) and the WAL file is
 * fsynced on libuv's thread pool before anyone hears of the batch, while the event loop goes
 * on with the next batch. Batches committed during one fsync share the next. SQLite still
 * fsyncs the WAL before each checkpoint, so a checkpoint never moves unsynced frames.
 *
 * A full disk: SQLite may answer SQLITE_FULL by rolling back the whole transaction, not just
 * the statement's savepoint. The batcher checks after every write; once the transaction is
 * gone the whole batch fails (every caller rejected with "disk full at <path>", no after-commit
 * action, no before-commit write), since anything run after that point would commit on its own.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { asStorageError, DiskFullError, isDiskFull } from './storage-errors';

/** Most writes in one transaction, and the longest the first of them waits for company. */
const MAX_BATCH = 4096;
const MAX_BATCH_AGE_MS = 3;

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A committed batch, told to its callers once durable. */
interface Committed {
  jobs: Job[];
  outcomes: { ok: boolean; value: unknown }[];
  actions: AfterCommit[];
}

/** What to do once the write is durable, and what to do instead if it never will be. */
interface AfterCommit {
  action: () => void;
  otherwise?: () => void;
}

export interface WriteBatcherOptions {
  /** false commits each write alone: only for measuring what group commit buys. */
  grouped?: boolean;
  /** fsync the WAL off the event loop (see above). Needs a file database in WAL mode. */
  syncOffThread?: boolean;
  /** How the WAL is made durable off the thread: `fs.fdatasync` unless a test needs it to fail. */
  fdatasync?: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;
}

/** The store is full: since when, and the error every write meets meanwhile. */
export interface DiskFullState {
  error: DiskFullError;
  since: string;
}

/** Thrown inside a batch to abandon it once its transaction is gone. */
class TransactionLost extends Error {
  constructor(readonly reason: unknown) {
    super('the transaction was rolled back');
  }
}

export class WriteBatcher {
  private queue: Job[] = [];
  private scheduled = false;
  private seenAtLastCheck = 0;
  private oldestAt = 0;
  private readonly commitBatch: (jobs: Job[]) => { ok: boolean; value: unknown }[];
  /** Registered by the writes of the batch being committed; run once it is durable. */
  private afterCommitQueue: AfterCommit[] = [];
  /** Registered by the writes of the batch being committed; run once, last, inside its transaction. */
  private beforeCommitQueue = new Map<string, () => void>();
  /** Transactions committed and writes they carried, for the log. */
  readonly stats = { commits: 0, writes: 0 };
  /** Called after each batch is durable, e.g. to push new events to subscribers. */
  onCommit: () => void = () => {};
  /**
   * Called once if an fsync fails: the batches it covered are rejected, and so is every write
   * after it, since the kernel may have dropped what it could not write. The owner should stop.
   */
  onDurabilityLost: (error: Error) => void = (error) => {
    throw error;
  };
  private readonly grouped: boolean;
  private readonly walPath: string | undefined;
  private walFd: number | undefined;
  private syncing = false;
  private awaitingSync: Committed[] = [];
  private lost: Error | undefined;
  private readonly sync: NonNullable<WriteBatcherOptions['fdatasync']>;
  private readonly path: string;
  private readonly totalChanges: () => number;
  /** Set while writes fail for want of space; cleared by the next batch that stores something. */
  private full: DiskFullState | undefined;
  /**
   * Called when the store fills up (with the error writes meet) and when space returns (with
   * undefined and how long it was full), so the owner can say both once, not on every write.
   */
  onSpaceChange: (change: { full: true; state: DiskFullState } | { full: false; was: DiskFullState }) => void = () => {};
  /** Called with what an after-commit action threw: the batch's callers are told regardless. */
  onActionFailed: (error: unknown) => void = (error) =>
    queueMicrotask(() => {
      throw error;
    });

  constructor(db: Database.Database, options: WriteBatcherOptions = {}) {
    this.grouped = options.grouped ?? true;
    this.sync = options.fdatasync ?? fdatasync;
    this.path = db.memory ? ':memory:' : db.name;
    const changes = db.prepare('SELECT total_changes() AS n').pluck();
    this.totalChanges = () => changes.get() as number;
    if (options.syncOffThread && !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal') {
      this.walPath = `${db.name}-wal`;
      db.pragma('synchronous = NORMAL');
    }
    const single = db.transaction((job: Job) => job.run());
    this.commitBatch = db.transaction((jobs: Job[]) => {
      const outcomes = jobs.map((job) => {
        const registered = this.afterCommitQueue.length;
        let outcome: { ok: boolean; value: unknown };
        try {
          outcome = { ok: true, value: single(job) };
        } catch (error) {
          outcome = { ok: false, value: asStorageError(error, this.path) };
        }
        // SQLITE_FULL (or an I/O error) may roll back the whole transaction, not only the
        // savepoint; whatever ran after that would commit alone, so the batch stops here.
        if (!db.inTransaction) throw new TransactionLost(outcome.ok ? new Error('a write caught the error that rolled back its transaction') : outcome.value);
        // The write was rolled back to its savepoint: so are its after-commit actions.
        if (!outcome.ok) abandon(this.afterCommitQueue.splice(registered));
        return outcome;
      });
      // Outside every savepoint: if one of these fails, the whole batch does.
      for (const write of this.beforeCommitQueue.values()) write();
      return outcomes;
    });
  }

  /**
   * Called from inside a write: runs `write` once at the end of the batch's transaction,
   * however many writes of the batch asked for it under the same `key`. For state that only
   * needs its latest value stored (a cursor, a timestamp): one row write per batch instead
   * of one per write. A failure there fails the whole batch.
   */
  beforeCommit(key: string, write: () => void): void {
    if (!this.beforeCommitQueue.has(key)) this.beforeCommitQueue.set(key, write);
  }

  /**
   * Called from inside a write: runs `action` once the transaction holding that write is
   * durable, before any write's caller hears back, in the order the writes ran. If the write
   * rolls back or the batch fails, `otherwise` runs instead. For acting on what a write
   * decided (sending a message it claimed) in commit order, without a second look at the store.
   */
  afterCommit(action: () => void, otherwise?: () => void): void {
    this.afterCommitQueue.push({ action, otherwise });
  }

  run<T>(write: () => T): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.seenAtLastCheck = 0;
        this.oldestAt = performance.now();
        setImmediate(() => this.flushWhenQuiet());
      }
    });
  }

  /**
   * The commit blocks the event loop for its fsync, so the batch should be as large as the
   * load offers: while writes keep arriving turn after turn (many pipelined clients), wait
   * one more turn, bounded by size and age; once a turn brings nothing new, commit.
   */
  private flushWhenQuiet(): void {
    const grew = this.queue.length > this.seenAtLastCheck;
    if (grew && this.queue.length < MAX_BATCH && performance.now() - this.oldestAt < MAX_BATCH_AGE_MS) {
      this.seenAtLastCheck = this.queue.length;
      setImmediate(() => this.flushWhenQuiet());
      return;
    }
    this.flush();
  }

  /** Commits everything queued now. Its callers hear back once it is durable. */
  private flush(): void {
    this.scheduled = false;
    const all = this.queue;
    if (all.length === 0) return;
    this.queue = [];
    if (this.grouped) this.commit(all);
    else for (const job of all) this.commit([job]);
    if (this.walPath === undefined) this.onCommit();
  }

  private commit(jobs: Job[]): void {
    let outcomes: { ok: boolean; value: unknown }[];
    let stored: boolean;
    try {
      const changesBefore = this.totalChanges();
      outcomes = this.commitBatch(jobs);
      stored = this.totalChanges() > changesBefore;
      this.beforeCommitQueue.clear();
      this.stats.commits++;
      this.stats.writes += jobs.length;
    } catch (thrown) {
      // The transaction is gone (disk full, I/O error): nothing in this batch is stored.
      const error = asStorageError(thrown instanceof TransactionLost ? thrown.reason : thrown, this.path);
      this.beforeCommitQueue.clear();
      abandon(this.afterCommitQueue.splice(0));
      this.noteSpace(error, false);
      for (const job of jobs) job.reject(error);
      return;
    }
    const refused = outcomes.find((outcome) => !outcome.ok && isDiskFull(outcome.value));
    this.noteSpace(refused?.value, stored);
    const committed = { jobs, outcomes, actions: this.afterCommitQueue };
    this.afterCommitQueue = [];
    if (this.walPath === undefined) return this.settle(committed);
    this.awaitingSync.push(committed);
    this.syncSoon();
  }

  /** The store is full (status says so) until a batch stores something without meeting that. */
  private noteSpace(error: unknown, stored: boolean): void {
    if (error instanceof DiskFullError) {
      if (this.full) return;
      this.full = { error, since: new Date().toISOString() };
      this.onSpaceChange({ full: true, state: this.full });
    } else if (stored && this.full) {
      const was = this.full;
      this.full = undefined;
      this.onSpaceChange({ full: false, was });
    }
  }

  /** Set while the store is full; the first write that stores something clears it. */
  get diskFull(): DiskFullState | undefined {
    return this.full;
  }

  /** One fsync at a time; the batches committed while it runs wait for the next. */
  private syncSoon(): void {
    if (this.syncing || this.awaitingSync.length === 0 || this.lost) return;
    const batches = this.awaitingSync;
    this.awaitingSync = [];
    this.syncing = true;
    let fd: number;
    try {
      fd = this.walFd ??= openSync(this.walPath!, 'r+');
    } catch (error) {
      return this.durabilityLost(error as Error, batches);
    }
    this.sync(fd, (error) => {
      this.syncing = false;
      if (error) return this.durabilityLost(error, batches);
      for (const batch of batches) this.settle(batch);
      this.onCommit();
      this.syncSoon();
    });
  }

  private durabilityLost(cause: Error, batches: Committed[]): void {
    this.syncing = false;
    this.lost = new Error(`the store could not be made durable: ${cause.message}`);
    for (const batch of [...batches, ...this.awaitingSync]) {
      abandon(batch.actions);
      for (const job of batch.jobs) job.reject(this.lost);
    }
    this.awaitingSync = [];
    for (const job of this.queue.splice(0)) job.reject(this.lost);
    this.onDurabilityLost(this.lost);
  }

  /** Tells a durable batch's writes: their after-commit actions first, then their callers. */
  private settle({ jobs, outcomes, actions }: Committed): void {
    for (const { action } of actions) {
      try {
        action();
      } catch (error) {
        // A bug in an action must not strand the callers of a batch that did commit.
        this.onActionFailed(error);
      }
    }
    for (let i = 0; i < jobs.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) jobs[i]!.resolve(outcome.value);
      else jobs[i]!.reject(outcome.value);
    }
  }

  /** Resolves once everything queued or committed so far is durable (or has failed). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.syncing && this.awaitingSync.length === 0) return Promise.resolve();
    return this.run(() => undefined).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Closes the batcher's own handle on the WAL file; call after `idle()`, before closing the store. */
  dispose(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }
}

/** The writes these belong to will never be durable: their fallbacks run instead. */
function abandon(actions: AfterCommit[]): void {
  for (const { otherwise } of actions) otherwise?.();
}
