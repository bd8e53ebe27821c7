/**
 * A peer's last-seen time, written at most once a second per peer: under a burst from one
 * peer, rewriting it on every message would cost a write each for a time nobody reads that
 * finely.
 */
import type { Repository } from './repository';
import type { WriteBatcher } from '../../lib/node/write-batcher';
export declare class PeerTouches {
    private readonly repo;
    private readonly writes;
    private readonly writtenAt;
    constructor(repo: Repository, writes: WriteBatcher);
    /** Call inside a write. The peer counts as written only once that write commits. */
    touch(name: string, now: string): void;
}
