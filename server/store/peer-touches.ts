/**
 * A peer's last-seen time, written at most once a second per peer: under a burst from one
 * peer, rewriting it on every message would cost a write each for a time nobody reads that
 * finely.
 */
import type { Repository } from './repository';
import type { WriteBatcher } from '../../lib/node/write-batcher';

const MIN_INTERVAL_MS = 1000;

export class PeerTouches {
  private readonly writtenAt = new Map<string, number>();

  constructor(
    private readonly repo: Repository,
    private readonly writes: WriteBatcher,
  ) {}

  /** Call inside a write. The peer counts as written only once that write commits. */
  touch(name: string, now: string): void {
    const at = Date.now();
    if (at - (this.writtenAt.get(name) ?? Number.NEGATIVE_INFINITY) < MIN_INTERVAL_MS) return;
    this.repo.touchPeer(name, now);
    this.writes.afterCommit(() => this.writtenAt.set(name, at));
  }
}
