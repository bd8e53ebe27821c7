/**
 * The sync engine: keeps the core's live link to the relay, drains the outbox, commits
 * deliveries before acking them, and reports freshness.
 *
 * Outbox rows move only through `Outbox` (server/outbox/), whose table says which moves are
 * allowed: here pending → inflight (sent on the link) → done on an accepted or duplicate
 * verdict, → dead on a final rejection or after MAX_ATTEMPTS sends without a verdict. A lost
 * link returns inflight rows to pending; the relay dedupes on client_message_id, so resending
 * them can never deliver twice.
 */
import type { ConfigureParams, HeldRecipient, PullResult, RelayCheck, SyncProblem, SyncState, SyncStatus, TransferProgress } from '../../protocol/rpc';
import {
  MAX_READ_IDS,
  REJECTION_CODES,
  RELAY_MAX_FRAME_BYTES,
  RELAY_PROTOCOL_V1,
  RELAY_PROTOCOL_V2,
  RELAY_PROTOCOL_V3,
  RELAY_PROTOCOL_V4,
  RELAY_PROTOCOL_V5,
  RELAY_PROTOCOL_V6,
  type KeysFrame,
  type KeysResultFrame,
  FILE_SEND_REJECTION_CODES,
  type AgentFrame,
  type AgentResultFrame,
  type DeliverFrameV4 as DeliverFrameV2,
  type DeliveryItemV4 as DeliveryItemV2,
  type WireAttachment,
  type WireMessageV3,
  type GroupFrame,
  type GroupSummary,
  type GroupVerdictFrame,
  type SendFrameV2,
  type VerdictFrame,
} from '../../protocol/relay';
import { GROUP_ADDRESS_PREFIX, isGroupAddress } from '../../protocol/names';
import { newId } from '../../lib/node/ids';
import { loadConfig, readToken, writeConfig, type RelayConfig } from '../config';
import { cleartextRelayProblem, relayUrlProblem } from '../../protocol/relay-url';
import type { Logger } from '../../lib/node/log';
import type { HomePaths } from '../../lib/node/paths';
import type { PeerTouches } from '../store/peer-touches';
import type { Outbox } from '../outbox/outbox';
import { asStorageError } from '../../lib/node/storage-errors';
import type { Repository } from '../store/repository';
import type { WriteBatcher } from '../../lib/node/write-batcher';
import { backoffDelay } from './backoff';
import type { AgentRequestBody, GroupRequestBody, KeysRequestBody, RelayVerdict, SyncPort } from './port';
import { loadOrCreateIdentity } from '../../lib/node/e2e/identity';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { sendFrameBytes, sendFrameOf, type SendFrameMessage } from './send-frame';
import { DirectBodies, SealRefused } from './direct-bodies';
import { PeerKeys } from '../store/peer-keys';
import { reconcile, verifiedRecords } from '../../lib/node/e2e/pins';
import { E2eError } from '../../lib/node/e2e/bytes';
import { RelayLink, type RelayLinkClose } from './relay-link';
import { badUrl, notConfigured, problemOfClose, pullTimeout } from './problem';
import { badUrlCheck, relayCheckOf } from './relay-probe';
import { errorMessage } from '../../lib/error-message';
import { FileStore } from '../files/file-store';
import { autoDownloadBytes } from '../files/settings';
import type { NewAttachment } from '../store/repository';
import { Transfers } from './transfers';

/** Sends of one message without a verdict before it is declared dead. */
export const MAX_ATTEMPTS = 8;
/** Most messages on the wire awaiting a verdict at once. */
const SEND_WINDOW = 512;
const BACKOFF = { baseMs: 250, maxMs: 30_000 };
const RETRY_REJECTED_MS = 1000;
/** Retries to a recipient whose quota at the relay is full: 1 s, 2 s, 4 s … up to 5 min (with jitter). */
const QUOTA_BACKOFF = { baseMs: 1000, maxMs: 5 * 60_000 };
/** sync/status notifications for freshness changes are coalesced to at most this often. */
const FRESHNESS_NOTIFY_MS = 250;

const CURSOR_KEY = 'relay_cursor';
/**
 * The largest file the relay last announced, with the relay it came from (JSON
 * `{relay, bytes}`): kept so a send made while offline, or by a CLI running without a core, is
 * refused against the relay's own limit at once rather than queued and failed on reconnect.
 */
const MAX_FILE_BYTES_KEY = 'relay_max_file_bytes';
/** How long stored deliveries wait for an unpinned sender's keys from the directory; past it they are refused as not opening. */
const SENDER_KEYS_WAIT_MS = 3000;
/** How long a queued send waits before its recipient's keys are asked again when the relay did not answer. */
const SENDER_KEYS_RETRY_MS = 5000;

/** Said when a group message cannot go out because the relay answered hello with v1 only. */
export const RELAY_V1_ONLY_SEND = 'not sent: the relay speaks protocol v1; upgrade it for groups';

/** What arrives on the link to be stored in one write, in arrival order. */
type InboundFrame = VerdictFrame | DeliverFrameV2 | GroupVerdictFrame;
/** How long stopping waits for the relay to answer the close frame. */
const CLOSE_WAIT_MS = 2000;

/** How long a connect's key publish waits for the relay's answer (only to log a refusal). */
const KEYS_PUBLISH_WAIT_MS = 10_000;

export class SyncEngine implements SyncPort {
  private config: RelayConfig;
  private token: string | null;
  private state: SyncState = 'disabled';
  /**
   * What is wrong, in one record, said two ways. `problem`: why the link is not up, a code for
   * scripts and a sentence that names the fix (null while online, or dialling the first time).
   * `lastError`: status's `last_error`, the engine's last error in its own words; it also covers
   * a write that failed while the link was fine (disk full), which is no link problem, and it
   * outlives a reconnect that was asked for.
   */
  private trouble: { problem: SyncProblem | null; lastError: string | null } = { problem: null, lastError: null };
  /** The relay's backlog_seq from the current link's welcome: committed up to it, this core is caught up. */
  private backlogSeq = 0;
  /** New messages stored since this engine started (what a pull fetched). */
  private fetched = 0;
  private readonly pullWaiters: (() => void)[] = [];
  private connectedSince: string | null = null;
  private link: RelayLink | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private freshnessTimer: NodeJS.Timeout | undefined;
  private inflight = 0;
  /** Messages claimed on insert whose write is not yet durable, so not yet on the wire. */
  private claimedUnsent = 0;
  /**
   * Rows may be pending: set when a message is stored unclaimed or a row goes back to
   * pending, cleared when a drain finds nothing left to claim. Without it every verdict
   * would start a drain that only reads an empty outbox, and blocks claims on insert meanwhile.
   */
  private backlog = true;
  /**
   * Counts every setting of `backlog`. A drain clears `backlog` only if none happened after its
   * claim looked: a verdict written later in the same batch may have put a row back to pending,
   * and clearing it then would leave that row with no drain to send it.
   */
  private backlogMarks = 0;
  private draining = false;
  private drainAgain = false;
  /** The current link is being closed on purpose, to reconnect at once. */
  private reconnectAsked = false;
  private pendingAck: { link: RelayLink; seq: number } | undefined;
  /** After a rate-limit rejection nothing is sent before this time. */
  private pausedUntil = 0;
  /**
   * Recipients the relay refused for quota: their messages stay pending (in order) until
   * `until`, while messages to everyone else flow. Cleared when one to them is accepted.
   */
  private readonly held = new Map<string, { until: number; failures: number; reason: string }>();
  private holdTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners: ((status: SyncStatus) => void)[] = [];
  private readonly verdictWaiters = new Map<string, ((verdict: RelayVerdict | undefined) => void)[]>();
  /** The highest delivery seq committed; kept here so a delivery never reads it back. */
  private cursor: number;
  /** Sync-state rows to write at the end of the current batch: the newest value wins. */
  private readonly stateAtCommit = new Map<string, string>();
  /** Verdicts and deliveries received this turn, stored together by storeInbound. */
  private inbound: InboundFrame[] = [];
  /**
   * The protocol to say hello with: v2, until a relay refuses it (a v1-only relay); then v1
   * for direct messages until the settings change or the core restarts.
   */
  private helloVersion = RELAY_PROTOCOL_V6;
  /** Uploads and downloads of files over the link. */
  private readonly transfers: Transfers;
  /** Pinned device keys (trust-service.ts writes them; shared cache). */
  private readonly pins: PeerKeys;
  /** Seals direct sends and opens sealed deliveries (protocol v6). */
  private readonly bodies: DirectBodies;
  /**
   * Bench only (bench/run.ts, phase e2ee): direct bodies leave unsealed, so one run can measure
   * the same pipeline with and without encryption. No setting, flag or RPC reaches it, the
   * relay cannot ask for it, and a core started with it says so loudly in its log.
   */
  private readonly sealBodies = process.env.SWITCHBOARD_BENCH_PLAINTEXT !== '1';
  /** Sealed deliveries refused (tampered, not for this device, an unpinned sender) since this core started. */
  private refusedSealed = 0;
  /** storeInbound runs one at a time: one may wait for a sender's keys, and the cursor must move in order. */
  private inboundTail: Promise<void> = Promise.resolve();
  private readonly keysAsked = new WeakMap<RelayLink, Set<string>>();
  /** Users whose key lookup the relay did not answer, and when to ask again. */
  private readonly keysRetryAt = new Map<string, number>();
  /** Senders whose plain direct message was logged this run (bounded by the peers one has). */
  private readonly plainFrom = new Set<string>();
  private readonly files: FileStore;
  private readonly progressListeners: ((p: TransferProgress) => void)[] = [];
  /** Group requests on the wire, by request_id, each waiting for its verdict (stored first when ok). */
  private readonly groupWaiters = new Map<string, { body: GroupRequestBody; done: (verdict: GroupVerdictFrame | undefined) => void }>();
  private readonly listWaiters = new Map<string, (groups: GroupSummary[] | undefined) => void>();
  /** Agent requests (protocol v4) waiting for their `agent_result`, by request id. */
  private readonly agentWaiters = new Map<string, (result: AgentResultFrame | undefined) => void>();
  /** Key-directory requests (protocol v5) waiting for their `keys_result`, by request id. */
  private readonly keysWaiters = new Map<string, (result: KeysResultFrame | undefined) => void>();
  private sendingReads = false;
  /** Links on which a frame could not be stored: closing, and never acked again. */
  private readonly failedLinks = new WeakSet<RelayLink>();
  private readonly settleWaiters: (() => void)[] = [];
  /** What is wrong with config.json as read at start (sync stays in `error`), until `configure`. */
  private configProblem: string | null;
  /** Bumped by every `configure`: attempts are tied to the settings they were made with. */
  private configGeneration = 0;
  /** What the first attempt under `generation` found. */
  private configCheck: { generation: number; check: RelayCheck } | undefined;
  private readonly configWaiters = new Set<() => void>();
  /** A lost link's inflight rows could not be returned to pending (disk full): retried on the next connect. */
  private inflightStranded: string | undefined;

  constructor(
    private readonly paths: HomePaths,
    private readonly repo: Repository,
    private readonly writes: WriteBatcher,
    /** Every outbox row moves through it. */
    private readonly outbox: Outbox,
    /** Shared with the service: one throttle for the one peers table. */
    private readonly peers: PeerTouches,
    private readonly log: Logger,
  ) {
    const loaded = loadConfig(paths);
    this.config = loaded.config;
    this.configProblem = loaded.problem;
    this.token = readToken(paths);
    this.cursor = Number(repo.getState(CURSOR_KEY) ?? 0);
    this.files = new FileStore(repo.filesDir);
    this.pins = PeerKeys.of(repo.db);
    if (!this.sealBodies) log.warn('e2e: SWITCHBOARD_BENCH_PLAINTEXT=1: direct message bodies leave UNENCRYPTED (a benchmark switch; never set it otherwise)');
    this.bodies = new DirectBodies(this.pins, paths.home, () => ({ user: this.localUser(), device: this.config.device }));
    this.transfers = new Transfers({
      repo,
      writes,
      outbox,
      files: this.files,
      log,
      link: () => (this.isOnline() ? this.link : undefined),
      progress: (p) => {
        for (const listener of this.progressListeners) listener(p);
      },
      uploaded: () => this.kick(),
      failed: (ids) => {
        for (const id of ids) this.wakeVerdictWaiters(id);
      },
    });
  }

  /** `transfer/progress` for subscribers (not kept in the event log). */
  onProgress(listener: (p: TransferProgress) => void): void {
    this.progressListeners.push(listener);
  }

  maxFileBytes(): number | null {
    if (this.isOnline() && this.link) return this.link.maxFileBytes ?? null;
    return this.announcedMaxFileBytes();
  }

  /** What the configured relay announced the last time a link to it was up; null if it never did. */
  private announcedMaxFileBytes(): number | null {
    const kept = this.repo.getState(MAX_FILE_BYTES_KEY);
    if (kept === undefined || !this.config.relay) return null;
    try {
      const { relay, bytes } = JSON.parse(kept) as { relay?: unknown; bytes?: unknown };
      return relay === this.config.relay && typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
    } catch {
      return null;
    }
  }

  /** Keeps the link's announced limit when it differs from the one kept (a relay before files announces none). */
  private keepMaxFileBytes(link: RelayLink): void {
    const bytes = link.maxFileBytes;
    if (bytes === undefined || bytes === this.announcedMaxFileBytes()) return;
    const kept = JSON.stringify({ relay: this.config.relay, bytes });
    this.writes.run(() => this.setStateAtCommit(MAX_FILE_BYTES_KEY, kept)).catch((error: unknown) => this.log.warn(`relay: could not keep its file limit: ${errorMessage(error)}`));
  }

  kickDownloads(): void {
    this.transfers.kick();
  }

  async awaitDownloads(id: string, ms: number, index?: number): Promise<void> {
    const deadline = Date.now() + ms;
    const busy = () => {
      const message = this.repo.message(id);
      return message?.attachments.some((a) => (index === undefined || a.index === index) && a.state === 'downloading') ?? false;
    };
    while (busy() && Date.now() < deadline) await this.transfers.whenDownloadEnds(deadline - Date.now());
  }

  localUser(): string {
    return this.config.user ?? 'me';
  }

  status(): SyncStatus {
    const counts = this.repo.outboxOpenCounts();
    return {
      state: this.state,
      relay: this.config.relay,
      user: this.config.user,
      last_inbound_at: this.repo.getState('last_inbound_at') ?? null,
      last_ack_at: this.repo.getState('last_ack_at') ?? null,
      last_error: this.trouble.lastError,
      connected_since: this.connectedSince,
      queued: counts.pending + counts.inflight,
      held: [...this.held].map(([to, hold]): HeldRecipient => ({ to, reason: hold.reason, retry_at: new Date(hold.until).toISOString() })),
    };
  }

  isOnline(): boolean {
    return this.state === 'online';
  }

  onStatus(listener: (status: SyncStatus) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    if (this.configProblem !== null) {
      this.refuseSettings(`refusing to connect: ${this.configProblem}`);
      return this.setState('error');
    }
    if (!this.isConfigured()) {
      this.trouble.problem = notConfigured();
      return this.setState('disabled');
    }
    void this.connect();
  }

  problem(): SyncProblem | null {
    return this.trouble.problem;
  }

  /** Settings that must change before any attempt: a bad URL, or one that would send the token in clear. Returns `last_error`. */
  private refuseSettings(why: string, lastError = why): string {
    this.trouble = { problem: badUrl(why, this.config), lastError };
    this.log.error(`relay: ${lastError}`);
    return lastError;
  }

  /** A write failed while the link itself may be fine: said in `last_error`, the link's problem kept. */
  private writeFailed(what: string, error: unknown): void {
    this.trouble.lastError = `${what}: ${describe(error)}`;
    this.log.error(`relay: ${this.trouble.lastError}`);
  }

  /**
   * For a CLI verb run without a core: waits until the relay has sent everything it held when
   * it said welcome, and everything queued here has its verdict; or until the link fails, or
   * `ms` pass. Deliveries are stored and acked on the way exactly as a core does.
   */
  async pull(ms: number): Promise<PullResult> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      this.pullWaiters.push(resolve);
      this.notePull();
    });
    clearTimeout(timer);
    const caughtUp = this.isCaughtUp();
    const problem = caughtUp ? null : (this.trouble.problem ?? pullTimeout(this.config, ms, this.isOnline()));
    return { fetched: this.fetched, caught_up: caughtUp, problem };
  }

  private isCaughtUp(): boolean {
    return (
      this.isOnline() &&
      this.cursor >= this.backlogSeq &&
      this.inbound.length === 0 &&
      this.inflight === 0 &&
      this.claimedUnsent === 0 &&
      !this.draining &&
      // Sends paused by a rate refusal wait for the next run; they do not hold the pull up.
      (!this.backlog || Date.now() < this.pausedUntil)
    );
  }

  /** Wakes pulls once caught up, or once the link has failed (a pull does not wait for retries). */
  private notePull(): void {
    if (this.pullWaiters.length === 0) return;
    const failed = this.state !== 'connecting' && this.state !== 'online';
    if (failed || this.isCaughtUp()) for (const wake of this.pullWaiters.splice(0)) wake();
  }

  /** Resolves once a connection attempt has ended one way or the other, or after `ms`. */
  whenSettled(ms: number): Promise<void> {
    if (this.state !== 'connecting') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.settleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  kick(): void {
    this.markBacklog();
    if (this.isOnline()) {
      void this.drain();
      this.transfers.kick();
    }
  }

  claimOnInsert(message: SendFrameMessage): boolean {
    // Anything pending goes first, by the drain; so does everything while a drain is claiming.
    if (!this.isOnline() || !this.link || this.draining || this.inflight + this.claimedUnsent >= SEND_WINDOW || Date.now() < this.pausedUntil) return false;
    if (this.isHeld(message.to)) return false;
    // A v1 relay would take `#team` for a bad user name and drop the link: the drain fails it.
    if (isGroupAddress(message.to) && this.link.version < RELAY_PROTOCOL_V2) return false;
    if (message.attachments !== undefined) return false;
    if (this.repo.hasPendingOutbox()) return false;
    const link = this.link;
    if (!isGroupAddress(message.to) && this.sealBodies) {
      // Sealed here as in the drain; anything that stops it (an older relay, no pinned keys, too
      // big once sealed) is left to the drain, which says why.
      if (link.version < RELAY_PROTOCOL_V6 || !this.bodies.hasKeys(message.to) && message.to !== this.localUser()) return false;
      try {
        message = this.bodies.seal(message, this.localUser());
      } catch {
        return false;
      }
      // Measured only when it could be near the limit (escaping at most doubles the sealed text).
      if (2 * message.sealed!.length + 1024 > RELAY_MAX_FRAME_BYTES && sendFrameBytes(message) > RELAY_MAX_FRAME_BYTES) return false;
    }
    // A claim counts against the window from now: until its write is durable, then on the
    // wire. A link lost before then leaves the row inflight, and the close returns it to pending.
    this.claimedUnsent++;
    this.writes.afterCommit(
      () => {
        this.claimedUnsent--;
        if (link.send(message)) this.inflight++;
      },
      () => this.claimedUnsent--,
    );
    return true;
  }

  awaitVerdict(id: string, ms: number): Promise<RelayVerdict | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ms);
      const waiters = this.verdictWaiters.get(id) ?? [];
      waiters.push(done);
      this.verdictWaiters.set(id, waiters);
      function done(verdict: RelayVerdict | undefined) {
        clearTimeout(timer);
        resolve(verdict);
      }
    });
  }

  reconnect(): void {
    this.attempt = 0;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.link) {
      // The close handler schedules the next attempt at once (attempt 0).
      this.reconnectAsked = true;
      this.link.close(1000, 'reconnecting');
      return;
    }
    this.start();
  }

  configure(config: ConfigureParams): void {
    const next = { ...this.config, relay: config.relay, user: config.user, insecure: config.insecure === true };
    try {
      writeConfig(this.paths, next, config.token);
    } catch (error) {
      // Nothing changes when the settings cannot be stored: a full disk is said as one.
      throw asStorageError(error, this.paths.config);
    }
    this.config = next;
    this.configProblem = null;
    this.token = config.token;
    this.trouble = { problem: null, lastError: null };
    this.configGeneration++;
    this.configCheck = undefined;
    this.helloVersion = RELAY_PROTOCOL_V6;
    this.reconnect();
  }

  whenConfigured(ms: number): Promise<RelayCheck> {
    const generation = this.configGeneration;
    const pending = (): RelayCheck => ({ outcome: 'pending', message: `no answer from the relay at ${this.config.relay} within ${Math.round(ms / 1000)} s; the core keeps trying` });
    const found = () => (this.configCheck?.generation === generation ? this.configCheck.check : undefined);
    const now = found();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        this.configWaiters.delete(done);
        resolve(found() ?? pending());
      };
      this.configWaiters.add(done);
    });
  }

  /** The first attempt under the current settings ended: tell whoever waits in `whenConfigured`. */
  private recordConfigCheck(generation: number, check: RelayCheck): void {
    if (generation !== this.configGeneration || this.configCheck?.generation === generation) return;
    this.configCheck = { generation, check };
    for (const wake of [...this.configWaiters]) wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.transfers.stop();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.freshnessTimer);
    clearTimeout(this.holdTimer);
    const link = this.link;
    // Detached first: the store closes after this, and inflight rows are returned on next start.
    this.link = undefined;
    if (link) {
      // An ack still waiting for its tick goes out before the close frame, or the relay sends
      // what was just stored here again next time.
      const ack = this.pendingAck;
      this.pendingAck = undefined;
      if (ack?.link === link && !this.failedLinks.has(link)) link.ack(ack.seq);
      let timer: NodeJS.Timeout | undefined;
      const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
      link.close(1000, 'core stopping');
      // The close handshake is bounded; its timer is cleared so it never holds the process up
      // after the link has closed (a CLI verb exits as soon as its answer is durable).
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    }
  }

  private isConfigured(): boolean {
    return this.config.relay !== null && this.config.user !== null && this.token !== null;
  }

  private async connect(): Promise<void> {
    if (this.link || this.stopped) return;
    const generation = this.configGeneration;
    // A config.json edited by hand must neither crash the core nor leak the token: the URL
    // is checked as `init` checks it, and a bad one is reported in status, not dialled.
    const urlProblem = relayUrlProblem(this.config.relay!);
    if (urlProblem) {
      const why = `refusing to connect: the relay URL in ${this.paths.config} is unusable: ${urlProblem}`;
      const lastError = this.refuseSettings(why, `${why}; fix it with \`switchboard init --relay <url> --user <name> --token <token>\``);
      this.recordConfigCheck(generation, badUrlCheck(lastError));
      return this.setState('error');
    }
    const cleartext = cleartextRelayProblem(this.config.relay!, this.config.insecure);
    if (cleartext) {
      this.recordConfigCheck(generation, badUrlCheck(this.refuseSettings(`refusing to connect: ${cleartext}`)));
      return this.setState('error');
    }
    const link = new RelayLink();
    this.link = link;
    this.setState('connecting');
    link.on('verdict', (frame) => this.onFrame(link, frame));
    link.on('deliver', (frame) => this.onFrame(link, frame));
    link.on('group_verdict', (frame) => this.onFrame(link, frame));
    link.on('group_list_result', (frame) => {
      const done = this.listWaiters.get(frame.request_id);
      this.listWaiters.delete(frame.request_id);
      done?.(frame.groups);
    });
    link.on('agent_result', (frame) => {
      const done = this.agentWaiters.get(frame.request_id);
      this.agentWaiters.delete(frame.request_id);
      done?.(frame);
    });
    link.on('keys_result', (frame) => {
      const done = this.keysWaiters.get(frame.request_id);
      this.keysWaiters.delete(frame.request_id);
      done?.(frame);
    });
    link.on('error', (error) => this.log.warn(`relay: ${error.message}`));
    link.on('close', (info) => void this.onClose(link, info));
    this.transfers.attach(link);
    const result = await link.connect({
      url: this.config.relay!,
      user: this.config.user!,
      token: this.token!,
      device: this.config.device,
      cursor: this.cursor,
      version: this.helloVersion,
    });
    this.recordConfigCheck(generation, relayCheckOf(result, this.config.relay!, this.config.user!));
    if (!result.ok || this.link !== link) return;
    this.attempt = 0;
    this.trouble = { problem: null, lastError: null };
    this.backlogSeq = result.welcome.backlog_seq ?? 0;
    this.connectedSince = new Date().toISOString();
    this.log.info(`relay: online at ${this.config.relay} as ${this.config.user}`);
    if (this.inflightStranded !== undefined) await this.returnInflightOrRemember(this.inflightStranded);
    if (this.link !== link) return;
    this.setState('online');
    this.keepMaxFileBytes(link);
    this.markBacklog();
    void this.drain();
    void this.sendReadReceipts();
    this.transfers.kick();
    void this.publishKeys();
  }

  /**
   * Publishes this device's signed public keys to the relay's key directory (v5) on every
   * connect, so peers can find them (docs/security.md). A refusal or a damaged key file is
   * logged, never fatal: messages go on as before.
   */
  private async publishKeys(): Promise<void> {
    let record;
    try {
      record = signDeviceRecord(loadOrCreateIdentity(this.paths.home), this.config.user!, this.config.device, Date.now());
    } catch (error) {
      return this.log.warn(`e2e: cannot read this home's device keys: ${errorMessage(error)}`);
    }
    const answer = await this.keysRequest({ type: 'keys_publish', record }, KEYS_PUBLISH_WAIT_MS);
    if (answer?.result === 'rejected') this.log.warn(`e2e: the relay refused this device's keys (${answer.code}): ${answer.reason}`);
  }

  /**
   * Sends a key-directory request on the live v5 link and resolves with the relay's answer;
   * undefined when the link is down or not v5, when it drops, or after `ms` (never a hang).
   */
  keysRequest(body: KeysRequestBody, ms: number): Promise<KeysResultFrame | undefined> {
    const link = this.link;
    if (!link || !this.isOnline() || link.version < RELAY_PROTOCOL_V5) return Promise.resolve(undefined);
    const requestId = newId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ms);
      const done = (result: KeysResultFrame | undefined) => {
        clearTimeout(timer);
        this.keysWaiters.delete(requestId);
        resolve(result);
      };
      this.keysWaiters.set(requestId, done);
      if (!link.keys({ ...body, request_id: requestId } as KeysFrame)) done(undefined);
    });
  }

  private async onClose(link: RelayLink, info: RelayLinkClose): Promise<void> {
    if (this.link !== link) return;
    this.link = undefined;
    this.connectedSince = null;
    this.inflight = 0;
    for (const [id, waiter] of [...this.groupWaiters]) {
      this.groupWaiters.delete(id);
      waiter.done(undefined);
    }
    for (const [id, done] of [...this.listWaiters]) {
      this.listWaiters.delete(id);
      done(undefined);
    }
    for (const [id, done] of [...this.agentWaiters]) {
      this.agentWaiters.delete(id);
      done(undefined);
    }
    for (const [id, done] of [...this.keysWaiters]) {
      this.keysWaiters.delete(id);
      done(undefined);
    }
    if (info.versionRefused && this.helloVersion > RELAY_PROTOCOL_V1 && !this.stopped) {
      // A relay from before files says hello again with v2: messages and groups go on, sends
      // with files fail saying to upgrade it. One from before groups: direct messages go on
      // over v1; group requests and group sends are refused with what to upgrade.
      // One from before agents (v3) says hello again with v3: everything but agent requests goes on.
      // One from before the key directory (v4) says hello again with v4: only key exchange waits.
      this.helloVersion =
        this.helloVersion === RELAY_PROTOCOL_V6
          ? RELAY_PROTOCOL_V5
          : this.helloVersion === RELAY_PROTOCOL_V5
          ? RELAY_PROTOCOL_V4
          : this.helloVersion === RELAY_PROTOCOL_V4
            ? RELAY_PROTOCOL_V3
            : this.helloVersion === RELAY_PROTOCOL_V3
              ? RELAY_PROTOCOL_V2
              : RELAY_PROTOCOL_V1;
      if (this.helloVersion === RELAY_PROTOCOL_V5) this.log.warn(`relay: the relay at ${this.config.relay} does not speak protocol v6; direct messages wait (they are sent only end-to-end encrypted, which needs the relay upgraded), groups and files continue`);
      else if (this.helloVersion === RELAY_PROTOCOL_V4) this.log.warn(`relay: the relay at ${this.config.relay} does not speak protocol v5; everything but the key directory continues (safety numbers need the relay upgraded)`);
      else if (this.helloVersion === RELAY_PROTOCOL_V3) this.log.warn(`relay: the relay at ${this.config.relay} does not speak protocol v4; everything but agent identities continues, agents need the relay upgraded`);
      else if (this.helloVersion === RELAY_PROTOCOL_V2) this.log.warn(`relay: the relay at ${this.config.relay} does not speak protocol v3; messages and groups continue, files need the relay upgraded`);
      else this.log.warn(`relay: the relay at ${this.config.relay} speaks protocol v1 only; direct messages continue, groups need the relay upgraded`);
      this.reconnectTimer = setTimeout(() => void this.connect(), 0);
      this.reconnectTimer.unref();
      return;
    }
    const reason = info.reason || `connection closed (code ${info.code})`;
    this.trouble.problem = problemOfClose(info, this.config);
    await this.returnInflightOrRemember(reason);
    if (info.unauthorized) {
      this.trouble.lastError = `the relay refused the token for ${this.config.user}: ${reason}; run \`switchboard init\` with a valid token`;
      this.log.error(`relay: ${this.trouble.lastError}`);
      return this.setState('unauthorized');
    }
    if (this.stopped) return this.setState('offline');
    const asked = this.reconnectAsked;
    this.reconnectAsked = false;
    if (!asked) this.trouble.lastError = reason;
    const delay = asked ? 0 : backoffDelay(this.attempt++, BACKOFF);
    this.log.warn(`relay: link closed (${reason}); retrying in ${delay} ms`);
    this.setState('offline');
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  /**
   * Rows left inflight by a lost link must go back to pending before anything is sent again;
   * if that write fails (disk full) they are remembered and returned on the next connect.
   */
  private async returnInflightOrRemember(reason: string): Promise<void> {
    try {
      await this.writes.run(() => this.returnInflight(reason));
      this.inflightStranded = undefined;
    } catch (error) {
      this.inflightStranded = reason;
      this.writeFailed('could not return unanswered sends to the queue', error);
    }
  }

  /** Inflight rows go back to pending after a lost link; those out of attempts die, keeping the error. */
  private returnInflight(error: string): void {
    const now = new Date().toISOString();
    for (const row of this.repo.outboxRows('inflight')) {
      if (row.attempts < MAX_ATTEMPTS) this.outbox.retry(row.id, error, now);
      else if (this.outbox.fail(row.id, `no verdict after ${row.attempts} attempts: ${error}`, now)) this.wakeVerdictWaiters(row.id);
    }
  }

  /** Sends pending rows in creation order, keeping at most SEND_WINDOW awaiting verdicts. */
  private async drain(): Promise<void> {
    if (this.draining) {
      // Rows committed after the running drain last looked: it must look once more.
      this.drainAgain = true;
      return;
    }
    if (Date.now() < this.pausedUntil) return this.scheduleRetry(this.pausedUntil - Date.now());
    this.draining = true;
    try {
      while (this.isOnline() && this.link && this.inflight < SEND_WINDOW && Date.now() >= this.pausedUntil) {
        const link = this.link;
        let marksSeen = 0;
        /** Recipients with no pinned keys whose rows wait (pending) for one lookup on this link. */
        const needKeys = new Set<string>();
        /** The soonest a lookup the relay did not answer is asked again, for rows left waiting on it. */
        let keysWait = Infinity;
        const claimed = await this.writes.run(() => {
          marksSeen = this.backlogMarks;
          const now = new Date().toISOString();
          const frames: SendFrameV2['message'][] = [];
          // Sent once the claim commits, in commit order with messages claimed on insert.
          this.writes.afterCommit(() => {
            for (const frame of frames) {
              if (!link.send(frame)) break;
              this.inflight++;
            }
          });
          for (const row of this.repo.pendingOutbox(SEND_WINDOW - this.inflight, this.heldNow())) {
            const message = this.repo.outbound(row.id)!;
            if (isGroupAddress(message.to) && link.version < RELAY_PROTOCOL_V2) {
              // A v1 relay would take `#team` for a bad user name and drop the link.
              if (this.outbox.fail(row.id, RELAY_V1_ONLY_SEND, now)) setImmediate(() => this.wakeVerdictWaiters(row.id));
              continue;
            }
            if (message.attachments.length > 0 && link.maxFileBytes === undefined) {
              if (this.outbox.fail(row.id, `not sent: the relay speaks protocol v${link.version} and takes no files; upgrade the relay to send attachments`, now)) setImmediate(() => this.wakeVerdictWaiters(row.id));
              continue;
            }
            let frame = sendFrameOf(message);
            if (!isGroupAddress(message.to) && this.sealBodies) {
              // Direct messages travel only end-to-end encrypted: never in plain text to an older relay.
              if (link.version < RELAY_PROTOCOL_V6) {
                if (this.outbox.fail(row.id, `not sent: the relay speaks protocol v${link.version}, before end-to-end encrypted messages (v${RELAY_PROTOCOL_V6}); upgrade the relay`, now)) setImmediate(() => this.wakeVerdictWaiters(row.id));
                continue;
              }
              if (!this.bodies.hasKeys(message.to) && message.to !== this.localUser() && !this.keysAskedOn(link).has(message.to)) {
                // Queued offline before first contact: the keys are looked up once, then it is sealed or fails.
                // A lookup the relay did not answer is asked again later; the row waits, pending.
                const retryAt = this.keysRetryAt.get(message.to) ?? 0;
                if (retryAt > Date.now()) keysWait = Math.min(keysWait, retryAt - Date.now());
                else needKeys.add(message.to);
                continue;
              }
              try {
                frame = this.bodies.seal(frame, this.localUser());
              } catch (error) {
                const reason = error instanceof SealRefused ? error.message : `not sent: it could not be encrypted: ${errorMessage(error)}`;
                if (this.outbox.fail(row.id, reason, now)) setImmediate(() => this.wakeVerdictWaiters(row.id));
                continue;
              }
            }
            const bytes = sendFrameBytes(frame);
            if (bytes > RELAY_MAX_FRAME_BYTES) {
              // Sending it would only get the link closed, and everything in flight with it.
              if (this.outbox.fail(row.id, `the message is ${bytes} bytes once encoded; the relay takes at most ${RELAY_MAX_FRAME_BYTES}`, now)) setImmediate(() => this.wakeVerdictWaiters(row.id));
              continue;
            }
            if (this.outbox.claim(row, now)) frames.push(frame);
          }
          return frames;
        });
        if (needKeys.size > 0) {
          await Promise.all([...needKeys].map((user) => this.lookUpKeys(link, user)));
          continue;
        }
        if (claimed.length === 0) {
          if (this.backlogMarks === marksSeen) this.backlog = false;
          if (keysWait !== Infinity) this.scheduleRetry(keysWait);
          break;
        }
      }
    } catch (error) {
      // The claim was not stored (disk full): the rows are still pending; try again shortly.
      this.markBacklog();
      this.writeFailed('could not claim queued sends', error);
      this.scheduleRetry(RETRY_REJECTED_MS);
    } finally {
      this.draining = false;
    }
    this.armHoldTimer();
    if (this.drainAgain) {
      this.drainAgain = false;
      void this.drain();
    }
    this.notePull();
  }

  /**
   * Frames that arrive together (one read from the socket) are stored in one write: one
   * savepoint and one wake-up for the lot instead of one per frame.
   */
  private onFrame(link: RelayLink, frame: InboundFrame): void {
    if (frame.type === 'verdict') this.inflight = Math.max(0, this.inflight - 1);
    this.inbound.push(frame);
    if (this.inbound.length === 1) queueMicrotask(() => (this.inboundTail = this.inboundTail.then(() => this.storeInbound(link))));
  }

  /** Users whose keys were looked up on `link` for a queued send (once each per link). */
  private keysAskedOn(link: RelayLink): Set<string> {
    let asked = this.keysAsked.get(link);
    if (!asked) {
      asked = new Set();
      this.keysAsked.set(link, asked);
    }
    return asked;
  }

  /** Looks `user`'s device records up in the directory and pins them (trust on first use; a change stays pending). */
  private async lookUpKeys(link: RelayLink, user: string): Promise<void> {
    const answer = await this.keysRequest({ type: 'keys_get', user }, SENDER_KEYS_WAIT_MS);
    if (answer === undefined) {
      // No answer in time (a stalled relay, a lost link): not a "none published"; ask again later.
      this.keysRetryAt.set(user, Date.now() + SENDER_KEYS_RETRY_MS);
      return;
    }
    this.keysAskedOn(link).add(user);
    this.keysRetryAt.delete(user);
    if (answer.result !== 'ok') return;
    const current = this.pins.get(user);
    const next = reconcile(current, verifiedRecords(user, answer.records));
    if (next && next !== current) this.pins.put(user, next, new Date());
  }

  /**
   * Before sealed deliveries are stored: the keys of senders whose device is not pinned yet (a
   * first message from a peer, an own new device) are looked up and pinned (trust on first use,
   * as a send does; a changed set stays pending and its messages are refused).
   */
  private async pinSenders(frames: readonly InboundFrame[]): Promise<void> {
    const users = new Set<string>();
    for (const frame of frames) {
      if (frame.type !== 'deliver' || frame.item.kind !== 'message') continue;
      const user = this.bodies.missingSender(frame.item.message as WireMessageV3);
      if (user !== undefined) users.add(user);
    }
    const link = this.link;
    if (link) await Promise.all([...users].map((user) => this.lookUpKeys(link, user)));
  }

  private async storeInbound(link: RelayLink): Promise<void> {
    const frames = this.inbound;
    this.inbound = [];
    if (frames.length === 0) return;
    await this.pinSenders(frames);
    let stored: { verdicts: [id: string, verdict: RelayVerdict | undefined][]; groupVerdicts: GroupVerdictFrame[]; highestSeq: number; received: number };
    try {
      stored = await this.writes.run(() => {
        const now = new Date().toISOString();
        const verdicts: [string, RelayVerdict | undefined][] = [];
        const groupVerdicts: GroupVerdictFrame[] = [];
        let highestSeq = 0;
        let received = 0;
        // After a delivery on this link failed to store, later ones are not kept either: the
        // cursor would pass the lost one. The relay sends them all again after reconnecting.
        const keepDeliveries = !this.failedLinks.has(link);
        // Registered first, so it is in place whichever frame throws. Its fallback runs as soon
        // as this write is rolled back (its savepoint or the whole batch), before any later
        // write of the same batch: none of them may move the cursor past these frames.
        this.writes.afterCommit(
          () => {},
          () => this.failedLinks.add(link),
        );
        for (const frame of frames) {
          if (frame.type === 'verdict') verdicts.push([frame.id, this.storeVerdict(frame, now)]);
          else if (frame.type === 'group_verdict') {
            this.storeGroupVerdict(frame, now);
            groupVerdicts.push(frame);
          } else if (keepDeliveries) {
            if (this.storeDelivery(frame, now)) received++;
            highestSeq = Math.max(highestSeq, frame.seq);
          }
        }
        // Last, once every frame is stored: a frame that throws rolls back the whole write,
        // and the cursor must never move past a delivery that was not kept.
        if (verdicts.length > 0) this.setStateAtCommit('last_ack_at', now);
        if (received > 0) this.setStateAtCommit('last_inbound_at', now);
        if (highestSeq > Math.max(this.cursor, Number(this.stateAtCommit.get(CURSOR_KEY) ?? 0))) {
          this.setStateAtCommit(CURSOR_KEY, String(highestSeq));
          this.writes.afterCommit(() => (this.cursor = Math.max(this.cursor, highestSeq)));
        }
        return { verdicts, groupVerdicts, highestSeq, received };
      });
    } catch (error) {
      return this.storeFailed(link, error);
    }
    for (const [id, verdict] of stored.verdicts) this.wakeVerdictWaiters(id, verdict);
    for (const verdict of stored.groupVerdicts) {
      const waiter = this.groupWaiters.get(verdict.request_id);
      this.groupWaiters.delete(verdict.request_id);
      waiter?.done(verdict);
    }
    // Committed before acked: a crash in between only means a redelivery, which is dropped.
    if (stored.highestSeq > 0) this.ackSoon(link, stored.highestSeq);
    this.fetched += stored.received;
    this.freshnessChanged();
    if (stored.verdicts.length > 0 && this.backlog) void this.drain();
    this.notePull();
  }

  /** Inside a write. Undefined when the row was no longer awaiting a verdict (done or aborted meanwhile). */
  private storeVerdict(frame: VerdictFrame, now: string): RelayVerdict | undefined {
    let verdict: RelayVerdict;
    if (frame.result === 'accepted' || frame.result === 'duplicate') {
      const status = frame.result === 'accepted' ? 'sent' : 'duplicate';
      if (!this.outbox.accept(frame.id, status, frame.server_id, now)) return undefined;
      if (this.held.size > 0) this.release(frame.id);
      verdict = { status, server_id: frame.server_id, reason: null, reason_code: null };
    } else if (frame.retryable && frame.code === FILE_SEND_REJECTION_CODES.blobMissing) {
      // The relay lacks one of its blobs (dropped, or never complete): upload them again, then send.
      if (!this.outbox.defer(frame.id, frame.reason, now)) return undefined;
      this.repo.resetUploads(frame.id);
      this.markBacklog();
      this.writes.afterCommit(() => this.transfers.kick());
      verdict = { status: 'queued', server_id: null, reason: frame.reason, reason_code: 'deferred' };
    } else if (frame.retryable) {
      if (!this.outbox.defer(frame.id, frame.reason, now)) return undefined;
      this.markBacklog();
      // A full recipient holds back only its own messages; a rate refusal slows everything.
      if (frame.code === REJECTION_CODES.quota) this.hold(frame.id, frame.reason);
      else this.pausedUntil = Date.now() + RETRY_REJECTED_MS;
      // The relay's own words; the service says what happens next (CoreService.send).
      verdict = { status: 'queued', server_id: null, reason: frame.reason, reason_code: 'deferred' };
    } else {
      const reason = `rejected by the relay: ${frame.reason}`;
      if (!this.outbox.fail(frame.id, reason, now)) return undefined;
      verdict = { status: 'failed', server_id: null, reason, reason_code: 'rejected' };
    }
    return verdict;
  }

  /**
   * A verdict or delivery could not be committed (disk full, I/O error). Nothing was acked
   * or recorded, so dropping the link makes the relay send it again after reconnecting.
   */
  private storeFailed(link: RelayLink, error: unknown): void {
    // Nothing more is acked on this link: a cumulative ack for a later frame would cover the lost one.
    this.failedLinks.add(link);
    this.writeFailed('could not store a relay frame', error);
    link.close(1011, 'store error');
  }

  /** The recipient of outbound message `id` is full at the relay: back off sending to it. */
  private hold(id: string, reason: string): void {
    const to = this.repo.message(id)?.to;
    if (to === undefined) return;
    const now = Date.now();
    const current = this.held.get(to);
    // Refusals of messages that were already on the wire together count as one.
    if (current && current.until > now) {
      current.reason = reason;
      return;
    }
    const failures = (current?.failures ?? 0) + 1;
    this.held.set(to, { failures, reason, until: now + backoffDelay(failures - 1, QUOTA_BACKOFF) });
    this.freshnessChanged();
  }

  /** A message to this recipient was accepted: it has room again. */
  private release(id: string): void {
    const to = this.repo.message(id)?.to;
    if (to !== undefined && this.held.delete(to)) this.freshnessChanged();
  }

  private isHeld(to: string): boolean {
    const hold = this.held.get(to);
    return hold !== undefined && hold.until > Date.now();
  }

  /** Recipients whose messages must not be claimed now. */
  private heldNow(): string[] {
    const now = Date.now();
    return [...this.held].filter(([, hold]) => hold.until > now).map(([to]) => to);
  }

  /** Wakes the drain when the earliest hold ends, so the held messages are retried. */
  private armHoldTimer(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const now = Date.now();
    let earliest = Infinity;
    for (const hold of this.held.values()) if (hold.until > now) earliest = Math.min(earliest, hold.until);
    if (earliest === Infinity || this.stopped) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.kick();
    }, earliest - now);
    this.holdTimer.unref();
  }

  private markBacklog(): void {
    this.backlog = true;
    this.backlogMarks++;
  }

  private scheduleRetry(delayMs: number): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, delayMs);
    this.retryTimer.unref();
  }

  /**
   * Inside a write: a duplicate delivery (redelivered after a crash before its ack) stores
   * nothing. True when it stored a new message (a peer's, or a copy of one this user sent
   * from another device).
   */
  private storeDelivery(frame: DeliverFrameV2, now: string): boolean {
    const item = frame.item;
    switch (item.kind) {
      case 'message': {
        if ((item.message as WireMessageV3).sealed !== undefined) {
          const opened = this.openSealed(item);
          if (!opened) return false;
          return this.storeDelivery({ ...frame, item: opened }, now);
        }
        const m = item.message;
        if (m.from !== this.localUser() && !isGroupAddress(m.to) && !this.plainFrom.has(m.from)) {
          // An older core's (or a relay's own making: docs/security.md "Not protected yet"); said once per sender and run.
          this.plainFrom.add(m.from);
          this.log.warn(`e2e: a direct message from ${m.from} arrived unencrypted (a core before end-to-end encryption, or written by the relay); it is stored as it came`);
        }
        if (m.from !== this.localUser()) return this.storePeerMessage(item, now);
        // A message to oneself comes as the recipient's copy and (on another device) as an own
        // copy: stored once each way, as the sending device stores it.
        if (m.to === m.from && !this.repo.hasInboundServerId(item.server_id)) return this.storePeerMessage(item, now);
        return this.storeOwnCopy(item, now);
      }
      case 'expired':
        this.storeExpired(item, now);
        return false;
      case 'receipt':
        this.storeReceipt(item, now);
        return false;
      case 'group':
        this.storeGroupEvent(item, now);
        return false;
    }
  }

  /**
   * A sealed delivery opened, or undefined when it does not open: then it is refused, never
   * stored or shown, and said (log, status `last_error`); the cursor passes it like any other
   * delivery (the relay could only send the same bytes again).
   */
  private openSealed(item: Extract<DeliveryItemV2, { kind: 'message' }>): Extract<DeliveryItemV2, { kind: 'message' }> | undefined {
    const m = item.message as WireMessageV3 & { sealed: string };
    try {
      if (isGroupAddress(m.to)) throw new E2eError('malformed', 'a group message cannot be sealed (protocol v6)');
      return { ...item, message: this.bodies.open(m) };
    } catch (error) {
      this.refusedSealed++;
      const why = error instanceof E2eError ? error.message : errorMessage(error);
      this.trouble.lastError = `refused message ${item.server_id} from ${m.from}: ${why}; it is not shown (${this.refusedSealed} refused since the core started)`;
      this.log.warn(`e2e: ${this.trouble.lastError}`);
      this.writes.afterCommit(() => this.freshnessChanged());
      return undefined;
    }
  }

  /** The conversation of a message in group `groupId`: the group's name as this home knows it now (a rename moved it), else as sent. */
  private groupConversation(groupId: string | undefined, to: string): string {
    const group = groupId === undefined ? undefined : this.repo.group(groupId);
    return group ? `${GROUP_ADDRESS_PREFIX}${group.name}` : to;
  }

  private storePeerMessage(item: Extract<DeliveryItemV2, { kind: 'message' }>, now: string): boolean {
    const m = item.message;
    if (this.repo.hasInboundServerId(item.server_id)) return false;
    // The id is the sender's choice: one already naming a message here (someone else's,
    // or one of ours) stays with that message, and this one is known by its server_id.
    const id = this.repo.inboundIdFree(m.id, m.from) ? m.id : this.repo.inboundIdFree(item.server_id, m.from) ? item.server_id : undefined;
    if (id === undefined) {
      this.log.warn(`relay: dropped message ${item.server_id} from ${m.from}: its id and its server id both name other messages here`);
      return false;
    }
    if (id !== m.id) this.log.warn(`relay: message from ${m.from} reuses id ${m.id}, which names another message here; stored as ${id}`);
    const group = isGroupAddress(m.to);
    const mentions = m.mentions ?? [];
    // The relay names an agent's owner (protocol v4); an agent is always `<owner>.<name>`, so a
    // claim that does not fit the sender's name is not shown as ownership at all.
    const fromOwner = item.from_owner !== undefined && m.from.startsWith(`${item.from_owner}.`) ? item.from_owner : undefined;
    this.repo.insertMessage({
      id,
      client_message_id: m.client_message_id,
      server_id: item.server_id,
      conversation: group ? this.groupConversation(item.group_id, m.to) : m.from,
      direction: 'in',
      from: m.from,
      to: group ? this.groupConversation(item.group_id, m.to) : m.to,
      body: m.body,
      reply_to: m.reply_to,
      request_id: m.request_id,
      created_at: m.created_at,
      state: 'received',
      read: false,
      group_id: group ? (item.group_id ?? null) : null,
      mentions,
      // A direct message counts as a mention.
      mentions_me: !group || mentions.includes(this.localUser()),
      attachments: this.inboundAttachments(m.attachments),
      // The relay's word (protocol v4) that the sender is an agent of this person.
      ...(fromOwner !== undefined ? { from_owner: fromOwner } : {}),
    });
    this.peers.touch(m.from, now);
    if (fromOwner !== undefined) this.repo.notePeerOwner(m.from, fromOwner);
    this.repo.addEvent('message/received', id, now);
    return true;
  }

  /**
   * Inside a write: a delivered message's files, `remote` until downloaded. They are fetched at
   * once (`downloading`) when together they are at most `auto_download_bytes`; the downloads
   * start once the write commits.
   */
  private inboundAttachments(attachments: readonly WireAttachment[] | undefined): NewAttachment[] {
    if (!attachments || attachments.length === 0) return [];
    const total = attachments.reduce((sum, a) => sum + a.size, 0);
    const limit = autoDownloadBytes(this.repo);
    const auto = limit > 0 && total <= limit;
    if (auto) this.writes.afterCommit(() => this.transfers.kick());
    return attachments.map((a) => ({ name: a.name, size: a.size, sha256: a.sha256, mime: a.mime, state: auto ? 'downloading' : 'remote', at_relay: true }));
  }

  /**
   * A message this user sent from another device: stored as outbound and `sent` in its
   * conversation, so the thread is whole here too. Exactly once (by id or server id); a
   * message this device sent itself is never sent back to it by the relay, and is kept as it
   * is if it were.
   */
  private storeOwnCopy(item: Extract<DeliveryItemV2, { kind: 'message' }>, now: string): boolean {
    const m = item.message;
    if (this.repo.outbound(m.id) || this.repo.outboundByServerId(item.server_id)) return false;
    const group = isGroupAddress(m.to);
    const known = group && item.group_id !== undefined ? this.repo.group(item.group_id) : undefined;
    const conversation = group ? this.groupConversation(item.group_id, m.to) : m.to;
    const recipients = group ? (known?.members.map((x) => x.user).filter((u) => u !== m.from) ?? []) : [m.to];
    this.repo.insertMessage({
      id: m.id,
      client_message_id: m.client_message_id,
      server_id: item.server_id,
      conversation,
      direction: 'out',
      from: m.from,
      to: conversation,
      body: m.body,
      reply_to: m.reply_to,
      request_id: m.request_id,
      created_at: m.created_at,
      state: 'sent',
      read: true,
      group_id: group ? (item.group_id ?? null) : null,
      mentions: m.mentions ?? [],
      mentions_me: false,
      receipts_total: recipients.length,
      attachments: this.inboundAttachments(m.attachments),
    });
    this.repo.addRecipients(m.id, recipients);
    this.repo.addEvent('message/received', m.id, now);
    return true;
  }

  /**
   * The relay will not deliver a message this user sent to `item.to`. A direct message is then
   * expired. A group message is expired only once no member is left who may still get it: one
   * member passed over (a full quota) or expired for leaves the others' deliveries standing.
   */
  private storeExpired(item: Extract<DeliveryItemV2, { kind: 'expired' }>, now: string): void {
    const why = item.reason === 'quota' ? `${item.to}'s undelivered messages at the relay were at its cap` : `the relay held it for its whole retention and no device of ${item.to} took it`;
    if (item.group_id === undefined) {
      this.outbox.expire(item.id, item.server_id, `expired: ${why} (dropped ${item.at})`, now);
      return;
    }
    const message = this.repo.outbound(item.id);
    if (!message || (message.server_id !== null && message.server_id !== item.server_id)) return;
    const changed = this.repo.recordDropped(message.id, item.to, item.reason ?? 'retention');
    if (this.repo.droppedForAll(message.id)) this.outbox.expire(item.id, item.server_id, `expired: no member was given it; the last, ${item.to}: ${why} (dropped ${item.at})`, now);
    else if (changed) this.repo.addEvent('message/updated', message.id, now);
  }

  /** A recipient's delivered or read receipt for a message this user sent (from any device). */
  private storeReceipt(item: Extract<DeliveryItemV2, { kind: 'receipt' }>, now: string): void {
    if (item.by === this.localUser() && item.status === 'read') {
      // Another of this user's devices read a message it received (the relay mirrors the read);
      // for a message to oneself this is also the recipient's receipt, recorded below.
      const read = this.repo.markReadByServerId(item.server_id);
      if (read !== undefined) this.repo.addEvent('message/updated', read, now);
    }
    const message = this.repo.outboundServerId(item.id);
    if (!message || (message.server_id !== null && message.server_id !== item.server_id)) return;
    const status = item.status ?? 'delivered';
    const changed = this.repo.recordReceipt(item.id, item.by, status, item.at);
    // The message shows delivered once any recipient's core committed it.
    const delivered = this.repo.markDelivered(item.id);
    if (changed || delivered) this.repo.addEvent('message/updated', item.id, now);
  }

  /** A membership event: the group and its members as they are after it. */
  private storeGroupEvent(item: Extract<DeliveryItemV2, { kind: 'group' }>, now: string): void {
    const created = item.event === 'created';
    const saved = this.repo.saveGroup(
      { group_id: item.group_id, name: item.group, pos: item.pos, members: item.members, me: this.localUser(), created_by: created ? item.by : null, created_at: created ? item.at : null },
      now,
    );
    if (saved) this.repo.addEvent('group/changed', item.group_id, now);
  }

  /** An `ok` group verdict: the group as the relay's commit left it, stored before the request is answered. */
  private storeGroupVerdict(frame: GroupVerdictFrame, now: string): void {
    if (frame.result !== 'ok') return;
    const created = this.groupWaiters.get(frame.request_id)?.body.type === 'group_create';
    const saved = this.repo.saveGroup(
      { group_id: frame.group_id, name: frame.group, pos: frame.pos, members: frame.members, me: this.localUser(), created_by: created ? this.localUser() : null, created_at: created ? now : null },
      now,
    );
    if (saved) this.repo.addEvent('group/changed', frame.group_id, now);
  }

  relayVersion(): number | null {
    return this.isOnline() && this.link ? this.link.version : null;
  }

  groupRequest(body: GroupRequestBody, ms: number): Promise<GroupVerdictFrame | undefined> {
    const link = this.link;
    if (!link || !this.isOnline() || link.version < RELAY_PROTOCOL_V2) return Promise.resolve(undefined);
    const requestId = newId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ms);
      const done = (verdict: GroupVerdictFrame | undefined) => {
        clearTimeout(timer);
        this.groupWaiters.delete(requestId);
        resolve(verdict);
      };
      this.groupWaiters.set(requestId, { body, done });
      if (!link.group({ ...body, request_id: requestId } as GroupFrame)) done(undefined);
    });
  }

  /**
   * Sends an agent request on the live v4 link and resolves with the relay's answer; undefined
   * when the link is down or not v4, when it drops, or after `ms` (never a hang).
   */
  agentRequest(body: AgentRequestBody, ms: number): Promise<AgentResultFrame | undefined> {
    const link = this.link;
    if (!link || !this.isOnline() || link.version < RELAY_PROTOCOL_V4) return Promise.resolve(undefined);
    const requestId = newId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ms);
      const done = (result: AgentResultFrame | undefined) => {
        clearTimeout(timer);
        this.agentWaiters.delete(requestId);
        resolve(result);
      };
      this.agentWaiters.set(requestId, done);
      if (!link.agent({ ...body, request_id: requestId } as AgentFrame)) done(undefined);
    });
  }

  groupList(ms: number): Promise<GroupSummary[] | undefined> {
    const link = this.link;
    if (!link || !this.isOnline() || link.version < RELAY_PROTOCOL_V2) return Promise.resolve(undefined);
    const requestId = newId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ms);
      const done = (groups: GroupSummary[] | undefined) => {
        clearTimeout(timer);
        this.listWaiters.delete(requestId);
        resolve(groups);
      };
      this.listWaiters.set(requestId, done);
      if (!link.groupList(requestId)) done(undefined);
    });
  }

  kickReadReceipts(): void {
    if (this.isOnline()) void this.sendReadReceipts();
  }

  /**
   * Sends the queued read receipts on a v2 link, MAX_READ_IDS per frame, each batch deleted
   * from the queue once written to the link: a crash before then sends it again (the relay
   * tells each sender once per reader). A v1 link takes none: they wait for an upgraded relay.
   */
  private async sendReadReceipts(): Promise<void> {
    if (this.sendingReads) return;
    this.sendingReads = true;
    try {
      for (;;) {
        const link = this.link;
        if (!link || !this.isOnline() || link.version < RELAY_PROTOCOL_V2) return;
        const due = this.repo.readReceiptsDue(MAX_READ_IDS);
        if (due.length === 0) return;
        if (!link.read(due.map((r) => r.server_id))) return;
        const through = due[due.length - 1]!.seq;
        await this.writes.run(() => this.repo.readReceiptsSent(through));
      }
    } catch (error) {
      this.writeFailed('could not record read receipts as sent', error);
    } finally {
      this.sendingReads = false;
    }
  }

  /**
   * Acks are cumulative: deliveries committed together are acked by one frame for the
   * highest of them, sparing the relay a write per delivery.
   */
  private ackSoon(link: RelayLink, seq: number): void {
    const pending = this.pendingAck;
    if (pending && pending.link === link) {
      pending.seq = Math.max(pending.seq, seq);
      return;
    }
    this.pendingAck = { link, seq };
    process.nextTick(() => {
      const ack = this.pendingAck;
      this.pendingAck = undefined;
      if (ack && !this.failedLinks.has(ack.link)) ack.link.ack(ack.seq);
    });
  }

  /**
   * Called last in a write (nothing after it may fail): the row is written once at the end of
   * the batch, not once per delivery or verdict in it.
   */
  private setStateAtCommit(key: string, value: string): void {
    this.stateAtCommit.set(key, value);
    this.writes.beforeCommit('sync-state', () => {
      // Taken before writing: after a failed batch nothing stale is carried into the next one.
      const rows = [...this.stateAtCommit];
      this.stateAtCommit.clear();
      for (const [k, v] of rows) this.repo.setState(k, v);
    });
  }

  private wakeVerdictWaiters(id: string, verdict?: RelayVerdict): void {
    const waiters = this.verdictWaiters.get(id);
    if (!waiters) return;
    this.verdictWaiters.delete(id);
    for (const wake of waiters) wake(verdict);
  }

  private freshnessChanged(): void {
    // A write finishing while the core stops must not read the store after it is closed.
    if (this.freshnessTimer || this.stopped) return;
    this.freshnessTimer = setTimeout(() => {
      this.freshnessTimer = undefined;
      this.emitStatus();
    }, FRESHNESS_NOTIFY_MS);
    this.freshnessTimer.unref();
  }

  private setState(state: SyncState): void {
    this.state = state;
    if (state !== 'connecting') for (const settle of this.settleWaiters.splice(0)) settle();
    this.emitStatus();
    this.notePull();
  }

  private emitStatus(): void {
    const status = this.status();
    for (const listener of this.listeners) listener(status);
  }
}

function describe(error: unknown): string {
  return errorMessage(error);
}
