/**
 * The outbox: the one place an outbox row is created or moves. Each move writes the row, the
 * state its outbound message mirrors and the `outbox/changed` event together, inside the
 * caller's write, as the transition table (transitions.ts) says; a move the table does not
 * allow changes nothing.
 *
 * A move whose caller holds the row (claim, abort, retire) is checked here against that row. A
 * move that names only an id (a relay's answer, a lost link) is checked by the store in the same
 * UPDATE, whose WHERE is the table's `from` (store/repository.ts), so a verdict costs no read.
 * The sync engine's moves answer false when refused (a late verdict is ignored); the person's
 * (abort, requeue) throw `InvalidState` with a sentence that says why.
 */
import type { MessageState, OutboxState } from '../../protocol/rpc';
import { invalidState, type CoreError } from '../errors';
import type { WireMessage } from '../../protocol/relay';
import type { NewAttachment, OutboxRow, Repository } from '../store/repository';
import { OUTBOX_TRANSITIONS, allows, type OutboxTransition } from './transitions';

/**
 * What the sender chose about a new outbound message, i.e. what travels but its time, with the
 * group it goes to (null for a direct message) and its recipients (whose receipts it awaits);
 * the outbox adds the rest.
 */
export type NewOutbound = Omit<WireMessage, 'created_at'> & { mentions: string[]; group_id: string | null; recipients: readonly string[]; attachments?: readonly NewAttachment[] };

/** What a message shows while its row waits to be sent (pending or inflight). */
const QUEUED: MessageState = 'queued';

export class Outbox {
  constructor(private readonly repo: Repository) {}

  /**
   * Inside a write: stores a new outbound message and its row, pending, or inflight with one
   * attempt when the sync engine claimed it on insert.
   */
  create(message: NewOutbound, fingerprint: string, now: string, inflight: boolean): void {
    const { recipients, ...fields } = message;
    this.repo.insertMessage({ ...fields, server_id: null, conversation: message.to, direction: 'out', created_at: now, state: QUEUED, read: true, mentions_me: false, receipts_total: recipients.length });
    this.repo.addRecipients(message.id, recipients);
    this.repo.addEvent('outbox/changed', message.id, now);
    this.repo.insertOutbox({ client_message_id: message.client_message_id, id: message.id, fingerprint, now, inflight });
  }

  /** pending → inflight: the drain puts `row` on the wire. */
  claim(row: OutboxRow, now: string): boolean {
    if (!allows('claim', row.state)) return false;
    this.repo.markInflight(row.id, now);
    return this.moved('claim', row.id, now);
  }

  /** The relay took it (accepted or duplicate): done, and its message sent under `serverId`. */
  accept(id: string, verdict: 'sent' | 'duplicate', serverId: string, now: string): boolean {
    return this.repo.recordOutboxVerdict(id, verdict, serverId, now) && this.moved('accept', id, now, serverId);
  }

  /** The relay asked to retry later: back to pending without spending the attempt. */
  defer(id: string, reason: string, now: string): boolean {
    return this.repo.deferOutbox(id, reason, now) && this.moved('defer', id, now);
  }

  /** The link was lost with the row on the wire: pending again, keeping `error`. */
  retry(id: string, error: string, now: string): boolean {
    return this.repo.recordOutboxFailure(id, 'pending', error, now) && this.moved('retry', id, now);
  }

  /** No more tries: dead, and its message failed. */
  fail(id: string, reason: string, now: string): boolean {
    return this.repo.recordOutboxFailure(id, 'dead', reason, now) && this.moved('fail', id, now);
  }

  /** The relay dropped it undelivered: expired, unless a receipt came first. */
  expire(id: string, serverId: string, reason: string, now: string): boolean {
    return this.repo.markOutboxExpired(id, serverId, reason, now) && this.moved('expire', id, now);
  }

  /** `outbox abort`: throws when the row is past aborting. */
  abort(row: OutboxRow, now: string): void {
    if (!allows('abort', row.state)) throw abortRefusal(row);
    this.repo.setOutboxState(row.id, OUTBOX_TRANSITIONS.abort.to, now);
    this.moved('abort', row.id, now);
  }

  /** `outbox requeue`'s old row ends aborted (its copy is created apart); throws when it cannot be requeued. */
  retire(row: OutboxRow, now: string): void {
    if (!allows('retire', row.state)) throw retireRefusal(row);
    this.repo.setOutboxState(row.id, OUTBOX_TRANSITIONS.retire.to, now);
    this.moved('retire', row.id, now);
  }

  /** Core start: every row a crash left inflight goes back to pending. */
  releaseInflight(now: string): number {
    return this.repo.releaseInflight(now);
  }

  /** The row has moved: its message and its subscribers follow, as the table says. */
  private moved(transition: OutboxTransition, id: string, now: string, serverId: string | null = null): true {
    const rule = OUTBOX_TRANSITIONS[transition];
    if (rule.message !== null) this.repo.setMessageState(id, rule.message, serverId);
    if (rule.event) this.repo.addEvent('outbox/changed', id, now);
    return true;
  }
}

/** Why `outbox abort` refuses a row in `state` (a state abort may start from has none). */
function abortRefusal(row: Pick<OutboxRow, 'id' | 'state'>): CoreError {
  const why: Partial<Record<OutboxState, string>> = {
    inflight: 'is in flight and may already be at the relay; wait for its verdict',
    done: 'was already delivered to the relay; it cannot be aborted',
    aborted: 'is already aborted',
    expired: 'already expired at the relay undelivered; nothing to abort',
  };
  return invalidState(`message ${row.id} ${why[row.state] ?? `is ${row.state}; it cannot be aborted`}`);
}

/** Why `outbox requeue` refuses a row in `state` (an aborted row is requeued without retiring it again). */
function retireRefusal(row: Pick<OutboxRow, 'id' | 'state'>): CoreError {
  const why: Partial<Record<OutboxState, string>> = {
    inflight: 'is in flight; wait for its verdict (see `switchboard outbox`)',
    done: 'was already delivered to the relay; nothing to requeue',
  };
  return invalidState(`message ${row.id} ${why[row.state] ?? `is ${row.state}; it cannot be requeued`}`);
}
