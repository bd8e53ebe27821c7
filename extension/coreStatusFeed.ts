/**
 * Keeps the window's view of the core's `status/get` current. The core pushes its relay link
 * (`sync/status`) but says nothing when its store fills or frees up, so the window asks: when
 * told to (on connecting, after a request refused with `DiskFull`, when the relay link changed),
 * one request at a time, and every `pollMs` while the store is full, until it stores again.
 * No `vscode` import: test/unit/extension-core-status-feed.test.ts drives it with a fake core.
 */
import type { CoreStatus } from '../protocol/rpc';
import type { IDisposable } from './lifecycle';
import type { Rpc } from './rpcClient';

/** While the store is full, how often to ask whether it stores again. */
export const DISK_FULL_POLL_MS = 10_000;

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}
const realTimers: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};

export class CoreStatusFeed implements IDisposable {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private poll: unknown;
  private disposed = false;

  constructor(
    /** The core, when connected. */
    private readonly rpc: () => Rpc | undefined,
    private readonly onStatus: (status: CoreStatus) => void,
    private readonly onError: (err: unknown) => void,
    private readonly pollMs = DISK_FULL_POLL_MS,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Ask `status/get` now; a call while one is in flight asks once more after it. Resolves when the asking is done. */
  refresh(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const rpc = this.rpc();
    if (!rpc) return Promise.resolve();
    this.inFlight = rpc
      .request('status/get', {})
      .then(
        (s) => {
          if (!this.disposed) this.onStatus(s);
        },
        (err) => this.onError(err),
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.again) {
          this.again = false;
          return this.refresh();
        }
        return undefined;
      });
    return this.inFlight;
  }

  /** Poll while `diskFull`; stop once the store stores again. */
  watch(diskFull: boolean): void {
    if (diskFull && this.poll === undefined && !this.disposed) this.poll = this.timers.setInterval(() => void this.refresh(), this.pollMs);
    if (!diskFull) this.stopPolling();
  }

  get polling(): boolean {
    return this.poll !== undefined;
  }

  private stopPolling(): void {
    if (this.poll !== undefined) this.timers.clearInterval(this.poll);
    this.poll = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.stopPolling();
  }
}
