/**
 * What a send does when its client_message_id is already in the outbox. One answer for each
 * (outbox state × fingerprint match) cell, so a retry can never deliver twice and a reused id
 * can never silently carry different content.
 */
import type { OutboxState, SendStatus } from '../protocol/rpc';
export type IdempotencyDecision = 
/** No earlier send with this id: store it. */
{
    action: 'insert';
}
/** Same content as a live or finished send: answer what that send's verdict is now. */
 | {
    action: 'earlier';
    status: SendStatus;
}
/** Same id, different content. CLI exit 5. */
 | {
    action: 'conflict';
}
/** Same content, but the earlier send was given up on, aborted or expired undelivered: never retried silently. */
 | {
    action: 'refuse';
    reason: 'dead' | 'aborted' | 'expired';
};
export interface ExistingSend {
    state: OutboxState;
    fingerprint: string;
    /** The relay's verdict for a done row. */
    verdict: 'sent' | 'duplicate' | null;
}
export declare function decideIdempotency(existing: ExistingSend | undefined, incomingFingerprint: string): IdempotencyDecision;
