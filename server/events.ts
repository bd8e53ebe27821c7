/**
 * Replay-safe event delivery. Events are rows in the store, written in the same transaction
 * as the change they describe; a subscriber is only a cursor into that table. Nothing is lost
 * while nobody listens, and a subscriber that resumes from its last cursor sees no gap and no
 * repeat.
 */
import { ErrorCodes, type Notifications, type NotificationName, type SyncStatus, type TransferProgress, type TrustChanged } from '../protocol/rpc';
import { CoreError } from './errors';
import { toOutboxItem, type Repository } from './store/repository';

const PAGE = 500;

export interface Subscriber {
  notify<N extends NotificationName>(name: N, params: Notifications[N]): void;
  /** Set by the hub: the last event cursor this subscriber was sent. */
  cursor?: number;
}

export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private pumping = false;
  private again = false;
  /** Set when the core stops: a pump scheduled before then must not read the closed store. */
  private closed = false;

  constructor(private readonly repo: Repository) {}

  /**
   * Starts delivering events after `since` (default: from now on). Returns the newest cursor.
   * A `since` whose next events were pruned would be a silent gap: it fails instead, so the
   * client lists again and subscribes afresh. `since: 0` asks for whatever is kept.
   */
  subscribe(subscriber: Subscriber, since?: number): number {
    const pruned = this.repo.eventsPrunedThrough();
    if (since !== undefined && since > 0 && since < pruned) {
      throw new CoreError(
        ErrorCodes.CursorTooOld,
        `cursor ${since} is too old: the core keeps events for a limited time and has pruned every event up to ${pruned}; resync (list the inbox and outbox again) and subscribe without a cursor`,
        { kind: 'cursor_too_old', pruned_through: pruned },
      );
    }
    const newest = this.repo.lastCursor();
    subscriber.cursor = since ?? newest;
    this.subscribers.add(subscriber);
    setImmediate(() => this.pump());
    return newest;
  }

  unsubscribe(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
  }

  broadcastStatus(status: SyncStatus): void {
    for (const s of this.subscribers) s.notify('sync/status', status);
  }

  /** How a file transfer goes: sent live, never kept (the message's `transferred` is the record). */
  broadcastProgress(progress: TransferProgress): void {
    for (const s of this.subscribers) s.notify('transfer/progress', progress);
  }

  /** A user's trust changed (trust-service.ts): sent live, never kept (`peers/list` is the record). */
  broadcastTrust(change: TrustChanged): void {
    for (const s of this.subscribers) s.notify('trust/changed', change);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** No more deliveries: the store is about to close. */
  close(): void {
    this.closed = true;
    this.subscribers.clear();
  }

  /** Sends every subscriber the events past its cursor, a page per turn so a long backlog never stalls the core. */
  pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    let more = false;
    try {
      for (const s of this.subscribers) if (this.sendPage(s)) more = true;
    } finally {
      this.pumping = false;
    }
    if (more || this.again) {
      this.again = false;
      setImmediate(() => this.pump());
    }
  }

  private sendPage(s: Subscriber): boolean {
    const events = this.repo.eventsWithMessages(s.cursor ?? 0, PAGE);
    for (const e of events) {
      s.cursor = e.cursor;
      const message = e.message;
      if (e.type === 'group/changed') {
        const group = this.repo.group(e.ref);
        if (group) s.notify('group/changed', { cursor: e.cursor, group });
      } else if (e.type === 'outbox/changed') {
        // One stored event stands for both: an outbox change is a change of its message.
        const row = this.repo.outboxById(e.ref);
        if (row) s.notify('outbox/changed', { cursor: e.cursor, item: toOutboxItem(row, message) });
        if (message) s.notify('message/updated', { cursor: e.cursor, message });
      } else if (message) {
        s.notify(e.type, { cursor: e.cursor, message });
      }
    }
    return events.length === PAGE;
  }
}
