/**
 * The relay server: accepts WebSocket connections, authenticates them, and routes frames to
 * the storage (relay/storage/types.ts: SQLite or JetStream behind one interface) and deliveries
 * to live sessions. It keeps each connection's storage calls in order (RelaySession.inOrder).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { writesPerTurn } from '../lib/node/turn-writes';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  GROUP_REJECTION_CODES,
  RELAY_MAX_FRAME_BYTES,
  RELAY_PROTOCOL_V1,
  RELAY_PROTOCOL_V3,
  RELAY_PROTOCOL_V4,
  RELAY_PROTOCOL_V5,
  RELAY_PROTOCOL_V6,
  KEYS_REJECTION_CODES,
  type KeysFrame,
  type KeysResultFrame,
  type CoreToRelayFrameV5,
  AGENT_REJECTION_CODES,
  DEFAULT_MAX_AGENTS_PER_OWNER,
  type AgentFrame,
  type AgentResultFrame,
  RELAY_REFUSAL_HEADER,
  RELAY_SUPPORTED_VERSIONS,
  RelayCloseCodes,
  type GroupFrame,
  type GroupListResultFrame,
  type GroupVerdictFrame,
  type HelloFrame,
  type SendFrameV3,
} from '../protocol/relay';
import { parseCoreFrame, parseCoreFrameV2, parseCoreFrameV3, parseCoreFrameV4, parseCoreFrameV5 } from '../protocol/relay-schemas';
import { DEFAULT_MAX_FILE_BYTES, decodeBlobChunk } from '../protocol/files';
import { BlobService, DEFAULT_BLOB_LIMITS } from './blobs';
import { MAX_BODY_BYTES } from '../protocol/limits';
import { DiskFullError } from '../lib/node/storage-errors';

/** Key records one connection may publish (a core publishes once per connect). */
const MAX_KEY_PUBLISHES_PER_CONNECTION = 8;
/**
 * Key lookups a connection makes outside the send rate: a core looks a recipient up before its
 * first send to them on each connection (docs/security.md), which must not make that send
 * refused for rate; past these, lookups share the user's send rate.
 */
const FREE_KEY_GETS_PER_CONNECTION = 64;

/** How long sends after a rate refusal wait for the refused one to be resent before flowing again. */
const ORDER_HOLD_MS = 5000;
import { DEFAULT_LEDGER_LIMITS } from './ledger';
import { DEFAULT_GROUP_LIMITS } from './groups';
import { RateLimiter } from './rate-limit';
import { normalizeAddress, RelaySession, sessionKey, type PendingSend } from './session';
import type { CommittedDelivery, Credential, OpenedDevice, RelayStorage, RelayStorageLimits, StorageEvents, Unsubscribe } from './storage/types';
import { SqliteRelayStorage } from './storage/sqlite/storage';
import { storageErrorVerdict } from './storage/errors';
import { checkSha256Token, hashToken, LegacyTokenChecks } from './tokens';
import { errorMessage } from '../lib/error-message';

export interface RelayServerOptions {
  /** Where the SQLite storage lives (`relay.db`, `blobs/`), unless `storage` is given. */
  dataDir: string;
  /**
   * Opens the storage to run on, given the limits it enforces and the events to report; by
   * default SQLite in `dataDir`. The server closes it when it stops.
   */
  storage?: (limits: RelayStorageLimits, events: StorageEventSink) => RelayStorage | Promise<RelayStorage>;
  /** Loopback unless told otherwise: exposing a relay is a deliberate act. */
  host?: string;
  /** 0 picks a free port; read it back from `port`. */
  port?: number;
  tls?: { certFile: string; keyFile: string };
  heartbeatMs?: number;
  /** Sends per second per user; 0 disables the limit. */
  ratePerSecond?: number;
  maxBodyBytes?: number;
  groupCommit?: boolean;
  /** How often to look for revocations made by other processes (`relay revoke`). */
  revocationPollMs?: number;
  /** Undelivered messages / bytes held per recipient (`--quota-messages`, `--quota-bytes`). */
  quotaMessages?: number;
  quotaBytes?: number;
  /** Age after which undelivered items expire (`--retention`). */
  retentionMs?: number;
  /** How long sends are remembered for dedupe and id ownership (`--dedupe-window`); at least `retentionMs`. */
  dedupeWindowMs?: number;
  /** Current members of one group (`--max-group-members`); bounds what one group send fans out to. */
  maxGroupMembers?: number;
  /** Groups one user may be a current member of (`--max-groups-per-user`). */
  maxGroupsPerUser?: number;
  /** Open WebSocket connections in total, logged in or not. */
  maxConnections?: number;
  /** Open WebSocket connections from one address. */
  maxConnectionsPerAddress?: number;
  /** Hellos being checked at once (between hello and welcome). */
  maxLogins?: number;
  /** A connection that has not sent hello this long after its upgrade is closed. */
  helloTimeoutMs?: number;
  /** Bytes a connection may send before its welcome: its hello and anything pipelined behind it. */
  maxPreloginBytes?: number;
  /** The TLS handshake and the upgrade request's headers must arrive within this. */
  upgradeTimeoutMs?: number;
  /** Unflushed outgoing bytes of one connection beyond which it is dropped as a slow consumer. */
  maxPendingBytes?: number;
  /** Largest file (blob) accepted, announced to v3 cores in welcome (`--max-file-bytes`). */
  maxFileBytes?: number;
  /** Uploads in progress at once per user. */
  maxUploadsPerUser?: number;
  /** Declared bytes of one user's uploads in progress (default 2 × maxFileBytes). */
  maxPartialBytesPerUser?: number;
  /** Downloads streaming at once on one connection. */
  maxDownloadsPerSession?: number;
  /** Active agent identities one person may hold (`--max-agents-per-owner`, protocol v4). */
  maxAgentsPerOwner?: number;
  log?: (line: string) => void;
}

/** What a stranger may hold before logging in, and what a peer that stops reading may cost. */
export const RELAY_LIMIT_DEFAULTS = {
  maxConnections: 4096,
  maxConnectionsPerAddress: 64,
  maxLogins: 256,
  helloTimeoutMs: 5000,
  maxPreloginBytes: 64 * 1024,
  upgradeTimeoutMs: 10_000,
  maxPendingBytes: 16 * 1024 * 1024,
} as const;

/** What the server does with what the storage reports (StorageEvents), for a `storage` factory to pass on. */
export type StorageEventSink = Required<StorageEvents>;

/** TCP connections still in their upgrade may exceed maxConnections by this many; beyond, they are dropped at accept. */
const UPGRADE_SLACK = 256;

/** Counters of what the limits refused, for logs and tests. */
export interface RelayLimitStats {
  refusedTotal: number;
  refusedPerAddress: number;
  refusedLogins: number;
  helloTimeouts: number;
  preloginOverflows: number;
  slowConsumers: number;
  /** scrypt derivations run for rows written by older relays. */
  scryptChecks: number;
  /** Such rows rewritten as SHA-256 after a good login. */
  tokensUpgraded: number;
  /** Hellos received and not yet answered with welcome or a refusal. */
  loginsInProgress: number;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_BODY_BYTES = MAX_BODY_BYTES;
export const DEFAULT_RATE_PER_SECOND = 1000;
/** Frames a client may pipeline behind its hello while the token is being checked. */
const MAX_HELD_FRAMES = 1024;

export class RelayServer {
  private readonly sessions = new Set<RelaySession>();
  private readonly byDevice = new Map<string, RelaySession>();
  private readonly byUser = new Map<string, Set<RelaySession>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly perAddress = new Map<string, number>();
  private readonly legacyChecks = new LegacyTokenChecks();
  private loginsInProgress = 0;
  private readonly counters = { refusedTotal: 0, refusedPerAddress: 0, refusedLogins: 0, helloTimeouts: 0, preloginOverflows: 0, slowConsumers: 0, tokensUpgraded: 0 };
  private pruning = false;
  private readonly unwatch: Unsubscribe[] = [];
  private closing: Promise<void> | undefined;
  private readonly blobs: BlobService;

  private constructor(
    /** Public for tools and tests running the relay in-process (e.g. to cap a SQLite store's size). */
    readonly storage: RelayStorage,
    private readonly limiter: RateLimiter,
    private readonly http: HttpServer,
    private readonly wss: WebSocketServer,
    private readonly settings: Required<Omit<RelayServerOptions, 'tls' | 'log' | 'host' | 'port' | 'storage'>> & {
      log: (line: string) => void;
      scheme: 'ws' | 'wss';
      host: string;
    },
  ) {
    this.blobs = new BlobService(storage.blobs, storage.blobContent, settings, (session, message) => this.protocolError(session, message), settings.log);
    this.unwatch.push(storage.deliveries.watchDeliveries((deliveries) => this.push(deliveries)));
  }

  static async start(options: RelayServerOptions): Promise<RelayServer> {
    const settings = {
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      ratePerSecond: options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      groupCommit: options.groupCommit ?? true,
      revocationPollMs: options.revocationPollMs ?? 1000,
      quotaMessages: options.quotaMessages ?? DEFAULT_LEDGER_LIMITS.quotaMessages,
      quotaBytes: options.quotaBytes ?? DEFAULT_LEDGER_LIMITS.quotaBytes,
      retentionMs: options.retentionMs ?? DEFAULT_LEDGER_LIMITS.retentionMs,
      dedupeWindowMs: options.dedupeWindowMs ?? Math.max(DEFAULT_LEDGER_LIMITS.dedupeWindowMs, options.retentionMs ?? 0),
      maxGroupMembers: options.maxGroupMembers ?? DEFAULT_GROUP_LIMITS.maxGroupMembers,
      maxGroupsPerUser: options.maxGroupsPerUser ?? DEFAULT_GROUP_LIMITS.maxGroupsPerUser,
      maxConnections: options.maxConnections ?? RELAY_LIMIT_DEFAULTS.maxConnections,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? RELAY_LIMIT_DEFAULTS.maxConnectionsPerAddress,
      maxLogins: options.maxLogins ?? RELAY_LIMIT_DEFAULTS.maxLogins,
      helloTimeoutMs: options.helloTimeoutMs ?? RELAY_LIMIT_DEFAULTS.helloTimeoutMs,
      maxPreloginBytes: options.maxPreloginBytes ?? RELAY_LIMIT_DEFAULTS.maxPreloginBytes,
      upgradeTimeoutMs: options.upgradeTimeoutMs ?? RELAY_LIMIT_DEFAULTS.upgradeTimeoutMs,
      maxPendingBytes: options.maxPendingBytes ?? RELAY_LIMIT_DEFAULTS.maxPendingBytes,
      maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
      maxUploadsPerUser: options.maxUploadsPerUser ?? DEFAULT_BLOB_LIMITS.maxUploadsPerUser,
      maxPartialBytesPerUser: options.maxPartialBytesPerUser ?? 2 * (options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES),
      maxDownloadsPerSession: options.maxDownloadsPerSession ?? DEFAULT_BLOB_LIMITS.maxDownloadsPerSession,
      maxAgentsPerOwner: options.maxAgentsPerOwner ?? DEFAULT_MAX_AGENTS_PER_OWNER,
      dataDir: options.dataDir,
      log: options.log ?? (() => {}),
      scheme: options.tls ? ('wss' as const) : ('ws' as const),
      host: options.host ?? '127.0.0.1',
    };
    // Read TLS material before opening anything, so a bad path fails cleanly.
    if (settings.dedupeWindowMs < settings.retentionMs) {
      // A resend of a message still held would otherwise be stored twice.
      throw new Error(`the dedupe window (${settings.dedupeWindowMs} ms) must be at least the retention (${settings.retentionMs} ms)`);
    }
    const tls = options.tls && { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) };
    // The storage reports to the server once it exists; until then there is nothing to stop.
    let server: RelayServer | undefined;
    const log = settings.log;
    const events: StorageEventSink = {
      onActionFailed: (error) => log(`an after-commit action failed: ${errorMessage(error)}`),
      onSpaceChange: (change) => log(change.full ? `${change.message}: sends are refused as retryable until space returns` : `${change.message}: sends are stored again`),
      onDurabilityLost: (error) => {
        log(`${error.message}; shutting down`);
        void server?.close();
      },
    };
    // Without group commit (for measuring it), each SQLite write also gets its own fsync.
    const storage = await (options.storage ?? ((limits, sink) => SqliteRelayStorage.open(options.dataDir, limits, { groupCommit: settings.groupCommit, events: sink })))(settings, events);
    try {
      // A slow TLS handshake or upgrade request is cut after upgradeTimeoutMs, checked often
      // enough that it is not held much longer (Node checks every 30 s by default).
      const timeouts = {
        headersTimeout: settings.upgradeTimeoutMs,
        requestTimeout: settings.upgradeTimeoutMs,
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(settings.upgradeTimeoutMs / 4))),
      };
      const http = tls ? createHttpsServer({ ...tls, ...timeouts, handshakeTimeout: settings.upgradeTimeoutMs }) : createHttpServer(timeouts);
      http.maxConnections = settings.maxConnections + UPGRADE_SLACK;
      http.on('request', (_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('switchboard relay: connect with a WebSocket client\n');
      });
      // Limits are checked at the upgrade, before ws allocates anything for the connection.
      const wss = new WebSocketServer({ noServer: true, maxPayload: RELAY_MAX_FRAME_BYTES, perMessageDeflate: false });
      const started = (server = new RelayServer(storage, new RateLimiter(settings.ratePerSecond), http, wss, settings));
      http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => started.upgrade(request, socket as Socket, head));
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port ?? 8787, settings.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      started.startTimers();
      return started;
    } catch (err) {
      await storage.close();
      throw err;
    }
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.settings.host.includes(':') ? `[${this.settings.host}]` : this.settings.host;
    return `${this.settings.scheme}://${host}:${this.port}`;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  stats(): RelayLimitStats {
    return { ...this.counters, scryptChecks: this.legacyChecks.started, loginsInProgress: this.loginsInProgress };
  }

  /**
   * Stops accepting, lets committed-but-unanswered writes answer, closes every socket with
   * 1001 and closes the database. Nothing is lost: every verdict follows its commit.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Closes the live connections whose credential is no longer active (revoked here or elsewhere). */
  async disconnectRevoked(): Promise<void> {
    const ready = [...this.sessions].filter((session) => session.state === 'ready' && session.identity);
    if (ready.length === 0) return;
    let inactive: Set<number>;
    try {
      inactive = await this.storage.accounts.inactiveCredentials([...new Set(ready.map((session) => session.identity!.credentialId))]);
    } catch (err) {
      // Checked again on the next change; meanwhile the sessions stay as they are.
      return this.settings.log(`could not check for revoked tokens: ${errorMessage(err)}`);
    }
    for (const session of ready) {
      if (session.state !== 'ready' || !session.identity || !inactive.has(session.identity.credentialId)) continue;
      this.settings.log(`closing ${session.identity.user}/${session.identity.device}: token revoked`);
      session.fail(RelayCloseCodes.Unauthorized, 'token revoked', { type: 'error', code: 'unauthorized', message: 'token revoked' });
    }
  }

  // ---- connections ------------------------------------------------------------------------

  /** Refuses, with an HTTP status and a reason the core shows, or hands the connection to ws. */
  private upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    // Node's HTTP server has let go of the socket: a reset from the peer must not go unheard
    // (an 'error' without a listener would end the process). ws adds its own when it takes over.
    socket.on('error', () => socket.destroy());
    const address = normalizeAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.closing) return refuseUpgrade(socket, 503, 'relay shutting down');
    if (this.sessions.size >= this.settings.maxConnections) {
      this.counters.refusedTotal++;
      this.settings.log(`refused ${address}: at the connection limit (${this.settings.maxConnections})`);
      return refuseUpgrade(socket, 503, `relay at its connection limit (${this.settings.maxConnections}); retry later`);
    }
    if (fromAddress >= this.settings.maxConnectionsPerAddress) {
      this.counters.refusedPerAddress++;
      this.settings.log(`refused ${address}: ${fromAddress} connections from that address already`);
      return refuseUpgrade(socket, 429, `too many connections from ${address} (limit ${this.settings.maxConnectionsPerAddress}); retry later`);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, socket));
  }

  private accept(socket: WebSocket, transport: Socket): void {
    const session = new RelaySession(socket, this.storage.deliveries, {
      transport,
      holdWrites: writesPerTurn(transport),
      maxPendingBytes: this.settings.maxPendingBytes,
    });
    this.sessions.add(session);
    this.perAddress.set(session.address, (this.perAddress.get(session.address) ?? 0) + 1);
    session.onWritten = () => this.blobs.written(session);
    session.onPumpFailed = (error) => {
      this.settings.log(`could not read deliveries for ${session.remote}: ${errorMessage(error)}`);
      session.fail(1011, 'internal error', { type: 'error', code: 'internal', message: 'relay storage error' });
    };
    session.onSlowConsumer = (bytes) => {
      this.counters.slowConsumers++;
      this.settings.log(`dropping ${session.remote}: slow consumer, ${bytes} bytes unsent`);
    };
    session.helloTimer = setTimeout(() => {
      if (session.state !== 'awaiting-hello') return;
      this.counters.helloTimeouts++;
      this.settings.log(`dropping ${session.remote}: no hello within ${this.settings.helloTimeoutMs} ms`);
      session.drop(RelayCloseCodes.Policy, `no hello within ${this.settings.helloTimeoutMs} ms`);
    }, this.settings.helloTimeoutMs);
    session.helloTimer.unref();
    // Counted on the transport, so a frame still arriving (ws buffers it until complete)
    // counts too: nothing a stranger sends before welcome can take more than the cap.
    const countPrelogin = (chunk: Buffer): void => {
      if (session.state === 'ready' || session.state === 'closed') return void transport.off('data', countPrelogin);
      session.preloginBytes += chunk.length;
      if (session.preloginBytes <= this.settings.maxPreloginBytes) return;
      transport.off('data', countPrelogin);
      this.counters.preloginOverflows++;
      this.settings.log(`dropping ${session.remote}: more than ${this.settings.maxPreloginBytes} bytes before welcome`);
      session.drop(RelayCloseCodes.TooBig, `more than ${this.settings.maxPreloginBytes} bytes before welcome`, { stopReading: true });
    };
    transport.on('data', countPrelogin);
    socket.on('message', (data, isBinary) => this.onMessage(session, data, isBinary));
    socket.on('close', () => this.forget(session));
    // ws reports oversize frames and bad framing here, then closes the socket itself (1009/1002).
    socket.on('error', (err) => this.settings.log(`connection ${session.remote}: ${err.message}`));
  }

  private forget(session: RelaySession): void {
    if (!this.sessions.has(session)) return;
    clearTimeout(session.helloTimer);
    this.blobs.closed(session);
    session.state = 'closed';
    this.sessions.delete(session);
    const fromAddress = (this.perAddress.get(session.address) ?? 1) - 1;
    if (fromAddress > 0) this.perAddress.set(session.address, fromAddress);
    else this.perAddress.delete(session.address);
    const key = session.key;
    if (key && this.byDevice.get(key) === session) this.byDevice.delete(key);
    if (session.identity) {
      const peers = this.byUser.get(session.identity.user);
      peers?.delete(session);
      if (peers?.size === 0) this.byUser.delete(session.identity.user);
    }
  }

  private onMessage(session: RelaySession, data: RawData, isBinary: boolean): void {
    if (session.state === 'closed' || this.closing) return;
    session.lastFrameAt = Date.now();
    if (isBinary) return this.handleBinary(session, data);
    const text = rawToString(data);
    if (session.state === 'authenticating') {
      if (session.heldFrames.length >= MAX_HELD_FRAMES) return this.protocolError(session, 'too many frames before welcome');
      session.heldFrames.push(text);
      return;
    }
    this.handleText(session, text);
  }

  /** Blob chunks (protocol v3): only on a v3 connection after welcome, and only well-formed. */
  private handleBinary(session: RelaySession, data: RawData): void {
    if (session.state !== 'ready' || session.version < RELAY_PROTOCOL_V3) {
      return this.protocolError(session, session.state === 'ready' ? `binary frames need relay protocol ${RELAY_PROTOCOL_V3}; this connection speaks ${session.version}` : 'a binary frame before welcome');
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const chunk = decodeBlobChunk(bytes);
    if (typeof chunk === 'string') return this.protocolError(session, chunk);
    this.blobs.chunk(session, chunk);
  }

  private handleText(session: RelaySession, text: string): void {
    // A connection is held to the frames of its version; before hello (the same in all), v2.
    const ready = session.state === 'ready';
    const parsed =
      ready && session.version === RELAY_PROTOCOL_V1
        ? parseCoreFrame(text)
        : ready && session.version >= RELAY_PROTOCOL_V5
          ? parseCoreFrameV5(text)
          : ready && session.version >= RELAY_PROTOCOL_V4
            ? parseCoreFrameV4(text)
            : ready && session.version >= RELAY_PROTOCOL_V3
              ? parseCoreFrameV3(text)
              : parseCoreFrameV2(text);
    if (!parsed.ok) return this.protocolError(session, parsed.error);
    const frame: CoreToRelayFrameV5 = parsed.frame;
    if (session.state === 'awaiting-hello') {
      if (frame.type !== 'hello') return this.protocolError(session, `expected hello first, got ${frame.type}`);
      void this.authenticate(session, frame);
      return;
    }
    switch (frame.type) {
      case 'hello':
        return this.protocolError(session, 'hello was already received on this connection');
      case 'ping':
        return session.send({ type: 'pong', t: frame.t });
      case 'send':
        return this.handleSend(session, frame);
      case 'ack':
        return this.handleAck(session, frame.seq);
      case 'read':
        return this.handleRead(session, frame.server_ids);
      case 'group_create':
      case 'group_add':
      case 'group_remove':
      case 'group_leave':
      case 'group_rename':
      case 'group_role':
      case 'group_show':
        return this.handleGroup(session, frame);
      case 'group_list':
        return this.handleGroupList(session, frame.request_id);
      case 'blob_begin':
        return void this.blobs.begin(session, frame);
      case 'blob_get':
        return void this.blobs.get(session, frame);
      case 'blob_done':
        return this.blobs.done(session, frame.sha256);
      case 'blob_cancel':
        return this.blobs.cancel(session, frame.request_id);
      case 'agent_create':
      case 'agent_list':
      case 'agent_revoke':
        return this.handleAgent(session, frame);
      case 'keys_publish':
      case 'keys_get':
        return this.handleKeys(session, frame);
    }
  }

  /**
   * A key-directory request (protocol v5): answered in order with the connection's verdicts.
   * A publish is written in a transaction; a get only reads, but goes through the same queue so
   * it sees every publish committed before it. Past the first 64 of a connection, a get spends a
   * send's worth of the user's rate.
   */
  private handleKeys(session: RelaySession, frame: KeysFrame): void {
    const identity = session.identity;
    if (!identity) return;
    const answer = session.reserveVerdict<KeysResultFrame>();
    const refuse = (code: 'rate_limit' | 'storage', reason: string): void =>
      answer({ type: 'keys_result', request_id: frame.request_id, result: 'rejected', code, reason, retryable: true });
    // A core publishes once per connect and looks each recipient up before its first send: that
    // must not spend the user's send rate (those sends would be refused), so publishes are
    // bounded per connection instead, and fetches share the rate past the first 64.
    if (frame.type === 'keys_publish') {
      if (++session.keysPublished > MAX_KEY_PUBLISHES_PER_CONNECTION) return refuse(KEYS_REJECTION_CODES.rateLimit, `at most ${MAX_KEY_PUBLISHES_PER_CONNECTION} key publishes per connection; reconnect to publish again`);
    } else if (++session.keysFetched > FREE_KEY_GETS_PER_CONNECTION && !this.limiter.tryTake(identity.user)) return refuse(KEYS_REJECTION_CODES.rateLimit, 'rate limit exceeded; retry shortly');
    const keys = this.storage.keys;
    void session.inOrder(() => (frame.type === 'keys_publish' ? keys.publishKeys(identity.user, identity.device, frame, new Date()) : keys.getKeys(frame))).then(
      (result) => {
        if (frame.type === 'keys_publish' && result.result === 'ok') this.settings.log(`${identity.user} published keys of device ${identity.device}`);
        answer(result);
      },
      (err: unknown) => {
        this.settings.log(`keys request failed to commit: ${errorMessage(err)}`);
        refuse(KEYS_REJECTION_CODES.storage, err instanceof DiskFullError ? "relay storage error: the relay's disk is full; retry shortly" : 'relay storage error; retry shortly');
      },
    );
  }

  /**
   * An agent request (protocol v4): decided and written in one transaction, answered in order
   * with the connection's verdicts. A revocation closes the agent's live sessions right after
   * the commit, so its next frame cannot go out under the revoked token; the owner's stay.
   * Spends a send's worth of the user's rate, like a group request.
   */
  private handleAgent(session: RelaySession, frame: AgentFrame): void {
    const identity = session.identity;
    if (!identity) return;
    const answer = session.reserveVerdict<AgentResultFrame>();
    const refuse = (code: 'rate_limit' | 'storage', reason: string): void =>
      answer({ type: 'agent_result', request_id: frame.request_id, result: 'rejected', code, reason, retryable: true });
    if (!this.limiter.tryTake(identity.user)) return refuse(AGENT_REJECTION_CODES.rateLimit, 'rate limit exceeded; retry shortly');
    void session.inOrder(() => this.storage.agents.applyAgentRequest(identity.user, frame, new Date())).then(
      (outcome) => {
        if (outcome.revoked !== undefined) this.settings.log(`${identity.user} revoked agent ${outcome.revoked}`);
        else if (frame.type === 'agent_create' && outcome.answer.result === 'ok') this.settings.log(`${identity.user} created agent ${outcome.answer.agents[0]?.name}`);
        answer(outcome.answer);
        if (outcome.revoked !== undefined) void this.disconnectRevoked();
      },
      (err: unknown) => {
        this.settings.log(`agent request failed to commit: ${errorMessage(err)}`);
        refuse(AGENT_REJECTION_CODES.storage, err instanceof DiskFullError ? "relay storage error: the relay's disk is full; retry shortly" : 'relay storage error; retry shortly');
      },
    );
  }

  private protocolError(session: RelaySession, message: string): void {
    this.settings.log(`protocol error from ${session.remote}: ${message}`);
    session.drop(RelayCloseCodes.Protocol, message, { error: { type: 'error', code: 'protocol', message } });
  }

  private async authenticate(session: RelaySession, hello: HelloFrame): Promise<void> {
    clearTimeout(session.helloTimer);
    if (!RELAY_SUPPORTED_VERSIONS.includes(hello.v)) {
      return this.protocolError(
        session,
        `unsupported relay protocol version ${hello.v}; this relay speaks ${RELAY_SUPPORTED_VERSIONS.slice(0, -1).join(', ')} and ${RELAY_SUPPORTED_VERSIONS.at(-1)}: upgrade ${hello.v > Math.max(...RELAY_SUPPORTED_VERSIONS) ? 'the relay' : 'switchboard'}`,
      );
    }
    session.version = hello.v;
    if (this.loginsInProgress >= this.settings.maxLogins) {
      this.counters.refusedLogins++;
      this.settings.log(`refused hello from ${session.remote}: ${this.loginsInProgress} logins in progress`);
      return session.drop(RelayCloseCodes.TryAgainLater, `relay busy: ${this.loginsInProgress} logins in progress; retry shortly`);
    }
    this.loginsInProgress++;
    session.state = 'authenticating';
    try {
      await this.login(session, hello);
    } finally {
      this.loginsInProgress--;
    }
  }

  private async login(session: RelaySession, hello: HelloFrame): Promise<void> {
    let credential: Credential | undefined;
    try {
      credential = await this.storage.accounts.activeCredential(hello.user);
    } catch (err) {
      this.settings.log(`could not read the credential of "${hello.user}": ${errorMessage(err)}`);
      session.fail(1011, 'internal error', { type: 'error', code: 'internal', message: 'relay storage error' });
      return;
    }
    if (session.state !== 'authenticating' || this.closing) return;
    let valid: boolean;
    if (credential?.kind === 'scrypt') {
      if (!this.legacyChecks.hasRoom()) {
        this.counters.refusedLogins++;
        return session.drop(RelayCloseCodes.TryAgainLater, 'relay busy: too many token checks in progress; retry shortly');
      }
      try {
        valid = await this.legacyChecks.check(hello.token, credential);
      } catch (err) {
        this.settings.log(`token check failed: ${errorMessage(err)}`);
        session.fail(1011, 'internal error', { type: 'error', code: 'internal', message: 'could not check the token' });
        return;
      }
      if (session.state !== 'authenticating' || this.closing) return;
    } else {
      valid = checkSha256Token(hello.token, credential?.hash);
    }
    if (!valid || !credential) return this.refuseHello(session, hello);
    let opened: OpenedDevice | undefined;
    try {
      // The credential is checked again by the call that registers the device: a revocation
      // committed while the token was checked is seen there, one committed after by the watch.
      opened = await this.storage.deliveries.openDevice({
        credentialId: credential.id,
        user: hello.user,
        device: hello.device,
        cursor: hello.cursor,
        version: session.version,
        ...(credential.kind === 'scrypt' ? { upgradeTo: hashToken(hello.token) } : {}),
        now: new Date(),
      });
      if (opened?.tokenUpgraded) this.counters.tokensUpgraded++;
    } catch (err) {
      this.settings.log(`could not register device: ${errorMessage(err)}`);
      session.fail(1011, 'internal error', { type: 'error', code: 'internal', message: 'relay storage error' });
      return;
    }
    if (session.state !== 'authenticating' || this.closing) return;
    if (!opened) return this.refuseHello(session, hello);
    this.welcome(session, hello, credential, opened);
  }

  private refuseHello(session: RelaySession, hello: HelloFrame): void {
    this.settings.log(`unauthorized hello for "${hello.user}" from ${session.remote}`);
    session.drop(RelayCloseCodes.Unauthorized, 'unauthorized', { error: { type: 'error', code: 'unauthorized', message: 'unknown user or bad or revoked token' } });
  }

  private welcome(session: RelaySession, hello: HelloFrame, credential: Credential, { acked, receipts, backlogSeq }: OpenedDevice): void {
    session.identity = { user: hello.user, device: hello.device, credentialId: credential.id };
    const key = sessionKey(hello.user, hello.device);
    const previous = this.byDevice.get(key);
    if (previous && previous !== session) {
      previous.fail(RelayCloseCodes.Replaced, 'replaced by a newer connection of the same device');
      this.forget(previous);
    }
    this.byDevice.set(key, session);
    let peers = this.byUser.get(hello.user);
    if (!peers) this.byUser.set(hello.user, (peers = new Set()));
    peers.add(session);
    session.state = 'ready';
    // The token check can take a while; the silence clock starts at welcome, not at hello.
    session.lastFrameAt = Date.now();
    session.send({
      type: 'welcome',
      v: session.version,
      user: hello.user,
      device: hello.device,
      heartbeat_ms: this.settings.heartbeatMs,
      max_body_bytes: this.settings.maxBodyBytes,
      ...(session.version >= RELAY_PROTOCOL_V3 ? { max_file_bytes: this.settings.maxFileBytes } : {}),
      // Read by openDevice with the cursor; the pump below sends everything up to it and beyond.
      backlog_seq: backlogSeq,
    });
    // The session is registered before its first page is read: a delivery committed after
    // openDevice is either in that page or pushed live (a seq already sent is passed over).
    session.startDeliveries(acked);
    this.push(receipts);
    for (const text of session.heldFrames.splice(0)) {
      if (session.state !== 'ready') break;
      this.handleText(session, text);
    }
  }

  private handleSend(session: RelaySession, frame: SendFrameV3): void {
    const identity = session.identity;
    if (!identity) return;
    const answer = session.reserveVerdict();
    const { client_message_id, id } = frame.message;
    const refused = session.refusedForRate;
    if (refused && refused.clientMessageId !== client_message_id && Date.now() < refused.until) {
      return answer({ type: 'verdict', result: 'rejected', client_message_id, id, reason: 'rate limit: an earlier message was refused; resend it first', retryable: true });
    }
    session.refusedForRate = undefined;
    // `sealed` is v6's: an older connection has no business sending it (and could not read the answer's copies).
    if (frame.message.sealed !== undefined && session.version < RELAY_PROTOCOL_V6) {
      return answer({ type: 'verdict', result: 'rejected', client_message_id, id, reason: `a sealed body needs relay protocol ${RELAY_PROTOCOL_V6}; this connection speaks ${session.version}`, retryable: false });
    }
    if (!this.limiter.tryTake(identity.user)) {
      session.refusedForRate = { clientMessageId: client_message_id, until: Date.now() + ORDER_HOLD_MS };
      return answer({ type: 'verdict', result: 'rejected', client_message_id, id, reason: 'rate limit exceeded; retry shortly', retryable: true });
    }
    // Sends that arrive together (one read from the socket, or while earlier ones are stored) are stored in one call.
    session.queueSend({ message: frame.message, answer }, (sends) => this.storeSends(sends, identity.user, identity.device));
  }

  private storeSends(sends: PendingSend[], sender: string, device: string): Promise<void> {
    return this.storage.deliveries.acceptSends(sender, device, sends.map((send) => send.message), new Date()).then(
      (outcomes) => {
        outcomes.forEach((outcome, i) => sends[i]!.answer(outcome.verdict));
        for (const outcome of outcomes) this.push(outcome.deliveries);
      },
      (err: unknown) => {
        this.settings.log(`send failed to commit: ${errorMessage(err)}`);
        // Nothing of the batch was stored (see write-batcher.ts): never an accept, always retryable.
        for (const { message, answer } of sends) answer(storageErrorVerdict(message, err));
      },
    );
  }

  private handleAck(session: RelaySession, seq: number): void {
    const identity = session.identity;
    if (!identity) return;
    const version = session.version;
    // Outside the connection's order: acks are cumulative and commute with its other requests.
    this.storage.deliveries.ack(identity.user, identity.device, seq, version, new Date()).then(
      (receipts) => this.push(receipts),
      (err: unknown) => this.settings.log(`ack failed to commit: ${errorMessage(err)}`),
    );
  }

  /** Read receipts: committed, then pushed to the senders. Nothing is answered (like an ack). */
  private handleRead(session: RelaySession, serverIds: string[]): void {
    const identity = session.identity;
    if (!identity) return;
    // Like an ack, outside the connection's order: a read receipt depends on nothing else it sent.
    this.storage.deliveries.markRead(identity.user, serverIds, identity.device, new Date()).then(
      (receipts) => this.push(receipts),
      (err: unknown) => this.settings.log(`read receipts failed to commit: ${errorMessage(err)}`),
    );
  }

  /**
   * A group request: decided and written in one transaction, answered in order with the
   * connection's verdicts after the commit, then its membership event pushed to every member.
   * It spends a send's worth of the user's rate, so requests cannot flood the timeline either.
   */
  private handleGroup(session: RelaySession, frame: GroupFrame): void {
    const identity = session.identity;
    if (!identity) return;
    const answer = session.reserveVerdict<GroupVerdictFrame>();
    const refuse = (code: 'rate_limit' | 'storage', reason: string): void =>
      answer({ type: 'group_verdict', request_id: frame.request_id, result: 'rejected', code, reason, retryable: true });
    if (!this.limiter.tryTake(identity.user)) return refuse(GROUP_REJECTION_CODES.rateLimit, 'rate limit exceeded; retry shortly');
    void session.inOrder(() => this.storage.groups.applyGroupRequest(identity.user, frame, new Date())).then(
      (outcome) => {
        answer(outcome.verdict);
        this.push(outcome.deliveries);
      },
      (err: unknown) => {
        this.settings.log(`group request failed to commit: ${errorMessage(err)}`);
        refuse(GROUP_REJECTION_CODES.storage, err instanceof DiskFullError ? "relay storage error: the relay's disk is full; retry shortly" : 'relay storage error; retry shortly');
      },
    );
  }

  /**
   * The user's groups, read in the write queue so the answer reflects every request before it on
   * this connection, and answered in order with its verdicts. A read failure drops the connection
   * (there is no refusal shape for a list): the core asks again after reconnecting.
   */
  private handleGroupList(session: RelaySession, requestId: string): void {
    const identity = session.identity;
    if (!identity) return;
    const answer = session.reserveVerdict<GroupListResultFrame>();
    void session.inOrder(() => this.storage.groups.listGroups(identity.user)).then(
      (groups) => answer({ type: 'group_list_result', request_id: requestId, groups }),
      (err: unknown) => {
        this.settings.log(`group list failed: ${errorMessage(err)}`);
        session.fail(1011, 'internal error', { type: 'error', code: 'internal', message: 'relay storage error' });
      },
    );
  }

  /** Offers committed deliveries to every live device of their users. */
  private push(deliveries: CommittedDelivery[]): void {
    for (const delivery of deliveries) {
      const peers = this.byUser.get(delivery.user);
      if (!peers) continue;
      for (const peer of peers) peer.notifyDelivery(delivery.seq, delivery.item, delivery);
    }
  }

  // ---- timers -----------------------------------------------------------------------------

  private startTimers(): void {
    const { heartbeatMs, revocationPollMs } = this.settings;
    this.timers.push(setInterval(() => this.heartbeat(), heartbeatMs));
    this.unwatch.push(this.storage.accounts.watchCredentials(() => void this.disconnectRevoked(), revocationPollMs));
    this.timers.push(setInterval(() => this.limiter.sweep(), 60_000));
    this.timers.push(setInterval(() => this.prune(), pruneIntervalMs(this.settings)));
    for (const timer of this.timers) timer.unref();
  }

  /**
   * Expires and prunes in bounded steps (one write each) until nothing is due; the senders of
   * expired messages are told at once when online, else when they next connect.
   */
  private prune(): void {
    if (this.pruning || this.closing) return;
    this.pruning = true;
    const step = (): void => {
      if (this.closing) {
        this.pruning = false;
        return;
      }
      this.storage.deliveries.prune(new Date()).then(
        (outcome) => {
          this.push(outcome.notices);
          if (outcome.blobsToDelete.length > 0) void this.blobs.deleteFiles(outcome.blobsToDelete);
          if (outcome.expired > 0) this.settings.log(`expired ${outcome.expired} undelivered message${outcome.expired === 1 ? '' : 's'}; their senders were told`);
          if (outcome.more) setImmediate(step);
          else {
            // Uploads abandoned for longer than the retention are not coming back.
            const cutoff = new Date(Date.now() - this.settings.retentionMs);
            void this.blobs.sweepPartials(cutoff).then(
              (removed) => {
                if (removed > 0) this.settings.log(`removed ${removed} abandoned partial upload${removed === 1 ? '' : 's'}`);
              },
              () => undefined,
            ).finally(() => (this.pruning = false));
          }
        },
        (err: unknown) => {
          this.pruning = false;
          this.settings.log(`prune failed to commit: ${errorMessage(err)}`);
        },
      );
    };
    step();
  }

  /** Pings ready sessions and drops any connection silent for three heartbeats. */
  private heartbeat(): void {
    const now = Date.now();
    const deadline = 3 * this.settings.heartbeatMs;
    for (const session of this.sessions) {
      if (now - session.lastFrameAt > deadline) {
        this.settings.log(`dropping ${session.remote}: silent for ${now - session.lastFrameAt}ms`);
        session.state = 'closed';
        session.socket.terminate();
        this.forget(session);
      } else if (session.state === 'ready') {
        session.send({ type: 'ping', t: now });
      }
    }
  }

  private async shutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const stop of this.unwatch.splice(0)) stop();
    // Stop accepting: no new connections, and no new frames are read into work.
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // Requests already read commit and answer before the sockets close: those still waiting
    // their turn on a connection are made first (frames read from now on are ignored).
    await Promise.all([...this.sessions].map((session) => session.settled()));
    await this.storage.idle();
    const closed = [...this.sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.socket.readyState === session.socket.CLOSED) return resolve();
          session.socket.once('close', () => resolve());
          session.state = 'closed';
          session.socket.close(RelayCloseCodes.GoingAway, 'relay shutting down');
        }),
    );
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([Promise.all(closed), grace]);
    for (const session of this.sessions) session.socket.terminate();
    this.wss.close();
    await Promise.race([httpClosed, grace]);
    await this.storage.close();
    this.settings.log(`stopped (${this.storage.summary()})`);
  }
}

/** A tenth of the shortest age that matters, between 100 ms and a minute. */
function pruneIntervalMs({ retentionMs, dedupeWindowMs }: { retentionMs: number; dedupeWindowMs: number }): number {
  return Math.min(60_000, Math.max(100, Math.floor(Math.min(retentionMs, dedupeWindowMs) / 10)));
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Answers an upgrade request with `status` and closes: the reason is both the body and a header the core reads. */
function refuseUpgrade(socket: Socket, status: 429 | 503, reason: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = `switchboard relay: ${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Retry-After: 5\r\n' +
      `${RELAY_REFUSAL_HEADER}: ${reason}\r\n` +
      `\r\n${body}`,
  );
}

const STATUS_TEXT = { 429: 'Too Many Requests', 503: 'Service Unavailable' } as const;
