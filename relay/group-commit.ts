/**
 * Group commit: writes submitted in the same event-loop turn share one SQLite transaction, so
 * a burst of sends pays for one fsync instead of one each. Every operation runs in its own
 * savepoint, so one failing operation does not undo its neighbours. A caller's promise
 * settles only after the transaction holding its write has committed — durable before
 * acknowledged.
 */
import type { RelayStore } from './store';

interface PendingWrite {
  operation: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export interface GroupCommitOptions {
  /** False commits every write on its own (for measuring, or debugging). */
  enabled: boolean;
  /** Upper bound per transaction, so one huge burst does not stall the loop for long. */
  maxBatch?: number;
}

export class GroupCommitQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: RelayStore,
    private readonly options: GroupCommitOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
  }

  run<T>(operation: () => T): Promise<T> {
    if (!this.options.enabled) {
      try {
        return Promise.resolve(this.store.transaction(operation));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ operation, resolve: (value) => resolve(value as T), reject });
      this.schedule();
    });
  }

  /** Resolves once every write submitted so far has committed (or failed). */
  idle(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the I/O callbacks of this turn: every frame that arrived
    // together is already queued when the batch commits.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) this.schedule();
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.store.transaction(() => {
        for (const write of batch) {
          try {
            outcomes.push({ ok: true, value: this.store.transaction(write.operation) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing in the batch is durable.
      for (const write of batch) write.reject(error);
      this.notifyIdle();
      return;
    }
    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error ?? new Error('write lost'));
    });
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.pending.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
