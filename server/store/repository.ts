/**
 * Every SQL statement the core runs, prepared once. Row ↔ protocol mapping lives here and
 * nowhere else.
 */
import { dirname, join } from 'node:path';
import type { Attachment, AttachmentState, Conversation, CoreEvent, Group, GroupMember, GroupRole, Message, MessageState, OutboxItem, OutboxState, Peer, Receipt, ReceiptSummary } from '../../protocol/rpc';
import { GROUP_ADDRESS_PREFIX, isGroupAddress } from '../../protocol/names';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db';
import { UNSPACED_BODY_GLOB } from './migrations';
import { SHORT_TERM_WINDOW, type SearchPlan } from './search-query';
import { OUTBOX_TRANSITIONS, fromStatesSql as from, type OutboxTransition } from '../outbox/transitions';

/** The state `transition` ends in, for a statement's SET. */
const to = (transition: OutboxTransition) => `'${OUTBOX_TRANSITIONS[transition].to}'`;

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
  group_id: string | null;
  /** JSON array of user names. */
  mentions: string;
  mentions_me: number;
  /** Outbound only (null for inbound): recipients, and how many delivered and read. */
  receipts_total: number | null;
  receipts_delivered: number;
  receipts_read: number;
  attachment_count: number;
  /** The sender's owner when the relay said it is an agent (migration 10); null otherwise. */
  from_owner: string | null;
}

/** One file of a message as stored (migration 9). */
export interface AttachmentRow {
  message_id: string;
  direction: 'in' | 'out';
  idx: number;
  name: string;
  size: number;
  sha256: string;
  mime: string;
  state: AttachmentState;
  transferred: number;
  error: string | null;
  /** Outbound: the relay holds the whole blob (1) or not yet (0). */
  at_relay: number;
}

/** A file of a new message, as the store takes it. */
export interface NewAttachment {
  name: string;
  size: number;
  sha256: string;
  mime: string;
  state: AttachmentState;
  transferred?: number;
  at_relay?: boolean;
}

interface GroupRow {
  group_id: string;
  name: string;
  role: GroupRole | null;
  created_by: string | null;
  created_at: string | null;
  last_pos: number;
  updated_at: string;
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

/**
 * A message as the store takes it: the protocol's own shape, with the group's id for a group
 * message (`group` is derived from the conversation, which a rename moves). Receipts are only
 * counted here: the total is the number of recipients; the rows are `addRecipients`'.
 */
export type NewMessage = Omit<Message, 'group' | 'receipts' | 'attachments'> & { group_id: string | null; receipts_total?: number | null; attachments?: readonly NewAttachment[] };

export type EventType = CoreEvent['type'];

export function toMessage(row: MessageRow, attachments: Attachment[] = []): Message {
  return {
    id: row.id,
    client_message_id: row.client_message_id,
    server_id: row.server_id,
    conversation: row.conversation,
    direction: row.direction,
    from: row.sender,
    to: row.recipient,
    body: row.body,
    reply_to: row.reply_to,
    request_id: row.request_id,
    created_at: row.created_at,
    state: row.state,
    read: row.read === 1,
    group: row.group_id !== null && isGroupAddress(row.conversation) ? row.conversation.slice(GROUP_ADDRESS_PREFIX.length) : null,
    mentions: parseNames(row.mentions),
    mentions_me: row.mentions_me === 1,
    receipts: row.direction === 'out' ? receiptSummary(row) : null,
    attachments,
    // Only when known, so a message from a person (or stored before agents) keeps its shape.
    ...(row.from_owner ? { from_owner: row.from_owner } : {}),
  };
}

function receiptSummary(row: Pick<MessageRow, 'receipts_total' | 'receipts_delivered' | 'receipts_read'>): ReceiptSummary {
  const delivered = row.receipts_delivered;
  const read = row.receipts_read;
  return { total: Math.max(row.receipts_total ?? 1, delivered, read), delivered, read };
}

function parseNames(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** An attachment as clients see it; `path` is the verified store copy once ready. */
export function toAttachment(row: AttachmentRow, filesDir: string): Attachment {
  return {
    index: row.idx,
    name: row.name,
    size: row.size,
    sha256: row.sha256,
    mime: row.mime,
    state: row.state,
    transferred: row.state === 'ready' && row.direction === 'in' ? row.size : row.transferred,
    error: row.error,
    path: row.state === 'ready' ? join(filesDir, row.sha256) : null,
  };
}

/** An outbox row as clients see it, with its message's recipient and body (empty when the message is gone). */
export function toOutboxItem(row: OutboxRow, message: Pick<Message, 'to' | 'body'> | undefined): OutboxItem {
  return {
    id: row.id,
    client_message_id: row.client_message_id,
    to: message?.to ?? '',
    body: message?.body ?? '',
    state: row.state,
    attempts: row.attempts,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const EVENTS_PRUNED_KEY = 'events_pruned_through';

export class Repository {
  private readonly s;
  private readonly searchStatements = new Map<string, Statement<unknown[], MessageRow>>();

  /** Where verified files live: `<home>/files` (FileStore keeps it). */
  readonly filesDir: string;

  constructor(
    readonly db: Db,
    filesDir?: string,
  ) {
    this.filesDir = filesDir ?? join(dirname(db.name), 'files');
    const p = <T = unknown>(sql: string) => db.prepare<unknown[], T>(sql);
    this.s = {
      // Positional, not named (@id, ...): binding 19 values by name, from an object spread for
      // the purpose, cost about as much as the insert itself, on every message sent or received.
      insertMessage: p(`INSERT INTO messages (id, client_message_id, server_id, conversation, direction, sender, recipient, body, reply_to, request_id, created_at, state, read,
          group_id, mentions, mentions_me, receipts_total, attachment_count, from_owner)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertAttachment: p(`INSERT INTO attachments (message_id, direction, idx, name, size, sha256, mime, state, transferred, at_relay)
        VALUES (@message_id, @direction, @idx, @name, @size, @sha256, @mime, @state, @transferred, @at_relay)`),
      attachmentsOf: p<AttachmentRow>('SELECT * FROM attachments WHERE message_id = ? AND direction = ? ORDER BY idx'),
      // Outbound blobs the relay does not hold yet, of messages waiting to be sent, oldest first.
      uploadsDue: p<AttachmentRow>(
        `SELECT a.* FROM attachments a JOIN outbox o ON o.id = a.message_id
         WHERE a.direction = 'out' AND a.at_relay = 0 AND o.state <> 'done' AND o.state = 'pending'
         ORDER BY o.created_at, o.rowid, a.idx LIMIT ?`,
      ),
      uploadProgress: p("UPDATE attachments SET transferred = ? WHERE direction = 'out' AND sha256 = ? AND at_relay = 0"),
      uploadComplete: p<{ message_id: string }>("UPDATE attachments SET at_relay = 1, transferred = size WHERE direction = 'out' AND sha256 = ? AND at_relay = 0 RETURNING message_id"),
      uploadReset: p("UPDATE attachments SET at_relay = 0, transferred = 0 WHERE direction = 'out' AND message_id = ?"),
      uploadsLeft: p<{ n: number; size: number; transferred: number }>(
        "SELECT count(*) AS n, coalesce(sum(size), 0) AS size, coalesce(sum(transferred), 0) AS transferred FROM attachments WHERE direction = 'out' AND message_id = ? AND at_relay = 0",
      ),
      blobNamed: p<{ one: number }>('SELECT 1 AS one FROM attachments WHERE sha256 = ? LIMIT 1'),
      downloadsDue: p<AttachmentRow>("SELECT * FROM attachments WHERE state = 'downloading' ORDER BY message_id, idx LIMIT ?"),
      setAttachmentState: p('UPDATE attachments SET state = ?, error = ? WHERE message_id = ? AND direction = ? AND idx = ?'),
      blobProgress: p("UPDATE attachments SET transferred = ? WHERE sha256 = ? AND state = 'downloading'"),
      // Every row naming the blob: one verified file serves them all.
      blobReady: p<{ message_id: string }>("UPDATE attachments SET state = 'ready', transferred = size, error = NULL WHERE sha256 = ? AND state <> 'ready' RETURNING message_id"),
      blobFailed: p<{ message_id: string }>("UPDATE attachments SET state = 'failed', error = ? WHERE sha256 = ? AND state = 'downloading' RETURNING message_id"),
      outboundByServerId: p<MessageRow>("SELECT * FROM messages WHERE server_id = ? AND direction = 'out'"),
      outboundById: p<MessageRow>("SELECT * FROM messages WHERE id = ? AND direction = 'out'"),
      outboundServerIdById: p<{ server_id: string | null }>("SELECT server_id FROM messages WHERE id = ? AND direction = 'out'"),
      insertReceipt: p('INSERT OR IGNORE INTO receipts (message_id, user) VALUES (?, ?)'),
      receiptsOf: p<Receipt>('SELECT user, delivered_at, read_at, dropped FROM receipts WHERE message_id = ? ORDER BY user'),
      receiptDropped: p("UPDATE receipts SET dropped = ? WHERE message_id = ? AND user = ? AND delivered_at IS NULL AND dropped IS NULL"),
      receiptsUndropped: p<{ n: number }>('SELECT count(*) AS n FROM receipts WHERE message_id = ? AND dropped IS NULL'),
      receiptDelivered: p('UPDATE receipts SET delivered_at = ? WHERE message_id = ? AND user = ? AND delivered_at IS NULL'),
      receiptRead: p('UPDATE receipts SET read_at = ?, delivered_at = coalesce(delivered_at, ?) WHERE message_id = ? AND user = ? AND read_at IS NULL'),
      recountReceipts: p(`UPDATE messages SET
          receipts_delivered = (SELECT count(*) FROM receipts r WHERE r.message_id = messages.id AND r.delivered_at IS NOT NULL),
          receipts_read = (SELECT count(*) FROM receipts r WHERE r.message_id = messages.id AND r.read_at IS NOT NULL),
          receipts_total = max(coalesce(receipts_total, 0), (SELECT count(*) FROM receipts r WHERE r.message_id = messages.id))
        WHERE id = ? AND direction = 'out'`),
      groupById: p<GroupRow>('SELECT * FROM groups WHERE group_id = ?'),
      // A current group of that name first, then the newest that was left.
      groupByName: p<GroupRow>('SELECT * FROM groups WHERE name = ? ORDER BY role IS NULL, updated_at DESC LIMIT 1'),
      groupsAll: p<GroupRow>('SELECT * FROM groups ORDER BY role IS NULL, name'),
      upsertGroup: p(`INSERT INTO groups (group_id, name, role, created_by, created_at, last_pos, updated_at)
          VALUES (@group_id, @name, @role, @created_by, @created_at, @last_pos, @updated_at)
        ON CONFLICT (group_id) DO UPDATE SET name = excluded.name, role = excluded.role,
          created_by = coalesce(groups.created_by, excluded.created_by), created_at = coalesce(groups.created_at, excluded.created_at),
          last_pos = max(groups.last_pos, excluded.last_pos), updated_at = excluded.updated_at`),
      groupMembers: p<GroupMember & { owner: string | null }>('SELECT user, role, owner FROM group_members WHERE group_id = ? ORDER BY user'),
      peerOwners: p<{ name: string; owner: string }>('SELECT name, owner FROM peers WHERE owner IS NOT NULL'),
      groupMemberCount: p<{ n: number }>('SELECT count(*) AS n FROM group_members WHERE group_id = ?'),
      clearGroupMembers: p('DELETE FROM group_members WHERE group_id = ?'),
      insertGroupMember: p('INSERT OR REPLACE INTO group_members (group_id, user, role, owner) VALUES (?, ?, ?, ?)'),
      moveGroupMessages: p("UPDATE messages SET conversation = @peer, recipient = CASE WHEN recipient LIKE '#%' THEN @peer ELSE recipient END WHERE group_id = @group_id"),
      conversationCounters: p<{ unread: number; unread_mentions: number; total: number; last_seq: number | null }>('SELECT unread, unread_mentions, total, last_seq FROM conversations WHERE peer = ?'),
      deleteConversation: p('DELETE FROM conversations WHERE peer = ?'),
      mergeConversation: p(`INSERT INTO conversations (peer, unread, unread_mentions, total, last_seq) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (peer) DO UPDATE SET unread = unread + excluded.unread, unread_mentions = unread_mentions + excluded.unread_mentions,
          total = total + excluded.total, last_seq = max(coalesce(last_seq, 0), coalesce(excluded.last_seq, 0))`),
      queueReadReceipt: p('INSERT OR IGNORE INTO read_receipts_out (server_id) VALUES (?)'),
      readReceiptsDue: p<{ seq: number; server_id: string }>('SELECT seq, server_id FROM read_receipts_out ORDER BY seq LIMIT ?'),
      deleteReadReceiptsThrough: p('DELETE FROM read_receipts_out WHERE seq <= ?'),
      // 'in' sorts before 'out': the inbound copy of a message to oneself wins, read in index order.
      messageById: p<MessageRow>('SELECT * FROM messages WHERE id = ? ORDER BY direction LIMIT 1'),
      // Inbound messages are known by the relay's server_id: the id is the sender's choice.
      inboundByServerId: p<{ one: number }>("SELECT 1 AS one FROM messages WHERE server_id = ? AND direction = 'in'"),
      idHolders: p<{ direction: 'in' | 'out'; sender: string }>('SELECT direction, sender FROM messages WHERE id = ?'),
      messageSeq: p<{ seq: number }>('SELECT seq FROM messages WHERE id = ? ORDER BY direction LIMIT 1'),
      setMessageState: p("UPDATE messages SET state = ?, server_id = coalesce(?, server_id) WHERE id = ? AND direction = 'out'"),
      conversationNewest: p<MessageRow>('SELECT * FROM messages WHERE conversation = ? ORDER BY seq DESC LIMIT ?'),
      conversationBefore: p<MessageRow>('SELECT * FROM messages WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT ?'),
      // One query, not one per conversation: the newest message comes along by join.
      conversations: p<{ peer: string; unread: number; unread_mentions: number; total: number; member_count: number | null } & Partial<MessageRow>>(
        `SELECT m.*, c.peer, c.unread, c.unread_mentions, c.total,
           (SELECT count(*) FROM group_members gm WHERE gm.group_id = (SELECT g.group_id FROM groups g WHERE '#' || g.name = c.peer ORDER BY g.role IS NULL, g.updated_at DESC LIMIT 1)) AS member_count
         FROM conversations c LEFT JOIN messages m ON m.seq = c.last_seq ORDER BY c.last_seq DESC`,
      ),
      unreadTotal: p<{ n: number | null }>('SELECT sum(unread) AS n FROM conversations'),
      messageTotal: p<{ n: number | null }>('SELECT sum(total) AS n FROM conversations'),
      // Each answers the server ids of the inbound messages it turned read: their read receipts.
      markReadServerId: p<{ id: string }>("UPDATE messages SET read = 1 WHERE server_id = ? AND read = 0 AND direction = 'in' RETURNING id"),
      markReadId: p<{ server_id: string | null; direction: string }>("UPDATE messages SET read = 1 WHERE id = ? AND read = 0 AND direction = 'in' RETURNING server_id, direction"),
      markReadConversation: p<{ server_id: string | null; direction: string }>('UPDATE messages SET read = 1 WHERE conversation = ? AND read = 0 RETURNING server_id, direction'),
      markReadAll: p<{ server_id: string | null; direction: string }>('UPDATE messages SET read = 1 WHERE read = 0 RETURNING server_id, direction'),
      outboxByClientId: p<OutboxRow>('SELECT * FROM outbox WHERE client_message_id = ?'),
      outboxById: p<OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
      // Positional for the same reason as insertMessage: one per send.
      insertOutbox: p(`INSERT INTO outbox (client_message_id, id, fingerprint, state, attempts, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      // A row still uploading its files is not ahead of anyone: it is claimed once they are at the relay.
      anyPending: p<{ one: number }>(
        `SELECT 1 AS one FROM outbox WHERE state <> 'done' AND state = 'pending'
           AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = outbox.id AND a.direction = 'out' AND a.at_relay = 0) LIMIT 1`,
      ),
      // Unguarded: the caller holds the row and has checked its state (server/outbox).
      setOutboxState: p('UPDATE outbox SET state = ?, updated_at = ? WHERE id = ?'),
      setRequeuedAs: p('UPDATE outbox SET requeued_as = ? WHERE id = ?'),
      // The outbox moves a relay's answer makes are guarded here, by the states the transition
      // table (server/outbox/transitions.ts) lets them start from: a late verdict for a row
      // already done or aborted changes nothing (the caller learns that from \`changes\`).
      outboxVerdict: p(`UPDATE outbox SET state = ${to('accept')}, verdict = ?, server_id = ?, last_error = NULL, updated_at = ? WHERE id = ? AND ${from('accept')}`),
      // A receipt counts only for a message the relay accepted (sent), and only once.
      markDelivered: p("UPDATE messages SET state = 'delivered' WHERE id = ? AND direction = 'out' AND state = 'sent'"),
      outboxFailure: p(`UPDATE outbox SET state = ${to('fail')}, last_error = ?, updated_at = ? WHERE id = ? AND ${from('fail')}`),
      outboxRetry: p(`UPDATE outbox SET state = ${to('retry')}, last_error = ?, updated_at = ? WHERE id = ? AND ${from('retry')}`),
      outboxRefund: p(`UPDATE outbox SET state = ${to('defer')}, attempts = max(0, attempts - 1), last_error = ?, updated_at = ? WHERE id = ? AND ${from('defer')}`),
      // Unguarded, as setOutboxState: the drain claims rows it has just read as pending.
      outboxInflight: p(`UPDATE outbox SET state = ${to('claim')}, attempts = attempts + 1, updated_at = ? WHERE id = ?`),
      // Newest first: rowid order is creation order, and reading it backwards stops at the limit.
      outboxList: p<OutboxRow>('SELECT * FROM outbox ORDER BY rowid DESC LIMIT 1000'),
      outboxListDone: p<OutboxRow>("SELECT * FROM outbox WHERE state = 'done' ORDER BY rowid DESC LIMIT 1000"),
      // The other states go by the outbox_open index: the \`state <> 'done'\` term must be spelled out.
      outboxListOpen: p<OutboxRow>("SELECT * FROM outbox WHERE state <> 'done' AND state = ? ORDER BY created_at DESC, rowid DESC LIMIT 1000"),
      // A message whose files are still uploading is not claimed: it leaves once they are at the
      // relay (the uploader kicks the drain), and never holds up the messages behind it.
      outboxClaim: p<OutboxRow>(
        `SELECT * FROM outbox WHERE state <> 'done' AND state = 'pending'
           AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = outbox.id AND a.direction = 'out' AND a.at_relay = 0)
         ORDER BY created_at, rowid LIMIT ?`,
      ),
      // The same, but leaving out the rows to recipients held back (a JSON array of names).
      outboxClaimExcept: p<OutboxRow>(
        `SELECT o.* FROM outbox o JOIN messages m ON m.id = o.id AND m.direction = 'out'
         WHERE o.state <> 'done' AND o.state = 'pending' AND m.recipient NOT IN (SELECT value FROM json_each(?))
           AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = o.id AND a.direction = 'out' AND a.at_relay = 0)
         ORDER BY o.created_at, o.rowid LIMIT ?`,
      ),
      // Only a message the relay accepted and no recipient device took: a receipt wins.
      outboxExpired: p(
        `UPDATE outbox SET state = ${to('expire')}, last_error = ?, updated_at = ? WHERE id = ? AND server_id = ? AND ${from('expire')}
         AND EXISTS (SELECT 1 FROM messages m WHERE m.id = outbox.id AND m.direction = 'out' AND m.state = 'sent')`,
      ),
      outboxReleaseInflight: p(`UPDATE outbox SET state = ${to('release')}, updated_at = ? WHERE state <> 'done' AND ${from('release')}`),
      outboxOpenCounts: p<{ state: OutboxState; n: number }>("SELECT state, count(*) AS n FROM outbox WHERE state <> 'done' GROUP BY state"),
      outboxTotal: p<{ n: number }>('SELECT count(*) AS n FROM outbox'),
      insertEvent: p('INSERT INTO events (type, ref, created_at) VALUES (?, ?, ?)'),
      // A page of events with the message each refers to, in one statement rather than one
      // lookup per event (the inbound copy first, as messageById).
      eventsWithMessages: p<{ event_cursor: number; event_type: EventType; event_ref: string } & Partial<MessageRow>>(
        `SELECT e.cursor AS event_cursor, e.type AS event_type, e.ref AS event_ref, m.* FROM events e
         LEFT JOIN messages m ON m.seq = (SELECT seq FROM messages WHERE id = e.ref ORDER BY direction LIMIT 1)
         WHERE e.cursor > ? ORDER BY e.cursor LIMIT ?`,
      ),
      lastCursor: p<{ c: number | null }>('SELECT max(cursor) AS c FROM events'),
      oldestEvents: p<{ cursor: number; created_at: string }>('SELECT cursor, created_at FROM events ORDER BY cursor LIMIT ?'),
      deleteEventsThrough: p('DELETE FROM events WHERE cursor <= ?'),
      setPeerOwner: p('UPDATE peers SET owner = ? WHERE name = ? AND owner IS NOT ?'),
      upsertPeer: p('INSERT INTO peers (name, first_seen_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at'),
      peers: p<{ name: string; last_seen_at: string; unread: number | null; total: number | null; owner: string | null }>(
        'SELECT p.name, p.last_seen_at, c.unread, c.total, p.owner FROM peers p LEFT JOIN conversations c ON c.peer = p.name ORDER BY p.last_seen_at DESC',
      ),
      maxSeq: p<{ n: number | null }>('SELECT max(seq) AS n FROM messages'),
      indexRange: p('INSERT INTO messages_fts (rowid, body) SELECT seq, body FROM messages WHERE seq > ? AND seq <= ? ORDER BY seq'),
      indexRangeTrigram: p(`INSERT INTO messages_trigram (rowid, body) SELECT seq, body FROM messages WHERE seq > ? AND seq <= ? AND body GLOB ${UNSPACED_BODY_GLOB} ORDER BY seq`),
      getState: p<{ value: string }>('SELECT value FROM sync_state WHERE key = ?'),
      setState: p('INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  insertMessage(m: NewMessage): void {
    const attachments = m.attachments ?? [];
    // In the statement's column order.
    this.s.insertMessage.run(
      m.id,
      m.client_message_id,
      m.server_id,
      m.conversation,
      m.direction,
      m.from,
      m.to,
      m.body,
      m.reply_to,
      m.request_id,
      m.created_at,
      m.state,
      m.read ? 1 : 0,
      m.group_id,
      JSON.stringify(m.mentions),
      m.mentions_me ? 1 : 0,
      m.direction === 'out' ? (m.receipts_total ?? 1) : null,
      attachments.length,
      m.from_owner ?? null,
    );
    attachments.forEach((a, idx) =>
      this.s.insertAttachment.run({
        message_id: m.id,
        direction: m.direction,
        idx,
        name: a.name,
        size: a.size,
        sha256: a.sha256,
        mime: a.mime,
        state: a.state,
        transferred: a.transferred ?? 0,
        at_relay: a.at_relay ? 1 : 0,
      }),
    );
  }

  /** A stored row as clients see it, its attachments read only when it has any. */
  private readonly toMessage = (row: MessageRow): Message =>
    toMessage(row, row.attachment_count > 0 ? this.s.attachmentsOf.all(row.id, row.direction).map((a) => toAttachment(a, this.filesDir)) : []);

  /** The message columns of a LEFT JOIN row, or undefined when the join found no message. */
  private joinedMessage(row: Partial<MessageRow>): Message | undefined {
    return row.seq === undefined || row.seq === null ? undefined : this.toMessage(row as MessageRow);
  }

  attachmentRows(messageId: string, direction: 'in' | 'out'): AttachmentRow[] {
    return this.s.attachmentsOf.all(messageId, direction);
  }

  /** Outbound blobs to upload, of messages waiting to be sent, oldest first. */
  uploadsDue(limit: number): AttachmentRow[] {
    return this.s.uploadsDue.all(limit);
  }

  /** The relay holds `have` bytes of an outbound blob. */
  recordUploadProgress(sha256: string, have: number): void {
    this.s.uploadProgress.run(have, sha256);
  }

  /** The relay holds the whole blob: the ids of the messages that were waiting on it. */
  recordUploadComplete(sha256: string): string[] {
    return [...new Set(this.s.uploadComplete.all(sha256).map((r) => r.message_id))];
  }

  /** The relay no longer has a blob of this message (blob_missing): upload its files again. */
  resetUploads(messageId: string): void {
    this.s.uploadReset.run(messageId);
  }

  /** An outbound message's blobs not yet at the relay, and their bytes. */
  uploadsLeft(messageId: string): { n: number; size: number; transferred: number } {
    return this.s.uploadsLeft.get(messageId) ?? { n: 0, size: 0, transferred: 0 };
  }

  /** Whether any stored message names this blob. */
  blobNamed(sha256: string): boolean {
    return this.s.blobNamed.get(sha256) !== undefined;
  }

  /** Attachments marked downloading, oldest message first. */
  downloadsDue(limit: number): AttachmentRow[] {
    return this.s.downloadsDue.all(limit);
  }

  setAttachmentState(messageId: string, direction: 'in' | 'out', idx: number, state: AttachmentState, error: string | null = null): void {
    this.s.setAttachmentState.run(state, error, messageId, direction, idx);
  }

  recordDownloadProgress(sha256: string, transferred: number): void {
    this.s.blobProgress.run(transferred, sha256);
  }

  /** The verified blob is in the store: every attachment naming it is ready; the ids of their messages. */
  markBlobReady(sha256: string): string[] {
    return [...new Set(this.s.blobReady.all(sha256).map((r) => r.message_id))];
  }

  /** Downloading it failed: the ids of the messages whose attachments say so. */
  markBlobFailed(sha256: string, error: string): string[] {
    return [...new Set(this.s.blobFailed.all(error, sha256).map((r) => r.message_id))];
  }

  /** The outbound message the relay calls `serverId` (an own-device copy, a receipt's). */
  outboundByServerId(serverId: string): Message | undefined {
    const row = this.s.outboundByServerId.get(serverId);
    return row && this.toMessage(row);
  }

  outbound(id: string): Message | undefined {
    const row = this.s.outboundById.get(id);
    return row && this.toMessage(row);
  }

  /**
   * Whether outbound message `id` is here, and the server id it was sent under (null before its
   * verdict): what a receipt checks, without reading and building the whole message, which cost
   * several times the lookup on every receipt.
   */
  outboundServerId(id: string): { server_id: string | null } | undefined {
    return this.s.outboundServerIdById.get(id);
  }

  /** The recipients an outbound message went to, each with no receipt yet. */
  addRecipients(messageId: string, users: readonly string[]): void {
    for (const user of users) this.s.insertReceipt.run(messageId, user);
  }

  receipts(messageId: string): Receipt[] {
    return this.s.receiptsOf.all(messageId);
  }

  /**
   * One recipient's receipt for outbound `messageId` (a recipient not listed yet is added: the
   * relay knew of a member this home had not heard of). True when it changed anything; the
   * message's counts follow.
   */
  recordReceipt(messageId: string, user: string, status: 'delivered' | 'read', at: string): boolean {
    this.s.insertReceipt.run(messageId, user);
    const changed = (status === 'delivered' ? this.s.receiptDelivered.run(at, messageId, user) : this.s.receiptRead.run(at, at, messageId, user)).changes > 0;
    if (changed) this.s.recountReceipts.run(messageId);
    return changed;
  }

  /**
   * The relay will not deliver outbound `messageId` to `user` (a group member passed over for a
   * full quota, or expired for them). True when it changed anything; a recipient who already has
   * it is left as is.
   */
  recordDropped(messageId: string, user: string, reason: 'quota' | 'retention'): boolean {
    this.s.insertReceipt.run(messageId, user);
    return this.s.receiptDropped.run(reason, messageId, user).changes > 0;
  }

  /**
   * Another device of this user read the inbound message the relay calls `serverId`: read here
   * too. Its id when this changed it. No read receipt is queued: that device sent it.
   */
  markReadByServerId(serverId: string): string | undefined {
    return this.s.markReadServerId.get(serverId)?.id;
  }

  /** True when no recipient of outbound `messageId` is left who may still get it. */
  droppedForAll(messageId: string): boolean {
    return (this.s.receiptsUndropped.get(messageId)?.n ?? 0) === 0;
  }

  group(groupId: string): Group | undefined {
    const row = this.s.groupById.get(groupId);
    return row && this.toGroup(row);
  }

  groupByName(name: string): Group | undefined {
    const row = this.s.groupByName.get(name);
    return row && this.toGroup(row);
  }

  groups(): Group[] {
    return this.s.groupsAll.all().map((row) => this.toGroup(row));
  }

  private toGroup(row: GroupRow): Group {
    const counters = this.s.conversationCounters.get(`${GROUP_ADDRESS_PREFIX}${row.name}`);
    return {
      group_id: row.group_id,
      name: row.name,
      role: row.role,
      members: this.s.groupMembers.all(row.group_id).map(({ owner, ...m }) => (owner ? { ...m, owner } : m)),
      created_by: row.created_by,
      created_at: row.created_at,
      unread: counters?.unread ?? 0,
      unread_mentions: counters?.unread_mentions ?? 0,
    };
  }

  /** The last timeline position this home has of the group (0 when unknown). */
  groupLastPos(groupId: string): number {
    return this.s.groupById.get(groupId)?.last_pos ?? 0;
  }

  groupMemberCount(groupId: string): number {
    return this.s.groupMemberCount.get(groupId)?.n ?? 0;
  }

  /**
   * Records a group as the relay said it is at timeline position `pos`: name, this user's role
   * (null when no longer a member), members. A rename moves the conversation, its messages and
   * counters to `#new`. An event older than what is known changes nothing (false).
   */
  saveGroup(g: { group_id: string; name: string; pos: number; members: readonly GroupMember[]; me: string; created_by?: string | null; created_at?: string | null }, now: string): boolean {
    const before = this.s.groupById.get(g.group_id);
    if (before && g.pos < before.last_pos) return false;
    const mine = g.members.find((m) => m.user === g.me);
    if (before && before.name !== g.name) this.moveConversation(g.group_id, before.name, g.name);
    this.s.upsertGroup.run({
      group_id: g.group_id,
      name: g.name,
      role: mine?.role ?? null,
      created_by: g.created_by ?? null,
      created_at: g.created_at ?? null,
      last_pos: g.pos,
      updated_at: now,
    });
    this.s.clearGroupMembers.run(g.group_id);
    for (const m of g.members) this.s.insertGroupMember.run(g.group_id, m.user, m.role, m.owner ?? null);
    return true;
  }

  /** A renamed group's messages and counters go to its new conversation. */
  private moveConversation(groupId: string, from: string, to: string): void {
    const oldPeer = `${GROUP_ADDRESS_PREFIX}${from}`;
    const newPeer = `${GROUP_ADDRESS_PREFIX}${to}`;
    this.s.moveGroupMessages.run({ peer: newPeer, group_id: groupId });
    const counters = this.s.conversationCounters.get(oldPeer);
    if (!counters) return;
    this.s.deleteConversation.run(oldPeer);
    this.s.mergeConversation.run(newPeer, counters.unread, counters.unread_mentions, counters.total, counters.last_seq);
  }

  queueReadReceipts(serverIds: readonly string[]): void {
    for (const id of serverIds) this.s.queueReadReceipt.run(id);
  }

  /** The oldest queued read receipts, at most `limit`. */
  readReceiptsDue(limit: number): { seq: number; server_id: string }[] {
    return this.s.readReceiptsDue.all(limit);
  }

  /** Read receipts up to `seq` are on the link. */
  readReceiptsSent(seq: number): void {
    this.s.deleteReadReceiptsThrough.run(seq);
  }

  message(id: string): Message | undefined {
    const row = this.s.messageById.get(id);
    return row && this.toMessage(row);
  }

  /** Whether the inbound message the relay calls `serverId` is stored (a redelivery stores nothing). */
  hasInboundServerId(serverId: string): boolean {
    return this.s.inboundByServerId.get(serverId) !== undefined;
  }

  /**
   * Whether an inbound message from `from` may be stored under `id`: no inbound message has
   * it, and no outbound one either unless that is its own other copy (a message to oneself).
   */
  inboundIdFree(id: string, from: string): boolean {
    return this.s.idHolders.all(id).every((row) => row.direction === 'out' && row.sender === from);
  }

  /** Outbound messages only: inbound ones stay `received`. */
  setMessageState(id: string, state: MessageState, serverId: string | null = null): void {
    this.s.setMessageState.run(state, serverId, id);
  }

  /** Inbound messages, newest first: unread only, from one sender, in one conversation, mentioning this user — any of them. */
  inbox(opts: { unread: boolean; from?: string; in?: string; mentions?: boolean; limit: number }): Message[] {
    let sql = "SELECT * FROM messages WHERE direction = 'in'";
    const params: (string | number)[] = [];
    if (opts.unread) sql += ' AND read = 0';
    if (opts.from !== undefined) {
      sql += ' AND sender = ?';
      params.push(opts.from);
    }
    if (opts.in !== undefined) {
      sql += ' AND conversation = ?';
      params.push(opts.in);
    }
    if (opts.mentions) sql += ' AND mentions_me = 1';
    sql += ' ORDER BY seq DESC LIMIT ?';
    params.push(opts.limit);
    return this.searchStatement(sql).all(...params).map(this.toMessage);
  }

  /** Newest `limit` messages of a conversation (optionally before a message), oldest first. */
  conversationPage(peer: string, limit: number, beforeId?: string): { messages: Message[]; has_more: boolean } {
    let rows: MessageRow[];
    if (beforeId === undefined) rows = this.s.conversationNewest.all(peer, limit + 1);
    else {
      const anchor = this.s.messageSeq.get(beforeId);
      if (!anchor) return { messages: [], has_more: false };
      rows = this.s.conversationBefore.all(peer, anchor.seq, limit + 1);
    }
    const has_more = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(this.toMessage), has_more };
  }

  conversations(): Conversation[] {
    const owners = this.peerOwners();
    return this.s.conversations.all().map((c) => {
      const group = isGroupAddress(c.peer);
      const owner = group ? undefined : owners.get(c.peer);
      return {
        peer: c.peer,
        kind: group ? ('group' as const) : ('user' as const),
        unread: c.unread,
        unread_mentions: c.unread_mentions,
        total: c.total,
        last: this.joinedMessage(c) ?? null,
        members: group ? (c.member_count ?? 0) : null,
        ...(owner !== undefined ? { owner } : {}),
      };
    });
  }

  unreadTotal(): number {
    return this.s.unreadTotal.get()?.n ?? 0;
  }

  messageTotal(): number {
    return this.s.messageTotal.get()?.n ?? 0;
  }

  /** How many messages turned read, and the server ids of the inbound ones among them (for read receipts). */
  markRead(target: { ids?: string[]; conversation?: string; all?: boolean }): { changed: number; serverIds: string[] } {
    const rows: { server_id: string | null; direction: string }[] = [];
    if (target.all) rows.push(...this.s.markReadAll.all());
    else {
      if (target.conversation !== undefined) rows.push(...this.s.markReadConversation.all(target.conversation));
      for (const id of target.ids ?? []) rows.push(...this.s.markReadId.all(id));
    }
    const serverIds = rows.filter((r) => r.direction === 'in' && r.server_id !== null).map((r) => r.server_id!);
    return { changed: rows.length, serverIds };
  }

  /**
   * Adds messages stored since the last call to the full-text index, at most `limit` of
   * them; returns how many remain. Bulk indexing costs a fraction of a per-row trigger.
   */
  indexForSearch(limit = Number.MAX_SAFE_INTEGER): number {
    const done = Number(this.getState('fts_seq') ?? 0);
    const newest = this.s.maxSeq.get()?.n ?? 0;
    if (newest <= done) return 0;
    const upTo = Math.min(newest, done + limit);
    this.s.indexRange.run(done, upTo);
    this.s.indexRangeTrigram.run(done, upTo);
    this.setState('fts_seq', String(upTo));
    return newest - upTo;
  }

  /**
   * The newest `limit` messages matching every term of `plan` (search-query.ts). One index
   * drives the query, newest first, so it stops at the limit: the word index when there are
   * words, else the trigram index; the other index and the LIKE terms filter what it yields.
   * With only one- or two-character unspaced terms there is no index to match them, and LIKE
   * reads at most the newest SHORT_TERM_WINDOW messages written in those scripts.
   */
  search(plan: SearchPlan, limit: number): Message[] {
    const like = plan.short.map(() => " AND m.body LIKE ? ESCAPE '\\'").join('');
    let sql: string;
    const params: (string | number)[] = [];
    if (plan.words !== null) {
      sql = 'SELECT m.* FROM messages_fts f JOIN messages m ON m.seq = f.rowid WHERE messages_fts MATCH ?';
      params.push(plan.words);
      if (plan.substrings !== null) {
        sql += ' AND f.rowid IN (SELECT rowid FROM messages_trigram WHERE messages_trigram MATCH ?)';
        params.push(plan.substrings);
      }
      sql += `${like} ORDER BY f.rowid DESC LIMIT ?`;
    } else if (plan.substrings !== null) {
      sql = `SELECT m.* FROM messages_trigram t JOIN messages m ON m.seq = t.rowid WHERE messages_trigram MATCH ?${like} ORDER BY t.rowid DESC LIMIT ?`;
      params.push(plan.substrings);
    } else {
      // Only one- or two-character terms: no index can match them, but only a body in those
      // scripts can hold one, and those are exactly the trigram index's documents (its docsize
      // table has a row per document, keyed by rowid): LIKE reads the newest of them, bounded.
      sql = `SELECT m.* FROM (SELECT id FROM messages_trigram_docsize ORDER BY id DESC LIMIT ${SHORT_TERM_WINDOW}) d JOIN messages m ON m.seq = d.id WHERE 1${like} ORDER BY d.id DESC LIMIT ?`;
    }
    params.push(...plan.short, limit);
    return this.searchStatement(sql).all(...params).map(this.toMessage);
  }

  /** A search has a handful of shapes (which indexes, how many LIKE terms): each is prepared once. */
  private searchStatement(sql: string) {
    let statement = this.searchStatements.get(sql);
    if (!statement) {
      if (this.searchStatements.size >= 64) this.searchStatements.clear();
      statement = this.db.prepare<unknown[], MessageRow>(sql);
      this.searchStatements.set(sql, statement);
    }
    return statement;
  }

  outboxByClientId(clientMessageId: string): OutboxRow | undefined {
    return this.s.outboxByClientId.get(clientMessageId);
  }

  outboxById(id: string): OutboxRow | undefined {
    return this.s.outboxById.get(id);
  }

  /** A new outbox row: pending, or already inflight when the sync engine claimed it on insert. */
  insertOutbox(row: { client_message_id: string; id: string; fingerprint: string; now: string; inflight: boolean }): void {
    this.s.insertOutbox.run(row.client_message_id, row.id, row.fingerprint, row.inflight ? 'inflight' : 'pending', row.inflight ? 1 : 0, row.now, row.now);
  }

  /** Whether any row waits to be claimed: a new message must not overtake it. */
  hasPendingOutbox(): boolean {
    return this.s.anyPending.get() !== undefined;
  }

  setOutboxState(id: string, state: OutboxState, now: string): void {
    this.s.setOutboxState.run(state, now, id);
  }

  /** Records the copy a requeue of `id` made. */
  setRequeuedAs(id: string, copyId: string): void {
    this.s.setRequeuedAs.run(copyId, id);
  }

  /** Settles a row still awaiting a verdict; false when it was already done or aborted. */
  recordOutboxVerdict(id: string, verdict: 'sent' | 'duplicate', serverId: string, now: string): boolean {
    return this.s.outboxVerdict.run(verdict, serverId, now, id).changes > 0;
  }

  /** sent → delivered on a recipient's receipt; false when the message was not (or no longer) sent. */
  markDelivered(id: string): boolean {
    return this.s.markDelivered.run(id).changes > 0;
  }

  /**
   * Records a failed attempt: `dead` (no more tries) on a row not yet done or aborted, `pending`
   * (tried again later) on a row in flight; false when the row was in no such state.
   */
  recordOutboxFailure(id: string, state: 'pending' | 'dead', error: string, now: string): boolean {
    return (state === 'dead' ? this.s.outboxFailure : this.s.outboxRetry).run(error, now, id).changes > 0;
  }

  /** Back to pending without spending an attempt: the relay asked us to slow down, the link was fine. */
  deferOutbox(id: string, reason: string, now: string): boolean {
    return this.s.outboxRefund.run(reason, now, id).changes > 0;
  }

  /** One more send attempt is on the wire. */
  markInflight(id: string, now: string): void {
    this.s.outboxInflight.run(now, id);
  }

  /** The newest 1000 rows, of one state or of all. */
  outboxRows(state?: OutboxState): OutboxRow[] {
    if (state === undefined) return this.s.outboxList.all();
    return state === 'done' ? this.s.outboxListDone.all() : this.s.outboxListOpen.all(state);
  }

  /** Pending rows oldest first, leaving out those to the recipients in `except`. */
  pendingOutbox(limit: number, except: readonly string[] = []): OutboxRow[] {
    return except.length === 0 ? this.s.outboxClaim.all(limit) : this.s.outboxClaimExcept.all(JSON.stringify(except), limit);
  }

  /** done → expired for a message still only `sent`; false when it was delivered, or is not done. */
  markOutboxExpired(id: string, serverId: string, reason: string, now: string): boolean {
    return this.s.outboxExpired.run(reason, now, id, serverId).changes > 0;
  }

  releaseInflight(now: string): number {
    return this.s.outboxReleaseInflight.run(now).changes;
  }

  /** Rows not yet done, by state: read from the index alone, cheap at any outbox size. */
  outboxOpenCounts(): Record<OutboxState, number> {
    const counts: Record<OutboxState, number> = { pending: 0, inflight: 0, done: 0, dead: 0, aborted: 0, expired: 0 };
    for (const { state, n } of this.s.outboxOpenCounts.all()) counts[state] = n;
    return counts;
  }

  /** Every state, done included; counting done rows reads the whole table, so not for hot paths. */
  outboxCounts(): Record<OutboxState, number> {
    const counts = this.outboxOpenCounts();
    const open = counts.pending + counts.inflight + counts.dead + counts.aborted + counts.expired;
    counts.done = (this.s.outboxTotal.get()?.n ?? 0) - open;
    return counts;
  }

  addEvent(type: EventType, ref: string, now: string): void {
    this.s.insertEvent.run(type, ref, now);
  }

  /** Events after `cursor`, each with its message (undefined if the message is gone). */
  eventsWithMessages(cursor: number, limit: number): { cursor: number; type: EventType; ref: string; message: Message | undefined }[] {
    return this.s.eventsWithMessages.all(cursor, limit).map((row) => ({
      cursor: row.event_cursor,
      type: row.event_type,
      ref: row.event_ref,
      message: this.joinedMessage(row),
    }));
  }

  /** The newest cursor ever written, even when pruning has left no event behind. */
  lastCursor(): number {
    return Math.max(this.s.lastCursor.get()?.c ?? 0, this.eventsPrunedThrough());
  }

  /** Every event at or below this cursor has been pruned (0: none). */
  eventsPrunedThrough(): number {
    return Number(this.getState(EVENTS_PRUNED_KEY) ?? 0);
  }

  /** Whether the oldest event was written before `cutoff` (ISO time). */
  hasEventsBefore(cutoff: string): boolean {
    const oldest = this.s.oldestEvents.get(1);
    return oldest !== undefined && oldest.created_at < cutoff;
  }

  /**
   * Deletes the oldest events written before `cutoff` (ISO time), at most `limit` of them, in
   * cursor order; returns how many. Records the highest pruned cursor for `events/subscribe`.
   */
  pruneEvents(cutoff: string, limit: number): number {
    let through = 0;
    let count = 0;
    for (const row of this.s.oldestEvents.all(limit)) {
      if (row.created_at >= cutoff) break;
      through = row.cursor;
      count++;
    }
    if (count === 0) return 0;
    this.s.deleteEventsThrough.run(through);
    this.setState(EVENTS_PRUNED_KEY, String(Math.max(through, this.eventsPrunedThrough())));
    return count;
  }

  touchPeer(name: string, now: string): void {
    this.s.upsertPeer.run(name, now, now);
  }

  peers(): Omit<Peer, 'trust'>[] {
    return this.s.peers.all().map((p) => ({ name: p.name, last_at: p.last_seen_at, unread: p.unread ?? 0, messages: p.total ?? 0, ...(p.owner ? { owner: p.owner } : {}) }));
  }

  /** Inside a write, after `touchPeer`: the relay said this peer is an agent of `owner`. */
  notePeerOwner(name: string, owner: string): void {
    this.s.setPeerOwner.run(owner, name, owner);
  }

  /** The owner of each peer the relay said is an agent, by name. */
  peerOwners(): Map<string, string> {
    return new Map(this.s.peerOwners.all().map((p) => [p.name, p.owner]));
  }

  getState(key: string): string | undefined {
    return this.s.getState.get(key)?.value;
  }

  setState(key: string, value: string): void {
    this.s.setState.run(key, value);
  }
}
