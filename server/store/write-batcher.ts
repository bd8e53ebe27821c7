/**
 * Group commit. Writes requested in the same turn of the event loop run in one transaction,
 * each inside its own savepoint so one failing write does not undo its neighbours; every
 * caller's promise settles only after that transaction has committed (and, with
 * `synchronous = FULL`, reached the disk). Many concurrent sends thus share one fsync.
 */
import type { Db } from './db';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteBatcher {
  private queue: Job[] = [];
  private scheduled = false;
  private readonly commitBatch: (jobs: Job[]) => { ok: boolean; value: unknown }[];
  /** Called after each commit, e.g. to push new events to subscribers. */
  onCommit: () => void = () => {};

  constructor(db: Db) {
    const single = db.transaction((job: Job) => job.run());
    this.commitBatch = db.transaction((jobs: Job[]) =>
      jobs.map((job) => {
        try {
          return { ok: true, value: single(job) };
        } catch (error) {
          return { ok: false, value: error };
        }
      }),
    );
  }

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now; returns once the transaction is durable. */
  flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    if (jobs.length === 0) return;
    this.queue = [];
    let outcomes: { ok: boolean; value: unknown }[];
    try {
      outcomes = this.commitBatch(jobs);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in this batch is durable.
      for (const job of jobs) job.reject(error);
      return;
    }
    for (let i = 0; i < jobs.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) jobs[i]!.resolve(outcome.value);
      else jobs[i]!.reject(outcome.value);
    }
    this.onCommit();
  }

  get pending(): number {
    return this.queue.length;
  }
}
