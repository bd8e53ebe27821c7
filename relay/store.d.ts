/**
 * The relay's SQLite store: plain reads and writes, no protocol decisions (those live in
 * ledger.ts). WAL with synchronous=FULL; the server's WriteBatcher fsyncs the WAL itself, off
 * the event loop: either way a commit is on disk before the relay answers.
 */
import Database from 'better-sqlite3';
import type { StoredToken } from './tokens';
export interface Credential extends StoredToken {
    id: number;
    name: string;
}
export interface DedupeRecord {
    id: string;
    server_id: string;
    fingerprint: string;
}
/** Messages a recipient has waiting that none of its devices has acked: what quotas count. */
export interface Undelivered {
    messages: number;
    bytes: number;
}
/** A delivery row with its owner, as the retention sweep reads it. */
export interface AgedDelivery extends StoredDelivery {
    user: string;
}
export interface StoredDelivery {
    seq: number;
    /** The delivery item as JSON text, stored and sent without re-encoding. */
    item: string;
}
export declare class UserExistsError extends Error {
    constructor(name: string);
}
export declare class RelayStore {
    readonly db: Database.Database;
    private readonly statements;
    private constructor();
    static open(dataDir: string): RelayStore;
    close(): void;
    /** Runs `fn` in a transaction; nested calls become savepoints. */
    transaction<T>(fn: () => T): T;
    /**
     * Changes whenever another connection (another process, such as `relay revoke`) commits.
     * Lets the relay notice outside writes with one cheap pragma per poll.
     */
    dataVersion(): number;
    insertUser(name: string, token: StoredToken, createdAt: string): void;
    /** True when an active credential was revoked. */
    revokeUser(name: string, revokedAt: string): boolean;
    activeCredential(name: string): Credential | undefined;
    /** Rewrites an older relay's scrypt row with the token's new hash; true when it did. */
    upgradeToken(credentialId: number, token: StoredToken): boolean;
    isCredentialActive(credentialId: number): boolean;
    isUserActive(name: string): boolean;
    listUsers(): {
        name: string;
        created_at: string;
        revoked_at: string | null;
    }[];
    /**
     * Active accounts whose stored name is not canonical (protocol/names.ts), each with the
     * other spellings of it among the users: they shared a name but for case when names became
     * case-insensitive, so none was folded into another, and such an account cannot log in.
     */
    caseCollisions(): {
        name: string;
        others: string[];
    }[];
    /** Records the device (first sight starts its cursor at `initialAcked`) and returns its acked cursor. */
    touchDevice(user: string, device: string, initialAcked: number, now: string): number;
    deviceAcked(user: string, device: string): number | undefined;
    setDeviceAcked(user: string, device: string, acked: number): void;
    /** The lowest cursor among every known device of the user: everything at or below is done. */
    minAcked(user: string): number;
    lastSeq(user: string): number;
    /** Appends one delivery to the user's sequence and returns its seq. Call inside a transaction. */
    appendDelivery(user: string, item: string, now: Date): number;
    /** The oldest deliveries stored before `cutoff`, any user, at most `limit`. */
    deliveriesOlderThan(cutoff: Date, limit: number): AgedDelivery[];
    deleteDelivery(user: string, seq: number): void;
    deliveriesAfter(user: string, afterSeq: number, limit: number): StoredDelivery[];
    deliveriesBetween(user: string, afterSeq: number, throughSeq: number): StoredDelivery[];
    /** The seq of the last delivery stored for `user` after `afterSeq`; 0 when there is none. */
    lastDeliveryAfter(user: string, afterSeq: number): number;
    pruneDeliveries(user: string, throughSeq: number): number;
    findDedupe(sender: string, clientMessageId: string): DedupeRecord | undefined;
    insertDedupe(sender: string, clientMessageId: string, record: DedupeRecord, now: Date): void;
    /** The send that first used message id `id`, while its dedupe row is kept. */
    idOwner(id: string): {
        sender: string;
        client_message_id: string;
    } | undefined;
    /** Deletes at most `limit` dedupe rows stored before `cutoff`; returns how many. */
    pruneDedupe(cutoff: Date, limit: number): number;
    /** True the first time only: the caller then owes the sender a receipt. */
    markReceipted(serverId: string, now: Date): boolean;
    isReceipted(serverId: string): boolean;
    /** Deletes at most `limit` receipt markers written before `cutoff`; returns how many. */
    pruneReceipts(cutoff: Date, limit: number): number;
    undelivered(user: string): Undelivered;
    /** Adds (or, with negative numbers, removes) undelivered messages of `user`. */
    addUndelivered(user: string, messages: number, bytes: number): void;
}
