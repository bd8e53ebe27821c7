import { type SendFrame, type VerdictFrame } from '../protocol/relay';
import type { RelayStore, StoredDelivery } from './store';
/** A delivery just committed for `user`, to push to that user's live devices. */
export interface CommittedDelivery extends StoredDelivery {
    user: string;
}
export interface SendOutcome {
    verdict: VerdictFrame;
    deliveries: CommittedDelivery[];
}
/** What one recipient may have waiting, how long anything waits, and how long sends are remembered. */
export interface LedgerLimits {
    /** Undelivered messages held for one recipient; a send beyond it is refused (retryable). */
    quotaMessages: number;
    /** Undelivered bytes (stored items, UTF-8) held for one recipient. */
    quotaBytes: number;
    /** Deliveries older than this are dropped; for an undelivered message, its sender is told `expired`. */
    retentionMs: number;
    /**
     * How long (sender, client_message_id) and message ids are remembered: a resend within it is
     * a duplicate, an id reused within it by another message is refused. At least `retentionMs`.
     */
    dedupeWindowMs: number;
}
export declare const DEFAULT_LEDGER_LIMITS: LedgerLimits;
/** Rows one prune step touches per table: a step is one write, and must stay short. */
export declare const PRUNE_BATCH = 500;
export interface PruneOutcome {
    /** Undelivered messages that expired (their senders were told). */
    expired: number;
    /** Delivered or never-needed rows dropped: deliveries past retention, dedupe rows, receipt markers. */
    deleted: number;
    /** Notices for the senders of the expired messages, to push after the commit. */
    notices: CommittedDelivery[];
    /** True when a batch was full: call again for the rest. */
    more: boolean;
}
export declare class RelayLedger {
    private readonly store;
    private readonly maxBodyBytes;
    private readonly limits;
    constructor(store: RelayStore, maxBodyBytes: number, limits?: LedgerLimits);
    recordSend(sender: string, message: SendFrame['message'], now: Date): SendOutcome;
    /** Why `to` cannot take one more message of `itemBytes` now, if it cannot. */
    private quotaRefusal;
    /**
     * Registers a device at hello and returns its acked cursor. A hello cursor beyond the
     * stored one counts as an ack (the core says it committed those); one beyond anything the
     * relay ever assigned is clamped, so a bogus cursor cannot hide future deliveries.
     */
    openDevice(user: string, device: string, helloCursor: number, now: Date): {
        acked: number;
        receipts: CommittedDelivery[];
    };
    /**
     * Cumulative ack from one device. Returns the receipts it produced (one per message, on the
     * first device to ack it), already appended to each sender's own sequence.
     */
    recordAck(user: string, device: string, seq: number, now: Date): CommittedDelivery[];
    /**
     * One bounded step of retention, inside one write: deliveries past `retentionMs` are
     * dropped (a message no device acked tells its sender `expired`); dedupe rows past
     * `dedupeWindowMs`, and receipt markers past `retentionMs`, are deleted. Receipt markers go
     * only once no delivery past retention is left, since expiry reads them: a marker is never
     * older than its delivery, so by then no kept delivery needs it.
     */
    prune(now: Date): PruneOutcome;
}
