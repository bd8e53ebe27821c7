/**
 * The relay's decisions about what to store: verdicts for sends, cursors for acks, receipts
 * for the senders, pruning. Synchronous and socket-free; the caller runs each method inside a
 * transaction (see lib/node/write-batcher.ts) and delivers the returned items after the commit.
 */
import { newId } from '../lib/node/ids';
import {
  GROUP_PREFIX,
  REJECTION_CODES,
  RELAY_MAX_FRAME_BYTES,
  RELAY_PROTOCOL_V1,
  RELAY_PROTOCOL_V2,
  RELAY_PROTOCOL_V3,
  RELAY_PROTOCOL_V6,
  E2E_SEND_REJECTION_CODES,
  FILE_SEND_REJECTION_CODES,
  type DeliveryItemV2,
  type DeliveryItemV3,
  type DeliveryItemV4,
  type SendFrameV3,
  type VerdictFrame,
  type WireAttachment,
  type WireMessageV3,
} from '../protocol/relay';
import { maxSealedChars } from '../protocol/e2e';
import { DEFAULT_MAX_FILE_BYTES } from '../protocol/files';
import { BlobTables } from './blob-tables';
import { relaySendFingerprint } from '../lib/node/send-fingerprint';
import { GroupStore } from './group-store';
import { DEFAULT_GROUP_LIMITS, GroupLedger, type GroupLimits } from './groups';
import { AgentLedger, AgentTables, DEFAULT_AGENT_LIMITS, type AgentLimits } from './agents';
import { KeyDirectory } from './key-directory';
import type { CommittedDelivery, RelayStore } from './store';

import type { PruneOutcome, SendOutcome } from './storage/types';

export type { CommittedDelivery, PruneOutcome, SendOutcome } from './storage/types';

/** The bytes an undelivered message holds at the relay: its stored item and the files it names. */
export function heldBytes(itemText: string, message: { attachments?: WireAttachment[] }): number {
  let bytes = Buffer.byteLength(itemText, 'utf8');
  for (const a of message.attachments ?? []) bytes += a.size;
  return bytes;
}

/** What a stored message needs to be parsed: v3 when it names files (a v1 or v2 core could not fetch them). */
function messageVersion(message: { attachments?: WireAttachment[]; sealed?: string }, base: number): number {
  // A sealed body only a v6 core can open; files only a v3 core can fetch.
  if (message.sealed !== undefined) return Math.max(base, RELAY_PROTOCOL_V6);
  return message.attachments && message.attachments.length > 0 ? Math.max(base, RELAY_PROTOCOL_V3) : base;
}

/** Room for `{"type":"deliver","seq":<n>,"item":…}` around the stored item. */
const DELIVER_FRAME_OVERHEAD = 64;

const DAY_MS = 24 * 60 * 60 * 1000;

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

export const DEFAULT_LEDGER_LIMITS: LedgerLimits = {
  quotaMessages: 10_000,
  // Attachments count too (docs/relay.md, "Files"): room for several files of the largest size.
  quotaBytes: 1024 * 1024 * 1024,
  retentionMs: 30 * DAY_MS,
  dedupeWindowMs: 90 * DAY_MS,
};

/** Rows one prune step touches per table: a step is one write, and must stay short. */
export const PRUNE_BATCH = 500;

export class RelayLedger {
  readonly groupStore: GroupStore;
  readonly groups: GroupLedger;
  readonly blobs: BlobTables;
  readonly agents: AgentLedger;
  /** Devices' signed public keys (protocol v5). */
  readonly keys: KeyDirectory;

  constructor(
    private readonly store: RelayStore,
    private readonly maxBodyBytes: number,
    private readonly limits: LedgerLimits = DEFAULT_LEDGER_LIMITS,
    groupLimits: GroupLimits = DEFAULT_GROUP_LIMITS,
    private readonly maxFileBytes: number = DEFAULT_MAX_FILE_BYTES,
    agentLimits: AgentLimits = DEFAULT_AGENT_LIMITS,
  ) {
    this.agents = new AgentLedger(store, new AgentTables(store.db), agentLimits);
    this.keys = new KeyDirectory(store.db);
    this.groupStore = new GroupStore(store.db);
    this.blobs = new BlobTables(store.db);
    this.groups = new GroupLedger(store, this.groupStore, groupLimits);
  }

  /**
   * Why a send's attachments cannot go (protocol v3): each must be within max_file_bytes, and
   * its blob complete at the relay, of the stated size and the sender's to use. Nothing else
   * about them (names, types) is the relay's to judge beyond the schema.
   */
  private attachmentRefusal(sender: string, attachments: WireAttachment[]): { reason: string; retryable: boolean; code: string } | undefined {
    for (const a of attachments) {
      if (a.size > this.maxFileBytes) {
        return { reason: `attachment "${a.name}" is ${a.size} bytes; this relay accepts files of at most ${this.maxFileBytes} bytes`, retryable: false, code: FILE_SEND_REJECTION_CODES.badAttachment };
      }
      const blob = this.blobs.get(a.sha256);
      if (!blob || !this.blobs.mayUse(a.sha256, sender)) {
        return { reason: `attachment "${a.name}" (${a.sha256}) is not uploaded to the relay yet; upload it, then send again`, retryable: true, code: FILE_SEND_REJECTION_CODES.blobMissing };
      }
      if (blob.size !== a.size) {
        return { reason: `attachment "${a.name}" says ${a.size} bytes; its blob at the relay is ${blob.size}`, retryable: false, code: FILE_SEND_REJECTION_CODES.badAttachment };
      }
    }
    return undefined;
  }

  /**
   * After a message naming files is stored for `recipients`: each may use the blobs, and each
   * blob is kept until every v3 device the relay knows of each recipient has taken it (or, for
   * a recipient with none yet, its first device has).
   */
  private keepBlobs(message: { attachments?: WireAttachment[] }, serverId: string, recipients: string[], now: Date): void {
    for (const a of message.attachments ?? []) {
      this.blobs.touch(a.sha256, now);
      for (const user of recipients) {
        this.blobs.grant(a.sha256, user);
        const devices = this.blobs.devicesAtLeast(user, RELAY_PROTOCOL_V3);
        for (const device of devices.length > 0 ? devices : ['']) this.blobs.addRef(a.sha256, serverId, user, device);
      }
    }
  }

  /**
   * A send to a user or a `#group`. `device` is the sending device: when given, the sender's
   * other devices get a copy of the message (protocol v2), and that device does not.
   */
  recordSend(sender: string, message: SendFrameV3['message'], now: Date, device?: string): SendOutcome {
    const { client_message_id, id } = message;
    const fingerprint = relaySendFingerprint(message);
    const earlier = this.store.findDedupe(sender, client_message_id);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        return rejected(message, 'client_message_id was already used for a different message', false);
      }
      return {
        verdict: { type: 'verdict', result: 'duplicate', client_message_id, id, server_id: earlier.server_id, original_id: earlier.id },
        deliveries: [],
      };
    }
    // The id names the message in every store it reaches (read, reply, receipts): the first
    // send that used it keeps it, so no one can take over another's message.
    const owner = this.store.idOwner(id);
    if (owner && (owner.sender !== sender || owner.client_message_id !== client_message_id)) {
      return rejected(message, `message id "${id}" is already used by another message; send it under a new id`, false, REJECTION_CODES.idTaken);
    }
    const toGroup = message.to.startsWith(GROUP_PREFIX);
    if (!toGroup && !this.store.isUserActive(message.to)) return rejected(message, `unknown recipient "${message.to}"`, false);
    // The relay measures the body and never reads it: an encrypted body changes nothing here.
    const bodyBytes = Buffer.byteLength(message.body, 'utf8');
    if (bodyBytes > this.maxBodyBytes) {
      return rejected(message, `message body is ${bodyBytes} bytes; the relay accepts at most ${this.maxBodyBytes}`, false);
    }
    if (message.sealed !== undefined) {
      // Opaque: measured, never read. Direct messages only (groups are sealed in a later protocol).
      if (toGroup) return rejected(message, 'a group message cannot carry a sealed body', false);
      const sealedChars = message.sealed.length;
      const most = maxSealedChars(this.maxBodyBytes);
      if (sealedChars > most) return rejected(message, `the sealed body is ${sealedChars} characters; the relay accepts at most ${most} (bodies of ${this.maxBodyBytes} bytes)`, false);
      // No device of the recipient could open it (each last said hello with an older protocol): said now, not left to expire.
      if (message.to !== sender && this.blobs.devicesAtLeast(message.to, RELAY_PROTOCOL_V6).length === 0) {
        return rejected(message, `no device of "${message.to}" runs a core that opens end-to-end encrypted messages (protocol ${RELAY_PROTOCOL_V6}); they must upgrade`, false, E2E_SEND_REJECTION_CODES.recipientOutdated);
      }
    }
    const attachments = message.attachments ?? [];
    if (attachments.length > 0) {
      const refusal = this.attachmentRefusal(sender, attachments);
      if (refusal) return rejected(message, refusal.reason, refusal.retryable, refusal.code);
    }
    const serverId = newId();
    // Who the sender belongs to, when it is an agent: every copy of the message says so.
    const fromOwner = this.agents.tables.ownerOf(sender);
    if (toGroup) {
      const sent = this.groups.recordGroupSend(sender, device, message, serverId, now, (user, bytes) => this.quotaRefusal(user, bytes), RELAY_MAX_FRAME_BYTES - DELIVER_FRAME_OVERHEAD, fromOwner);
      if (sent.refusal) return rejected(message, sent.refusal.reason, sent.refusal.retryable, sent.refusal.code);
      // The sender's own devices may fetch what it sent (it uploaded it, so it already may).
      this.keepBlobs(message, serverId, sent.recipients, now);
      this.store.insertDedupe(sender, client_message_id, { id, server_id: serverId, fingerprint }, now);
      if (fromOwner !== undefined) this.agents.tables.countSend(sender, now);
      // `seq` of a group send is its position in the group's timeline.
      return { verdict: { type: 'verdict', result: 'accepted', client_message_id, id, server_id: serverId, seq: sent.pos }, deliveries: sent.deliveries };
    }
    // Mentions of a direct message: only its recipient counts.
    const mentions = message.mentions?.filter((user) => user === message.to);
    const wire: WireMessageV3 = { ...message, from: sender, ...(mentions ? { mentions } : {}) };
    const item = JSON.stringify({ kind: 'message', server_id: serverId, message: wire, ...(fromOwner !== undefined ? { from_owner: fromOwner } : {}) } satisfies DeliveryItemV4);
    const itemBytes = Buffer.byteLength(item, 'utf8');
    if (itemBytes + DELIVER_FRAME_OVERHEAD > RELAY_MAX_FRAME_BYTES) {
      return rejected(message, 'message is too large to deliver once encoded', false);
    }
    const held = heldBytes(item, message);
    const refusal = this.quotaRefusal(message.to, held);
    if (refusal) return rejected(message, refusal.reason, refusal.retryable, REJECTION_CODES.quota);
    // A message naming files goes to v3 devices only (a v1 or v2 core could not fetch them).
    const minVersion = messageVersion(message, RELAY_PROTOCOL_V1);
    const recipientView = minVersion > RELAY_PROTOCOL_V1 ? { minVersion } : {};
    const seq = this.store.appendDelivery(message.to, item, now, recipientView);
    this.store.addUndelivered(message.to, 1, held);
    if (message.to !== sender) this.keepBlobs(message, serverId, [message.to], now);
    this.store.insertDedupe(sender, client_message_id, { id, server_id: serverId, fingerprint }, now, message.to);
    if (fromOwner !== undefined) this.agents.tables.countSend(sender, now);
    const deliveries: CommittedDelivery[] = [{ user: message.to, seq, item, ...recipientView }];
    if (device !== undefined && message.to !== sender) {
      // The thread is whole on the sender's other devices: a v2-only copy (v3 with files), not counted against any quota.
      const own = { minVersion: messageVersion(message, RELAY_PROTOCOL_V2), originDevice: device };
      deliveries.push({ user: sender, seq: this.store.appendDelivery(sender, item, now, own), item, ...own });
    }
    return { verdict: { type: 'verdict', result: 'accepted', client_message_id, id, server_id: serverId, seq }, deliveries };
  }

  /** Why `to` cannot take one more message of `itemBytes` now, if it cannot. */
  private quotaRefusal(to: string, itemBytes: number): { reason: string; retryable: boolean } | undefined {
    const { quotaMessages, quotaBytes } = this.limits;
    if (itemBytes > quotaBytes) {
      return { reason: `quota: the message takes ${itemBytes} bytes; the relay holds at most ${quotaBytes} bytes for one recipient`, retryable: false };
    }
    const held = this.store.undelivered(to);
    if (held.messages + 1 <= quotaMessages && held.bytes + itemBytes <= quotaBytes) return undefined;
    return {
      reason: `quota: "${to}" already has ${held.messages} undelivered messages (${held.bytes} bytes); the relay holds at most ${quotaMessages} messages and ${quotaBytes} bytes per recipient until they are delivered`,
      retryable: true,
    };
  }

  /**
   * Registers a device at hello and returns its acked cursor. A hello cursor beyond the
   * stored one counts as an ack (the core says it committed those); one beyond anything the
   * relay ever assigned is clamped, so a bogus cursor cannot hide future deliveries.
   */
  openDevice(user: string, device: string, helloCursor: number, now: Date, version: number = RELAY_PROTOCOL_V1): { acked: number; receipts: CommittedDelivery[] } {
    const cursor = Math.min(helloCursor, this.store.lastSeq(user));
    // A new device starts at 0 and its hello cursor is then applied as an ack, so the
    // messages it already committed still produce their receipts.
    const acked = this.store.touchDevice(user, device, 0, now.toISOString());
    // Which devices can take files: a message naming them waits for those (blob_refs).
    this.blobs.setDeviceVersion(user, device, version);
    if (cursor > acked) return { acked: cursor, receipts: this.recordAck(user, device, cursor, now, version) };
    return { acked, receipts: [] };
  }

  /**
   * Cumulative ack from one device. Returns the receipts it produced (one per message, on the
   * first device to ack it), already appended to each sender's own sequence.
   */
  /**
   * `version` is the protocol the acking connection speaks: a row it was never sent (a v2 item,
   * to a v1 core) is passed over by its cumulative ack without counting as delivered.
   */
  recordAck(user: string, device: string, seq: number, now: Date, version: number = RELAY_PROTOCOL_V1): CommittedDelivery[] {
    const current = this.store.deviceAcked(user, device);
    if (current === undefined) return [];
    const target = Math.min(seq, this.store.lastSeq(user));
    if (target <= current) return [];
    const receipts: CommittedDelivery[] = [];
    for (const row of this.store.deliveryRowsBetween(user, current, target)) {
      // A copy of the user's own message, or an item this device never saw: nothing to tell anyone.
      if (row.origin_device !== null || row.min_version > version) continue;
      // The relay's own write, built from a frame validated on arrival: no need to check it again.
      const item = JSON.parse(row.item) as DeliveryItemV3;
      if (item.kind !== 'message' || item.message.from === user) continue;
      const { server_id, message } = item;
      const bytes = heldBytes(row.item, message);
      if (item.group_id === undefined) {
        if (!this.store.markReceipted(server_id, now)) continue;
      } else if (!this.groupStore.markReceipt(server_id, user, 'delivered', now)) continue;
      // The first device to ack it has it: it no longer counts against the recipient's quota.
      this.store.addUndelivered(user, -1, -bytes);
      const receipt = JSON.stringify({
        kind: 'receipt',
        id: message.id,
        server_id,
        by: user,
        at: now.toISOString(),
        ...(item.group_id === undefined ? {} : { status: 'delivered' as const, group_id: item.group_id }),
      } satisfies DeliveryItemV2);
      // A group's receipts are v2 items; a direct message's stays the v1 receipt every core parses.
      const options = item.group_id === undefined ? {} : { minVersion: RELAY_PROTOCOL_V2 };
      receipts.push({ user: message.from, seq: this.store.appendDelivery(message.from, receipt, now, options), item: receipt, ...options });
    }
    this.store.setDeviceAcked(user, device, target);
    this.store.pruneDeliveries(user, this.store.minAcked(user));
    return receipts;
  }

  /**
   * The reader marked these messages read: each sender is told once per reader (a v2 receipt,
   * status `read`). Only a recipient may say so: the direct message's recipient, or a member of
   * the group when the message was written; anything else is passed over in silence (a core
   * marking what it never had is its own mistake, not the relay's to report). The reader's own
   * other devices get the same receipt (`by` is the reader), so a message read on one device
   * is read on all; the device that said so does not.
   */
  recordRead(reader: string, serverIds: string[], now: Date, device?: string): CommittedDelivery[] {
    const receipts: CommittedDelivery[] = [];
    for (const serverId of new Set(serverIds)) {
      const target = this.readTarget(reader, serverId);
      if (!target || !this.groupStore.markReceipt(serverId, reader, 'read', now)) continue;
      const receipt = JSON.stringify({
        kind: 'receipt',
        id: target.id,
        server_id: serverId,
        by: reader,
        at: now.toISOString(),
        status: 'read',
        ...(target.groupId === undefined ? {} : { group_id: target.groupId }),
      } satisfies DeliveryItemV2);
      const options = { minVersion: RELAY_PROTOCOL_V2 };
      receipts.push({ user: target.sender, seq: this.store.appendDelivery(target.sender, receipt, now, options), item: receipt, ...options });
      if (device !== undefined) {
        const own = { ...options, originDevice: device };
        receipts.push({ user: reader, seq: this.store.appendDelivery(reader, receipt, now, own), item: receipt, ...own });
      }
    }
    return receipts;
  }

  private readTarget(reader: string, serverId: string): { sender: string; id: string; groupId?: string } | undefined {
    const entry = this.groupStore.entryByServerId(serverId);
    if (entry) {
      const item = JSON.parse(entry.item) as DeliveryItemV2;
      if (item.kind !== 'message' || item.message.from === reader || !this.groupStore.wasMemberAt(entry.group_id, reader, entry.pos)) return undefined;
      return { sender: item.message.from, id: item.message.id, ...(item.group_id === undefined ? {} : { groupId: item.group_id }) };
    }
    const direct = this.store.directMessage(serverId);
    if (!direct || direct.recipient !== reader) return undefined;
    return { sender: direct.sender, id: direct.id };
  }

  /**
   * One bounded step of retention, inside one write: deliveries past `retentionMs` are
   * dropped (a message no device acked tells its sender `expired`); dedupe rows past
   * `dedupeWindowMs`, and receipt markers past `retentionMs`, are deleted. Receipt markers go
   * only once no delivery past retention is left, since expiry reads them: a marker is never
   * older than its delivery, so by then no kept delivery needs it.
   */
  prune(now: Date): PruneOutcome {
    const retentionCutoff = new Date(now.getTime() - this.limits.retentionMs);
    const notices: CommittedDelivery[] = [];
    const blobsToDelete = new Set<string>();
    let expired = 0;
    let deleted = 0;
    const aged = this.store.agedDeliveryRows(retentionCutoff, PRUNE_BATCH);
    for (const row of aged) {
      this.store.deleteDelivery(row.user, row.seq);
      const item = JSON.parse(row.item) as DeliveryItemV3;
      // Past retention, a message no longer keeps its files for this user, taken or not.
      if (item.kind === 'message' && item.message.attachments?.length) for (const sha of this.blobs.dropMessage(item.server_id, row.user)) blobsToDelete.add(sha);
      const delivered =
        item.kind !== 'message' ||
        row.origin_device !== null ||
        item.message.from === row.user ||
        (item.group_id === undefined ? this.store.isReceipted(item.server_id) : this.groupStore.hasReceipt(item.server_id, row.user, 'delivered'));
      if (delivered) {
        deleted++;
        continue;
      }
      expired++;
      this.store.addUndelivered(row.user, -1, -heldBytes(row.item, item.message));
      const { message, server_id } = item;
      const group = item.group_id === undefined ? {} : { group_id: item.group_id };
      const notice = JSON.stringify({ kind: 'expired', id: message.id, server_id, to: row.user, at: now.toISOString(), ...group } satisfies DeliveryItemV2);
      const options = item.group_id === undefined ? {} : { minVersion: RELAY_PROTOCOL_V2 };
      notices.push({ user: message.from, seq: this.store.appendDelivery(message.from, notice, now, options), item: notice, ...options });
    }
    const dedupe = this.store.pruneDedupe(new Date(now.getTime() - this.limits.dedupeWindowMs), PRUNE_BATCH);
    deleted += dedupe;
    const deliveriesDone = aged.length < PRUNE_BATCH;
    const receipts = deliveriesDone ? this.store.pruneReceipts(retentionCutoff, PRUNE_BATCH) + this.groupStore.pruneReceipts(retentionCutoff, PRUNE_BATCH) : 0;
    // After the rows that reference them: an entry goes in the same step as its last row.
    const timeline = this.groupStore.pruneTimeline(retentionCutoff, PRUNE_BATCH);
    deleted += receipts + timeline;
    // Blobs nothing keeps and nothing used within the retention (uploaded, never sent).
    const unused = this.blobs.unusedBefore(retentionCutoff, PRUNE_BATCH);
    for (const sha of unused) blobsToDelete.add(sha);
    for (const sha of blobsToDelete) this.blobs.remove(sha);
    return {
      expired,
      deleted,
      notices,
      blobsToDelete: [...blobsToDelete],
      more: !deliveriesDone || dedupe === PRUNE_BATCH || receipts >= PRUNE_BATCH || timeline === PRUNE_BATCH || unused.length === PRUNE_BATCH,
    };
  }
}

function rejected(message: SendFrameV3['message'], reason: string, retryable: boolean, code?: string): SendOutcome {
  return {
    verdict: {
      type: 'verdict',
      result: 'rejected',
      client_message_id: message.client_message_id,
      id: message.id,
      reason,
      retryable,
      ...(code === undefined ? {} : { code }),
    },
    deliveries: [],
  };
}
