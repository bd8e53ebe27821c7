import { type ConfigureParams, type ConfigureResult, type ConversationMessagesParams, type ConversationMessagesResult, type Conversation, type InboxListParams, type MarkReadParams, type MarkReadResult, type Message, type InboxListResult, type MessagesResult, type OutboxItem, type OutboxListParams, type Peer, type RequeueResult, type SearchParams, type SendParams, type SendResult, type StoreStatus, type SyncStatus } from '../protocol/rpc';
import { type OutboxRow, type Repository } from './store/repository';
import type { WriteBatcher } from '../lib/node/write-batcher';
import type { SyncPort } from './sync/port';
export declare class CoreService {
    readonly repo: Repository;
    readonly writes: WriteBatcher;
    readonly sync: SyncPort;
    private readonly localUser;
    /** True when this core answers one CLI verb and stops (no core runs to retry queued sends). */
    private readonly oneShot;
    private indexTimer;
    private readonly peerTouches;
    constructor(repo: Repository, writes: WriteBatcher, sync: SyncPort, localUser: () => string, 
    /** True when this core answers one CLI verb and stops (no core runs to retry queued sends). */
    oneShot?: boolean);
    send(p: SendParams): Promise<SendResult>;
    /** A verdict from the relay; a deferral (queued) also says what happens to the message next. */
    private explained;
    /** Why a message is still queued now, and what fixes it or retries it. */
    private whyQueued;
    /** The send verdict an outbox row stands for now. */
    private verdictOf;
    /** Stores a new outbound message; true when the sync engine claimed it for the wire at once. */
    private insertOutbound;
    get(id: string): Message;
    inbox(p: InboxListParams): InboxListResult;
    conversations(): {
        conversations: Conversation[];
    };
    conversationMessages(p: ConversationMessagesParams): ConversationMessagesResult;
    markRead(p: MarkReadParams): Promise<MarkReadResult>;
    /**
     * Tells subscribers which messages turned read. A whole conversation (or everything) is
     * announced by one event per conversation, so a mark-all never floods them.
     */
    private announceRead;
    search(p: SearchParams): Promise<MessagesResult>;
    /** Indexes recent messages for search in the background, a chunk per commit, when writes go quiet. */
    scheduleIndexing(): void;
    stopIndexing(): void;
    outbox(p: OutboxListParams): {
        items: OutboxItem[];
    };
    /** `message`: the row's message when the caller has already read it. */
    outboxItem(row: OutboxRow, message?: Message | undefined): OutboxItem;
    private findOutbox;
    /**
     * Sends a dead, expired, aborted or pending message again under a new id; the old entry ends
     * aborted. Idempotent: an entry already requeued answers with the copy it was requeued as
     * (whatever has become of it since; to send once more, requeue that copy).
     */
    requeue(id: string): Promise<RequeueResult>;
    abort(id: string): Promise<OutboxItem>;
    peers(): {
        peers: Peer[];
    };
    storeStatus(): StoreStatus;
    syncStatus(): SyncStatus;
    /** Applies new relay settings; with `wait_ms`, answers once the first attempt with them has ended. */
    configure(p: ConfigureParams): Promise<ConfigureResult>;
    reconnect(): SyncStatus;
}
