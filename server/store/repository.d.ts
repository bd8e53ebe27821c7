/**
 * Every SQL statement the core runs, prepared once. Row ↔ protocol mapping lives here and
 * nowhere else.
 */
import type { Conversation, CoreEvent, Message, MessageState, OutboxItem, OutboxState, Peer } from '../../protocol/rpc';
import type { Db } from './db';
import { type SearchPlan } from './search-query';
interface MessageRow {
    seq: number;
    id: string;
    client_message_id: string;
    server_id: string | null;
    conversation: string;
    direction: 'in' | 'out';
    sender: string;
    recipient: string;
    body: string;
    reply_to: string | null;
    request_id: string | null;
    created_at: string;
    state: MessageState;
    read: number;
}
export interface OutboxRow {
    client_message_id: string;
    id: string;
    fingerprint: string;
    state: OutboxState;
    attempts: number;
    last_error: string | null;
    server_id: string | null;
    verdict: 'sent' | 'duplicate' | null;
    created_at: string;
    updated_at: string;
    /** The id of the copy `outbox requeue` made of this entry, if it made one. */
    requeued_as: string | null;
}
/** A message as the store takes it: the protocol's own shape. */
export type NewMessage = Message;
export type EventType = CoreEvent['type'];
export declare function toMessage(row: MessageRow): Message;
export declare function toOutboxItem(row: OutboxRow, message: Pick<Message, 'to' | 'body'>): OutboxItem;
export declare class Repository {
    readonly db: Db;
    private readonly s;
    private readonly searchStatements;
    constructor(db: Db);
    insertMessage(m: NewMessage): void;
    message(id: string): Message | undefined;
    /** Whether the inbound message the relay calls `serverId` is stored (a redelivery stores nothing). */
    hasInboundServerId(serverId: string): boolean;
    /**
     * Whether an inbound message from `from` may be stored under `id`: no inbound message has
     * it, and no outbound one either unless that is its own other copy (a message to oneself).
     */
    inboundIdFree(id: string, from: string): boolean;
    /** Outbound messages only: inbound ones stay `received`. */
    setMessageState(id: string, state: MessageState, serverId?: string | null): void;
    inbox(opts: {
        unread: boolean;
        from?: string;
        limit: number;
    }): Message[];
    /** Newest `limit` messages of a conversation (optionally before a message), oldest first. */
    conversationPage(peer: string, limit: number, beforeId?: string): {
        messages: Message[];
        has_more: boolean;
    };
    conversations(): Conversation[];
    unreadTotal(): number;
    messageTotal(): number;
    markRead(target: {
        ids?: string[];
        conversation?: string;
        all?: boolean;
    }): number;
    /**
     * Adds messages stored since the last call to the full-text index, at most `limit` of
     * them; returns how many remain. Bulk indexing costs a fraction of a per-row trigger.
     */
    indexForSearch(limit?: number): number;
    /**
     * The newest `limit` messages matching every term of `plan` (search-query.ts). One index
     * drives the query, newest first, so it stops at the limit: the word index when there are
     * words, else the trigram index; the other index and the LIKE terms filter what it yields.
     * With only one- or two-character unspaced terms there is no index to match them, and LIKE
     * reads at most the newest SHORT_TERM_WINDOW messages written in those scripts.
     */
    search(plan: SearchPlan, limit: number): Message[];
    /** A search has a handful of shapes (which indexes, how many LIKE terms): each is prepared once. */
    private searchStatement;
    outboxByClientId(clientMessageId: string): OutboxRow | undefined;
    outboxById(id: string): OutboxRow | undefined;
    /** A new outbox row: pending, or already inflight when the sync engine claimed it on insert. */
    insertOutbox(row: {
        client_message_id: string;
        id: string;
        fingerprint: string;
        now: string;
        inflight: boolean;
    }): void;
    /** Whether any row waits to be claimed: a new message must not overtake it. */
    hasPendingOutbox(): boolean;
    setOutboxState(id: string, state: OutboxState, now: string): void;
    /** Records the copy a requeue of `id` made. */
    setRequeuedAs(id: string, copyId: string): void;
    /** Settles a row still awaiting a verdict; false when it was already done or aborted. */
    recordOutboxVerdict(id: string, verdict: 'sent' | 'duplicate', serverId: string, now: string): boolean;
    /** sent → delivered on a recipient's receipt; false when the message was not (or no longer) sent. */
    markDelivered(id: string): boolean;
    /** Records a failed attempt on a row not yet done or aborted; false when it was. */
    recordOutboxFailure(id: string, state: 'pending' | 'dead', error: string, now: string): boolean;
    /** Back to pending without spending an attempt: the relay asked us to slow down, the link was fine. */
    deferOutbox(id: string, reason: string, now: string): boolean;
    /** One more send attempt is on the wire. */
    markInflight(id: string, now: string): void;
    /** The newest 1000 rows, of one state or of all. */
    outboxRows(state?: OutboxState): OutboxRow[];
    /** Pending rows oldest first, leaving out those to the recipients in `except`. */
    pendingOutbox(limit: number, except?: readonly string[]): OutboxRow[];
    /** done → expired for a message still only `sent`; false when it was delivered, or is not done. */
    markOutboxExpired(id: string, serverId: string, reason: string, now: string): boolean;
    releaseInflight(now: string): number;
    /** Rows not yet done, by state: read from the index alone, cheap at any outbox size. */
    outboxOpenCounts(): Record<OutboxState, number>;
    /** Every state, done included; counting done rows reads the whole table, so not for hot paths. */
    outboxCounts(): Record<OutboxState, number>;
    addEvent(type: EventType, ref: string, now: string): void;
    /** Events after `cursor`, each with its message (undefined if the message is gone). */
    eventsWithMessages(cursor: number, limit: number): {
        cursor: number;
        type: EventType;
        ref: string;
        message: Message | undefined;
    }[];
    /** The newest cursor ever written, even when pruning has left no event behind. */
    lastCursor(): number;
    /** Every event at or below this cursor has been pruned (0: none). */
    eventsPrunedThrough(): number;
    /** Whether the oldest event was written before `cutoff` (ISO time). */
    hasEventsBefore(cutoff: string): boolean;
    /**
     * Deletes the oldest events written before `cutoff` (ISO time), at most `limit` of them, in
     * cursor order; returns how many. Records the highest pruned cursor for `events/subscribe`.
     */
    pruneEvents(cutoff: string, limit: number): number;
    touchPeer(name: string, now: string): void;
    peers(): Peer[];
    getState(key: string): string | undefined;
    setState(key: string, value: string): void;
}
export {};
