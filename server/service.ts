/**
 * What the core does, independent of how it is asked: the JSON-RPC handlers (delegated CLI,
 * extension) and the CLI's direct mode both call these methods, so both answer alike.
 */
import { TrustService } from './trust-service';
import { PeerKeys } from './store/peer-keys';
import { newId } from '../lib/node/ids';
import {
  ErrorCodes,
  type AttachmentDownloadParams,
  type AttachmentDownloadResult,
  type ConfigureParams,
  type ConfigureResult,
  type ConversationMessagesParams,
  type ConversationMessagesResult,
  type Conversation,
  type InboxListParams,
  type MarkReadParams,
  type MarkReadResult,
  type Message,
  type InboxListResult,
  type MessagesResult,
  type ReceiptsResult,
  type Settings,
  type SettingsParams,
  type OutboxItem,
  type OutboxListParams,
  type Peer,
  type RequeueResult,
  type SearchParams,
  type SendParams,
  type SendReasonCode,
  type SendResult,
  type StoreStatus,
  type SyncStatus,
} from '../protocol/rpc';
import { RELAY_MAX_FRAME_BYTES } from '../protocol/relay';
import { DEFAULT_MAX_FILE_BYTES } from '../protocol/files';
import { AUTO_DOWNLOAD_KEY, autoDownloadBytes } from './files/settings';
import { FileStore, type StoredFile } from './files/file-store';
import { createHash } from 'node:crypto';
import { GROUP_ADDRESS_PREFIX, isGroupAddress } from '../protocol/names';
import { mentionsIn } from '../lib/mentions';
import { GroupService } from './group-service';
import { AgentService } from './agent-service';
import type { HomePaths } from '../lib/node/paths';
import { CoreError, invalidParams, notFound } from './errors';
import { coreSendFingerprint, type SendContent } from '../lib/node/send-fingerprint';
import { decideIdempotency } from './idempotency';
import type { Outbox } from './outbox/outbox';
import { toOutboxItem, type OutboxRow, type Repository } from './store/repository';
import type { WriteBatcher } from '../lib/node/write-batcher';
import type { PeerTouches } from './store/peer-touches';
import { planSearch } from './store/search-query';
import type { RelayVerdict, SyncPort } from './sync/port';
import { queuedReason } from './sync/problem';
import { sendFrameBytes, sendFrameOf } from './sync/send-frame';

const DEFAULT_LIMIT = 50;
/** Stands in for a message id (UUID v7, 36 characters) when sizing a frame before the id exists. */
const ID_PLACEHOLDER = '0'.repeat(36);
const INDEX_DELAY_MS = 50;
const INDEX_CHUNK = 20_000;
/** At most this many per-message events for one mark-read by ids. */
const PER_MESSAGE_EVENT_LIMIT = 500;
/** sync_state key of the `receipts_read` setting: 'off' when the user turned read receipts off. */
const RECEIPTS_READ_KEY = 'settings.receipts_read';


/** Where a new outbound message goes: its group (null for a direct message), whom it awaits receipts from, whom it mentions. */
interface Addressing {
  group_id: string | null;
  recipients: string[];
  mentions: string[];
}

export class CoreService {
  private indexTimer: NodeJS.Timeout | undefined;
  readonly groups: GroupService;
  /** Agent identities this user owns. */
  readonly agents: AgentService;
  /** The home's verified files (`<home>/files`). */
  readonly files: FileStore;
  /** Trust in users' device keys (docs/security.md). */
  readonly trust: TrustService;

  constructor(
    readonly repo: Repository,
    readonly writes: WriteBatcher,
    readonly sync: SyncPort,
    /** Every outbox row is created and moved through it. */
    private readonly outboxStates: Outbox,
    /** Shared with the sync engine: one throttle for the one peers table. */
    private readonly peerTouches: PeerTouches,
    private readonly localUser: () => string,
    /** True when this core answers one CLI verb and stops (no core runs to retry queued sends). */
    private readonly oneShot: boolean,
    /** The home this core serves: agent homes are written beside it. */
    paths: HomePaths,
  ) {
    this.groups = new GroupService(repo, sync);
    this.agents = new AgentService(sync, paths, localUser);
    this.files = new FileStore(repo.filesDir);
    this.trust = new TrustService(sync, PeerKeys.of(repo.db), paths.home, localUser);
  }

  async send(p: SendParams): Promise<SendResult> {
    // A reply names a message this store holds: an id that is not here (mistyped, or of mail
    // not fetched yet) is refused rather than sent pointing at nothing.
    if (p.reply_to !== undefined && !this.repo.message(p.reply_to)) {
      throw invalidParams(`reply_to: no message ${p.reply_to} in this store; check the id (\`switchboard inbox\` lists the messages you have)`);
    }
    const clientMessageId = p.client_message_id ?? newId();
    const content: Required<SendContent> = { to: p.to, body: p.body, reply_to: p.reply_to ?? null, request_id: p.request_id ?? null };
    // A core that has just started (the CLI's direct mode) may still be dialling the relay.
    await this.sync.whenSettled(Math.min(p.wait_ms ?? 0, 5000));
    // A peer whose keys changed gets nothing until the person has looked (verify --accept-change);
    // the keys are looked up first unless the pins are fresh (trust-service.ts, KEYS_FRESH_MS).
    if (!isGroupAddress(p.to)) await this.trust.checkSendFresh(p.to);
    if (p.queue === false && !this.sync.isOnline()) {
      const problem = this.sync.problem();
      const why = problem ? problem.message : `the relay is ${describeOffline(this.sync.status().state)}`;
      throw new CoreError(ErrorCodes.NotSent, `not sent: ${why}; --no-queue was given, so nothing was stored`, {
        kind: 'not_sent',
        ...(problem ? { reason_code: problem.code } : {}),
      });
    }
    // The body limit counts UTF-8 bytes, but the relay measures the JSON-encoded frame, where
    // a control character takes six: refuse here what the relay could never take.
    // Each file is copied into the store (hashed as it goes) before anything is written: one
    // that changed, went missing or is too big refuses the send, and nothing is kept.
    const files = await this.snapshot(p);
    try {
      return await this.sendStored(p, clientMessageId, content, files);
    } catch (error) {
      this.dropSnapshots(files);
      throw error;
    }
  }

  /** Copies a send's attachments into the store; a refusal removes what this send put there. */
  private async snapshot(p: SendParams): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    if (!p.attachments?.length) return files;
    const limit = this.sync.maxFileBytes() ?? DEFAULT_MAX_FILE_BYTES;
    try {
      for (const input of p.attachments) files.push(await this.files.snapshot(input, limit));
    } catch (error) {
      this.dropSnapshots(files);
      throw error;
    }
    return files;
  }

  /** Blobs this send brought in that no stored message names (its write failed or it was refused). */
  private dropSnapshots(files: readonly StoredFile[]): void {
    for (const f of files) if (f.created && !this.repo.blobNamed(f.sha256)) this.files.removeBlob(f.sha256);
  }

  private async sendStored(p: SendParams, clientMessageId: string, content: Required<SendContent>, files: readonly StoredFile[]): Promise<SendResult> {
    const frameBytes = files.length > 0 || mayExceedFrame(content, clientMessageId) ? sendFrameBytes(sendFrameOf({ ...content, id: ID_PLACEHOLDER, client_message_id: clientMessageId, created_at: new Date().toISOString(), attachments: files })) : 0;
    if (frameBytes > RELAY_MAX_FRAME_BYTES) {
      throw invalidParams(`body: makes a ${frameBytes}-byte frame once JSON-encoded (control characters take six bytes each); the relay takes at most ${RELAY_MAX_FRAME_BYTES}`);
    }
    const fp = sendFingerprint(content, files);
    const minted = p.client_message_id === undefined;
    const outcome = await this.writes.run(() => {
      // An id minted here a moment ago cannot be in the outbox yet.
      const existing = minted ? undefined : this.repo.outboxByClientId(clientMessageId);
      const decision = decideIdempotency(existing, fp);
      if (decision.action === 'conflict') {
        throw new CoreError(
          ErrorCodes.Conflict,
          `client message id ${clientMessageId} was already used for different content (message ${existing!.id}); use a new --client-id`,
          { kind: 'conflict', id: existing!.id },
        );
      }
      if (decision.action === 'insert') {
        const id = newId();
        const claimed = this.insertOutbound(id, clientMessageId, fp, content, files);
        return { id, status: 'queued' as const, fresh: true, claimed };
      }
      const row = existing!;
      if (decision.action === 'refuse') {
        const why =
          decision.reason === 'dead'
            ? `gave up after ${row.attempts} attempts (${row.last_error ?? 'no error recorded'})`
            : decision.reason === 'expired'
              ? `expired undelivered (${row.last_error ?? 'the relay dropped it after its retention'})`
              : 'was aborted';
        return {
          id: row.id,
          status: 'failed' as const,
          fresh: false,
          reason: `message ${row.id} with this client id ${why}; requeue it with \`switchboard outbox requeue ${row.id}\``,
          reason_code: decision.reason satisfies SendReasonCode,
        };
      }
      return { id: row.id, status: decision.status, fresh: false };
    });
    if (outcome.fresh && !outcome.claimed) this.sync.kick();
    const base = { id: outcome.id, client_message_id: clientMessageId, to: p.to };
    if (outcome.status !== 'queued') {
      const row = this.repo.outboxById(outcome.id);
      const reasoned = 'reason' in outcome ? { reason: outcome.reason ?? null, reason_code: outcome.reason_code ?? null } : { reason: null, reason_code: null };
      return { ...base, status: outcome.status, server_id: row?.server_id ?? null, ...reasoned };
    }
    const waitMs = p.wait_ms ?? 0;
    if (waitMs > 0 && this.sync.isOnline()) {
      const verdict = await this.sync.awaitVerdict(outcome.id, waitMs);
      if (verdict) return { ...base, ...this.explained(verdict, waitMs) };
      return { ...base, ...this.verdictOf(this.repo.outboxById(outcome.id)!, waitMs) };
    }
    // A row just written and not waited on has no verdict yet, and nothing to read back.
    if (outcome.fresh && files.length === 0) return { ...base, status: 'queued', server_id: null, ...this.whyQueued(waitMs, null) };
    return { ...base, ...this.verdictOf(this.repo.outboxById(outcome.id)!, waitMs) };
  }

  /** A verdict from the relay; a deferral (queued) also says what happens to the message next. */
  private explained(verdict: RelayVerdict, waitedMs: number): RelayVerdict {
    if (verdict.status !== 'queued') return verdict;
    return { ...verdict, ...this.whyQueued(waitedMs, verdict.reason_code === 'deferred' ? verdict.reason : null) };
  }

  /** Why a message is still queued now, and what fixes it or retries it. */
  private whyQueued(waitedMs: number, deferred: string | null): Pick<SendResult, 'reason' | 'reason_code'> {
    return queuedReason({
      problem: this.sync.isOnline() ? null : this.sync.problem(),
      online: this.sync.isOnline(),
      waitedMs,
      deferred,
      oneShot: this.oneShot,
      relay: this.sync.status().relay,
    });
  }

  /** The send verdict an outbox row stands for now. */
  private verdictOf(row: OutboxRow, waitedMs: number): RelayVerdict {
    switch (row.state) {
      case 'done':
        return { status: row.verdict === 'duplicate' ? 'duplicate' : 'sent', server_id: row.server_id, reason: null, reason_code: null };
      case 'dead':
      case 'aborted':
      case 'expired':
        return { status: 'failed', server_id: row.state === 'expired' ? row.server_id : null, reason: row.last_error ?? row.state, reason_code: row.state };
      default:
        return { status: 'queued', server_id: null, ...(this.whyUploading(row.id) ?? this.whyQueued(waitedMs, null)) };
    }
  }

  /** A queued message whose files are not all at the relay yet, while the link is up: how far the upload is. */
  private whyUploading(id: string): Pick<SendResult, 'reason' | 'reason_code'> | undefined {
    if (!this.sync.isOnline()) return undefined;
    const left = this.repo.uploadsLeft(id);
    if (left.n === 0) return undefined;
    const percent = left.size === 0 ? 100 : Math.floor((left.transferred / left.size) * 100);
    return {
      reason: `uploading: ${left.n} file${left.n === 1 ? '' : 's'} still going to the relay (${left.transferred} of ${left.size} bytes, ${percent}%); the core keeps sending and the message is sent once every file is at the relay`,
      reason_code: 'uploading',
    };
  }

  /** Stores a new outbound message; true when the sync engine claimed it for the wire at once. */
  private insertOutbound(id: string, clientMessageId: string, fp: string, content: Required<SendContent>, files: readonly StoredFile[] = []): boolean {
    const now = new Date().toISOString();
    const addressing = this.addressing(content);
    // A claimed message leaves once this write commits; if anything below fails to store, the
    // write rolls back and its send with it (WriteBatcher.afterCommit). One with files leaves
    // once they are uploaded (the sync engine's uploader), never at once.
    const inflight = files.length === 0 && this.sync.claimOnInsert(sendFrameOf({ id, client_message_id: clientMessageId, created_at: now, ...content, mentions: mentionsIn(content.body) }));
    const attachments = files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, mime: f.mime, state: 'ready' as const }));
    this.outboxStates.create({ id, client_message_id: clientMessageId, from: this.localUser(), ...content, ...addressing, attachments }, fp, now, inflight);
    if (addressing.group_id === null) this.peerTouches.touch(content.to, now);
    return inflight;
  }

  /**
   * A direct message awaits one receipt and can mention only its recipient. A group message
   * awaits one from each member but the sender, as this home last heard the members from the
   * relay (the relay fans out to its members at its commit: a receipt from a member not known
   * here adds that member), and mentions are kept for members only, as the relay keeps them.
   * The send frame carries every `@name` of the body: the relay's member list is the newer.
   */
  private addressing(content: Required<SendContent>): Addressing {
    const mentioned = mentionsIn(content.body);
    if (!isGroupAddress(content.to)) return { group_id: null, recipients: [content.to], mentions: mentioned.filter((n) => n === content.to) };
    const group = this.repo.groupByName(content.to.slice(GROUP_ADDRESS_PREFIX.length));
    if (!group) return { group_id: null, recipients: [], mentions: [] };
    const me = this.localUser();
    const members = group.members.map((m) => m.user);
    return { group_id: group.group_id, recipients: members.filter((u) => u !== me), mentions: mentioned.filter((n) => members.includes(n)) };
  }

  get(id: string): Message {
    const message = this.repo.message(id);
    if (!message) throw notFound(`message ${id}`);
    return message;
  }

  inbox(p: InboxListParams): InboxListResult {
    // One row more than asked tells whether the list was cut.
    const limit = p.limit ?? DEFAULT_LIMIT;
    const messages = this.repo.inbox({ unread: p.unread ?? false, from: p.from, in: p.in, mentions: p.mentions, limit: limit + 1 });
    return { messages: messages.slice(0, limit), has_more: messages.length > limit };
  }

  conversations(): { conversations: Conversation[] } {
    return { conversations: this.repo.conversations() };
  }

  conversationMessages(p: ConversationMessagesParams): ConversationMessagesResult {
    return this.repo.conversationPage(p.peer, p.limit ?? DEFAULT_LIMIT, p.before);
  }

  async markRead(p: MarkReadParams): Promise<MarkReadResult> {
    for (const id of p.ids ?? []) if (!this.repo.message(id)) throw notFound(`message ${id}`);
    const receiptsOn = this.settings().receipts_read;
    const updated = await this.writes.run(() => {
      const { changed, serverIds } = this.repo.markRead(p);
      if (changed > 0) this.announceRead(p);
      // Queued in the same write, so a read receipt is never lost to a crash once the message
      // shows read; none is queued while the user has read receipts off.
      if (receiptsOn && serverIds.length > 0) {
        this.repo.queueReadReceipts(serverIds);
        this.writes.afterCommit(() => this.sync.kickReadReceipts());
      }
      return changed;
    });
    return { updated, unread: this.repo.unreadTotal() };
  }

  /** Per-recipient receipts of a message this user sent. */
  receipts(id: string): ReceiptsResult {
    const message = this.repo.outbound(id);
    if (!message) {
      if (this.repo.message(id)) throw invalidParams(`message ${id} was sent to you; receipts are kept for the messages you send`);
      throw notFound(`message ${id}`);
    }
    const summary = message.receipts!;
    return { id: message.id, ...summary, receipts: this.repo.receipts(message.id) };
  }

  settings(): Settings {
    return { receipts_read: this.repo.getState(RECEIPTS_READ_KEY) !== 'off', auto_download_bytes: autoDownloadBytes(this.repo) };
  }

  async setSettings(p: SettingsParams): Promise<Settings> {
    if (p.receipts_read !== undefined) {
      const value = p.receipts_read ? 'on' : 'off';
      await this.writes.run(() => this.repo.setState(RECEIPTS_READ_KEY, value));
    }
    if (p.auto_download_bytes !== undefined) {
      const value = String(p.auto_download_bytes);
      await this.writes.run(() => this.repo.setState(AUTO_DOWNLOAD_KEY, value));
    }
    return this.settings();
  }

  /**
   * Starts downloading a message's files that are not ready (one of them with `index`); with
   * `wait_ms`, answers once none of them is downloading any more, or when the wait ends.
   */
  async downloadAttachments(p: AttachmentDownloadParams): Promise<AttachmentDownloadResult> {
    const message = this.get(p.id);
    if (message.attachments.length === 0) throw notFound(`attachments of message ${p.id} (it has none)`);
    if (p.index !== undefined && !message.attachments.some((a) => a.index === p.index)) {
      throw notFound(`attachment ${p.index} of message ${p.id} (it has ${message.attachments.length}, numbered from 0)`);
    }
    const asked = (m: Message) => m.attachments.filter((a) => p.index === undefined || a.index === p.index);
    const start = asked(message).filter((a) => a.state === 'remote' || a.state === 'failed');
    if (start.length > 0) {
      await this.writes.run(() => {
        for (const a of start) this.repo.setAttachmentState(message.id, message.direction, a.index, 'downloading');
        this.repo.addEvent('message/updated', message.id, new Date().toISOString());
      });
    }
    const waitMs = p.wait_ms ?? 0;
    // A core that has just started (the CLI's direct mode) may still be dialling the relay.
    if (waitMs > 0) await this.sync.whenSettled(Math.min(waitMs, 5000));
    this.sync.kickDownloads();
    if (waitMs > 0) await this.sync.awaitDownloads(message.id, waitMs, p.index);
    return { id: message.id, attachments: asked(this.get(message.id)) };
  }

  /**
   * Tells subscribers which messages turned read. A whole conversation (or everything) is
   * announced by one event per conversation, so a mark-all never floods them.
   */
  private announceRead(p: MarkReadParams): void {
    const now = new Date().toISOString();
    for (const id of (p.ids ?? []).slice(0, PER_MESSAGE_EVENT_LIMIT)) this.repo.addEvent('message/updated', id, now);
    if (!p.all && p.conversation === undefined) return;
    for (const c of this.repo.conversations()) {
      if ((p.all || c.peer === p.conversation) && c.last) this.repo.addEvent('message/updated', c.last.id, now);
    }
  }

  async search(p: SearchParams): Promise<MessagesResult> {
    const plan = planSearch(p.query);
    if (!plan) throw invalidParams('query: has no words to search for');
    // Whatever is not indexed yet is indexed first, so a search always sees every message.
    await this.writes.run(() => this.repo.indexForSearch());
    return { messages: this.repo.search(plan, p.limit ?? DEFAULT_LIMIT) };
  }

  /** Indexes recent messages for search in the background, a chunk per commit, when writes go quiet. */
  scheduleIndexing(): void {
    if (this.indexTimer) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      void this.writes.run(() => this.repo.indexForSearch(INDEX_CHUNK)).then((left) => left > 0 && this.scheduleIndexing(), () => {});
    }, INDEX_DELAY_MS);
    this.indexTimer.unref();
  }

  stopIndexing(): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = undefined;
  }

  outbox(p: OutboxListParams): { items: OutboxItem[] } {
    return { items: this.repo.outboxRows(p.state).map((row) => this.outboxItem(row)) };
  }

  private outboxItem(row: OutboxRow): OutboxItem {
    return toOutboxItem(row, this.repo.message(row.id));
  }

  private findOutbox(id: string): OutboxRow {
    const row = this.repo.outboxById(id) ?? this.repo.outboxByClientId(id);
    if (!row) throw notFound(`outbox entry ${id}`);
    return row;
  }

  /**
   * Sends a dead, expired, aborted or pending message again under a new id; the old entry ends
   * aborted. Idempotent: an entry already requeued answers with the copy it was requeued as
   * (whatever has become of it since; to send once more, requeue that copy).
   */
  async requeue(id: string): Promise<RequeueResult> {
    const requeued = await this.writes.run(() => {
      const row = this.findOutbox(id);
      if (row.requeued_as !== null && this.repo.outboxById(row.requeued_as)) return { aborted: row.id, id: row.requeued_as, fresh: false };
      // An aborted row is requeued as it is; any other is retired (aborted) first, or refused.
      if (row.state !== 'aborted') this.outboxStates.retire(row, new Date().toISOString());
      const old = this.repo.message(row.id)!;
      const content = { to: old.to, body: old.body, reply_to: old.reply_to, request_id: old.request_id };
      const fresh = newId();
      const files = old.attachments.map((a) => ({ sha256: a.sha256, size: a.size, name: a.name, mime: a.mime, created: false }));
      this.insertOutbound(fresh, newId(), sendFingerprint(content, files), content, files);
      this.repo.setRequeuedAs(row.id, fresh);
      return { aborted: row.id, id: fresh, fresh: true };
    });
    if (requeued.fresh) this.sync.kick();
    return { aborted: requeued.aborted, item: this.outboxItem(this.repo.outboxById(requeued.id)!) };
  }

  async abort(id: string): Promise<OutboxItem> {
    const row = await this.writes.run(() => {
      const row = this.findOutbox(id);
      this.outboxStates.abort(row, new Date().toISOString());
      return this.repo.outboxById(row.id)!;
    });
    return this.outboxItem(row);
  }

  peers(): { peers: Peer[] } {
    const trust = this.trust.states();
    return { peers: this.repo.peers().map((peer) => ({ ...peer, trust: trust.get(peer.name) ?? 'unverified' })) };
  }

  storeStatus(): StoreStatus {
    const full = this.writes.diskFull;
    return { path: this.repo.db.name, state: full ? 'disk_full' : 'ok', error: full?.error.message ?? null, since: full?.since ?? null };
  }

  syncStatus(): SyncStatus {
    return this.sync.status();
  }

  /** Applies new relay settings; with `wait_ms`, answers once the first attempt with them has ended. */
  async configure(p: ConfigureParams): Promise<ConfigureResult> {
    this.sync.configure(p);
    if (p.wait_ms === undefined) return this.sync.status();
    const check = await this.sync.whenConfigured(p.wait_ms);
    return { ...this.sync.status(), check };
  }

  reconnect(): SyncStatus {
    this.sync.reconnect();
    return this.sync.status();
  }
}

/**
 * Whether a send could make a frame over the relay's limit, so is worth encoding to measure.
 * JSON takes at most six bytes for a UTF-16 unit (\uXXXX); 512 covers the keys, the id, the
 * timestamp and the punctuation.
 */
function mayExceedFrame(content: Required<SendContent>, clientMessageId: string): boolean {
  const units = content.body.length + content.to.length + (content.reply_to?.length ?? 0) + (content.request_id?.length ?? 0) + clientMessageId.length;
  return units * 6 + 512 > RELAY_MAX_FRAME_BYTES;
}

/** The idempotency fingerprint: a send with files also names each file (hash, name, type), so the same client id with other files conflicts. */
function sendFingerprint(content: SendContent, files: readonly Pick<StoredFile, 'sha256' | 'name' | 'mime'>[]): string {
  const fp = coreSendFingerprint(content);
  if (files.length === 0) return fp;
  return createHash('sha256').update(`${fp}\n${JSON.stringify(files.map((f) => [f.sha256, f.name, f.mime]))}`).digest('hex');
}

function describeOffline(state: SyncStatus['state']): string {
  return state === 'disabled' ? 'not configured (run `switchboard init`)' : state;
}
