/**
 * Group commit. Writes requested in the same turn of the event loop run in one transaction,
 * each inside its own savepoint so one failing write does not undo its neighbours; every
 * caller's promise settles only after that transaction has committed (and, with
 * `synchronous = FULL`, reached the disk). Many concurrent sends thus share one fsync.
 */
import type { Db } from './db';

/** Most writes in one transaction, and the longest the first of them waits for company. */
const MAX_BATCH = 4096;
const MAX_BATCH_AGE_MS = 3;

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteBatcher {
  private queue: Job[] = [];
  private scheduled = false;
  private seenAtLastCheck = 0;
  private oldestAt = 0;
  private readonly commitBatch: (jobs: Job[]) => { ok: boolean; value: unknown }[];
  /** Registered by the writes of the batch being committed; run once it is durable. */
  private afterCommitQueue: (() => void)[] = [];
  /** Registered by the writes of the batch being committed; run once, last, inside its transaction. */
  private beforeCommitQueue = new Map<string, () => void>();
  /** Counts transactions begun, committed or not: tells a write which batch it is in. */
  batch = 0;
  /** Transactions committed and writes they carried, for the log. */
  readonly stats = { commits: 0, writes: 0 };
  /** Called after each commit, e.g. to push new events to subscribers. */
  onCommit: () => void = () => {};

  /** `grouped: false` commits each write alone: only for measuring what group commit buys. */
  constructor(
    db: Db,
    private readonly options: { grouped: boolean } = { grouped: true },
  ) {
    const single = db.transaction((job: Job) => job.run());
    this.commitBatch = db.transaction((jobs: Job[]) => {
      const outcomes = jobs.map((job) => {
        const registered = this.afterCommitQueue.length;
        try {
          return { ok: true, value: single(job) };
        } catch (error) {
          // The write was rolled back to its savepoint: so are its after-commit actions.
          this.afterCommitQueue.length = registered;
          return { ok: false, value: error };
        }
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
   * Called from inside a write: runs `action` once the transaction holding that write has
   * committed, before any write's caller hears back, in the order the writes ran. Nothing
   * runs if the write or the commit fails. For acting on what a write decided (sending a
   * message it claimed) in commit order, without a second look at the store.
   */
  afterCommit(action: () => void): void {
    this.afterCommitQueue.push(action);
  }

  run<T>(write: () => T): Promise<T> {
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

  /** Commits everything queued now; returns once the transaction is durable. */
  flush(): void {
    this.scheduled = false;
    const all = this.queue;
    if (all.length === 0) return;
    this.queue = [];
    if (this.options.grouped) this.commit(all);
    else for (const job of all) this.commit([job]);
    this.onCommit();
  }

  private commit(jobs: Job[]): void {
    let outcomes: { ok: boolean; value: unknown }[];
    this.batch++;
    try {
      outcomes = this.commitBatch(jobs);
      this.beforeCommitQueue.clear();
      this.stats.commits++;
      this.stats.writes += jobs.length;
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in this batch is durable.
      this.beforeCommitQueue.clear();
      this.afterCommitQueue = [];
      for (const job of jobs) job.reject(error);
      return;
    }
    const actions = this.afterCommitQueue;
    this.afterCommitQueue = [];
    for (const action of actions) {
      try {
        action();
      } catch (error) {
        // A bug in an action must not strand the callers of a batch that did commit.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    for (let i = 0; i < jobs.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) jobs[i]!.resolve(outcome.value);
      else jobs[i]!.reject(outcome.value);
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once everything queued so far has committed (or failed). */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return this.run(() => undefined).then(
      () => undefined,
      () => undefined,
    );
  }
}
