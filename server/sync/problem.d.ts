/**
 * Why the relay cannot be reached, said once for everyone who needs it: a queued send, a CLI
 * verb that could fetch nothing, `status` and `doctor`. Each problem is a stable code for
 * scripts and a sentence for a person that names the command that fixes it.
 */
import type { SendReasonCode, SyncProblem } from '../../protocol/rpc';
import type { RelayLinkClose } from './relay-link';
export interface RelaySettings {
    relay: string | null;
    user: string | null;
}
export declare function notConfigured(): SyncProblem;
export declare function refusedToken(settings: RelaySettings): SyncProblem;
/** The stored relay URL cannot be used at all (it would leak the token, or cannot be dialled). */
export declare function badUrl(why: string, settings: RelaySettings): SyncProblem;
/** How a link to the relay ended, as a problem a person can act on. */
export declare function problemOfClose(close: RelayLinkClose, settings: RelaySettings): SyncProblem;
/** The relay did not finish within a verb's short deadline. */
export declare function pullTimeout(settings: RelaySettings, ms: number, online: boolean): SyncProblem;
export interface QueuedContext {
    /** Why the link is down, when it is. */
    problem: SyncProblem | null;
    online: boolean;
    /** How long the send was allowed to wait for the relay's verdict (--wait; 0: it did not wait). */
    waitedMs: number;
    /** The relay's own reason when it deferred this message (rate limit, recipient full). */
    deferred: string | null;
    /** No core runs: this process stops after answering, and nothing retries until one does. */
    oneShot: boolean;
    relay: string | null;
}
/** Why a send is queued, and what happens to it next (or what fixes it). */
export declare function queuedReason(c: QueuedContext): {
    reason_code: SendReasonCode;
    reason: string;
};
