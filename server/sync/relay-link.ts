/**
 * One connection from a core to its relay, typed end to end. It performs the handshake,
 * validates every inbound frame, keeps the link alive with pings and declares it dead after
 * three silent heartbeats. It never reconnects: the sync engine owns backoff (see backoff.ts)
 * and calls `connect` again.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  MAX_READ_IDS,
  RELAY_MAX_FRAME_BYTES,
  RELAY_PROTOCOL_V1,
  RELAY_PROTOCOL_V2,
  RELAY_PROTOCOL_V3,
  RELAY_PROTOCOL_V4,
  RELAY_PROTOCOL_V5,
  RELAY_PROTOCOL_V6,
  RELAY_REFUSAL_HEADER,
  RelayCloseCodes,
  type CoreToRelayFrameV2,
  type DeliverFrameV2,
  type ErrorFrame,
  type GroupFrame,
  type GroupListResultFrame,
  type GroupVerdictFrame,
  type PongFrame,
  type SendFrameV2,
  type VerdictFrame,
  type WelcomeFrame,
  type WelcomeFrameV3,
  type BlobStatusFrame,
  type BlobRefusedFrame,
  type CoreToRelayFrameV3,
  type DeliverFrameV3,
  type SendFrameV3,
  type AgentFrame,
  type AgentResultFrame,
  type DeliverFrameV4,
  type KeysFrame,
  type KeysResultFrame,
} from '../../protocol/relay';
import { parseRelayFrame, parseRelayFrameV2, parseRelayFrameV3, parseRelayFrameV4, parseRelayFrameV5 } from '../../protocol/relay-schemas';
import { BlobChunkKind, decodeBlobChunk, type BlobChunk } from '../../protocol/files';
import { writesPerTurn } from '../../lib/node/turn-writes';
import { errorMessage } from '../../lib/error-message';

export interface RelayLinkConnectOptions {
  /** ws:// or wss:// */
  url: string;
  user: string;
  token: string;
  device: string;
  /** Highest delivery seq this device has committed (0 for none). */
  cursor: number;
  /** Extra trusted CA certificate(s) in PEM, for a relay with a private certificate. */
  ca?: string | Buffer;
  /** How long to wait for the upgrade and the welcome together. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** The protocol to say hello with: 4 (default; agents), 3 (files; a relay that refused 4), 2 (groups) or 1. */
  version?: number;
}

export interface RelayLinkClose {
  code: number;
  reason: string;
  /** The relay refused the credentials: do not reconnect until the user reconfigures. */
  unauthorized: boolean;
  /**
   * Set when the attempt never reached the relay's welcome for a reason other than the token,
   * so a person can be told what to fix (see `connectFailure`); absent on a link that was open.
   */
  failure?: RelayLinkFailure;
  /**
   * The relay refused the hello's protocol version before its welcome (a v1-only relay answers
   * a v2 hello with `error {protocol, "unsupported relay protocol version 2; …"}` and 4002):
   * the engine says hello again with v1.
   */
  versionRefused?: boolean;
}

/**
 * Why a connection attempt failed before the welcome: `unreachable` (nothing answered at the
 * host and port), `timeout` (no answer or no welcome in time), `tls` (the TLS handshake failed),
 * `not_relay` (something answered, but not a Switchboard relay), `refused` (a relay refused the
 * connection at the upgrade, e.g. too many connections), `bad_url` (the URL cannot be dialled).
 * The words are the `SyncProblem` codes of the same causes (problem.ts); `config/set`'s
 * `check.outcome` says `url` for `bad_url` (its wire word, relay-probe.ts `checkOutcome`).
 */
export type RelayLinkFailure = 'unreachable' | 'timeout' | 'tls' | 'not_relay' | 'refused' | 'bad_url';

export type RelayLinkConnectResult = { ok: true; welcome: WelcomeFrameV3 } | { ok: false; close: RelayLinkClose };

export type RelayLinkState = 'idle' | 'connecting' | 'open' | 'closed';

export interface RelayLinkEvents {
  welcome: [frame: WelcomeFrameV3];
  verdict: [frame: VerdictFrame];
  deliver: [frame: DeliverFrameV4];
  /** v4: the answer to an agent request. */
  agent_result: [frame: AgentResultFrame];
  /** v5: the answer to a key-directory request. */
  keys_result: [frame: KeysResultFrame];
  /** v3: an upload's or a download's standing. */
  blob_status: [frame: BlobStatusFrame];
  blob_refused: [frame: BlobRefusedFrame];
  /** v3: bytes of a blob asked for with `blobGet` (a `Data` chunk). */
  blob_data: [chunk: BlobChunk];
  group_verdict: [frame: GroupVerdictFrame];
  group_list_result: [frame: GroupListResultFrame];
  pong: [frame: PongFrame];
  /** Exactly once per `connect`, however the link ended (including a failed handshake). */
  close: [info: RelayLinkClose];
  /** Error frames from the relay and transport errors; informational, `close` follows. */
  error: [error: RelayLinkError];
}

export class RelayLinkError extends Error {
  constructor(
    message: string,
    /** The relay's error code when the relay sent an error frame. */
    readonly relayCode?: ErrorFrame['code'],
  ) {
    super(message);
    this.name = 'RelayLinkError';
  }
}

/** A close code no peer sends, used when the link declares the relay dead itself. */
const ABNORMAL_CLOSURE = 1006;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export class RelayLink extends EventEmitter<RelayLinkEvents> {
  private socket: WebSocket | undefined;
  private currentState: RelayLinkState = 'idle';
  private heartbeatMs = 0;
  private lastFrameAt = 0;
  private deadline = 0;
  private timers: NodeJS.Timeout[] = [];
  /** Set when this side decides why the link ends; reported instead of the echo from ws. */
  private localClose: RelayLinkClose | undefined;
  private sawUnauthorized = false;
  private settleConnect: ((result: RelayLinkConnectResult) => void) | undefined;
  /** The URL of the current attempt, for messages. */
  private url = '';
  /** The current attempt got past the HTTP upgrade: a WebSocket server answered. */
  private upgraded = false;
  /** Called before each write: frames written in one turn leave together (see turn-writes.ts). */
  private holdWrites: () => void = () => {};
  /** The version said in hello; the welcome's `v` confirms it. */
  private helloVersion = RELAY_PROTOCOL_V6;
  private sawVersionRefusal = false;
  private welcomeMaxFileBytes: number | undefined;

  /** The protocol this link speaks (its welcome's), or the one it asked for until then. */
  get version(): number {
    return this.helloVersion;
  }

  /** The largest file the relay takes: its v3 welcome's `max_file_bytes`; undefined when it takes none (v1, v2). */
  get maxFileBytes(): number | undefined {
    return this.helloVersion >= RELAY_PROTOCOL_V3 ? this.welcomeMaxFileBytes : undefined;
  }

  /** Bytes written to the socket and not yet handed to the kernel: what an upload waits on. */
  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  get state(): RelayLinkState {
    return this.currentState;
  }

  /** The relay's welcome, or how the attempt ended. Never rejects. */
  connect(options: RelayLinkConnectOptions): Promise<RelayLinkConnectResult> {
    if (this.currentState === 'connecting' || this.currentState === 'open') {
      throw new Error('RelayLink is already connected; close it first');
    }
    this.currentState = 'connecting';
    this.localClose = undefined;
    this.sawUnauthorized = false;
    this.sawVersionRefusal = false;
    this.welcomeMaxFileBytes = undefined;
    this.helloVersion = options.version ?? RELAY_PROTOCOL_V6;
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const result = new Promise<RelayLinkConnectResult>((resolve) => (this.settleConnect = resolve));

    let socket: WebSocket;
    try {
      socket = new WebSocket(options.url, {
        maxPayload: RELAY_MAX_FRAME_BYTES,
        handshakeTimeout: handshakeTimeoutMs,
        ca: options.ca,
        perMessageDeflate: false,
      });
    } catch (error) {
      // The client throws at once on a URL it cannot dial; that ends this attempt, never the process.
      const reason = `cannot dial ${options.url}: ${errorMessage(error)}`;
      setImmediate(() => this.onClose(ABNORMAL_CLOSURE, '', { code: ABNORMAL_CLOSURE, reason, unauthorized: false, failure: 'bad_url' }));
      return result;
    }
    this.socket = socket;
    this.url = options.url;
    this.upgraded = false;
    this.lastFrameAt = Date.now();
    this.deadline = handshakeTimeoutMs;
    this.startWatchdog(Math.min(1000, Math.max(10, handshakeTimeoutMs / 4)));

    socket.on('upgrade', (response) => {
      this.upgraded = true;
      this.holdWrites = writesPerTurn(response.socket);
    });
    // The relay refuses over-limit connections at the upgrade with a status and its reason.
    socket.on('unexpected-response', (_request, response) => {
      const why = response.headers[RELAY_REFUSAL_HEADER];
      // Only a Switchboard relay names its refusal; anything else answering HTTP is not one.
      const reason =
        typeof why === 'string'
          ? `relay refused the connection (HTTP ${response.statusCode}): ${why}`
          : `${options.url} is not a Switchboard relay: it answered HTTP ${response.statusCode}${response.statusMessage ? ` ${response.statusMessage}` : ''} instead of accepting a WebSocket`;
      this.localClose ??= { code: ABNORMAL_CLOSURE, reason, unauthorized: false, failure: typeof why === 'string' ? 'refused' : 'not_relay' };
      this.report(new RelayLinkError(reason));
      socket.terminate();
    });
    socket.on('open', () => {
      this.lastFrameAt = Date.now();
      this.write({ type: 'hello', v: this.helloVersion, user: options.user, token: options.token, device: options.device, cursor: options.cursor });
    });
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('error', (err) => {
      if (this.currentState === 'connecting') this.localClose ??= connectFailure(options.url, err);
      this.report(new RelayLinkError(`relay connection error: ${err.message}`));
    });
    socket.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
    return result;
  }

  /** Queues a send on the open link; false when the link is not open (the caller keeps it queued). */
  send(message: SendFrameV3['message']): boolean {
    // A v1 or v2 relay would refuse a frame naming files: the engine never sends it one.
    if (message.attachments !== undefined && this.helloVersion < RELAY_PROTOCOL_V3) return false;
    return this.currentState === 'open' && this.write({ type: 'send', message } as SendFrameV2);
  }

  /** A v2 link or later: these inbound messages were read (at most MAX_READ_IDS server ids). */
  read(serverIds: string[]): boolean {
    if (serverIds.length === 0 || serverIds.length > MAX_READ_IDS) throw new Error(`a read frame names 1 to ${MAX_READ_IDS} server ids, not ${serverIds.length}`);
    return this.currentState === 'open' && this.helloVersion >= RELAY_PROTOCOL_V2 && this.write({ type: 'read', server_ids: serverIds });
  }

  /** A v2 link or later: a group request; its `group_verdict` comes with the same request_id. */
  group(frame: GroupFrame): boolean {
    return this.currentState === 'open' && this.helloVersion >= RELAY_PROTOCOL_V2 && this.write(frame);
  }

  /** A v2 link or later: asks for the user's groups (`group_list_result`). */
  groupList(requestId: string): boolean {
    return this.currentState === 'open' && this.helloVersion >= RELAY_PROTOCOL_V2 && this.write({ type: 'group_list', request_id: requestId });
  }

  /** A v4 link only: an agent request; its `agent_result` comes with the same request_id. */
  agent(frame: AgentFrame): boolean {
    return this.currentState === 'open' && this.helloVersion >= RELAY_PROTOCOL_V4 && this.write(frame);
  }

  /** A v5 link only: a key-directory request; its `keys_result` comes with the same request_id. */
  keys(frame: KeysFrame): boolean {
    return this.currentState === 'open' && this.helloVersion >= RELAY_PROTOCOL_V5 && this.write(frame);
  }

  /** A v3 link only: a blob frame (begin, get, done, cancel). */
  blob(frame: Extract<CoreToRelayFrameV3, { type: 'blob_begin' | 'blob_get' | 'blob_done' | 'blob_cancel' }>): boolean {
    return this.currentState === 'open' && this.helloVersion >= RELAY_PROTOCOL_V3 && this.write(frame);
  }

  /** A v3 link only: one encoded `Put` chunk (protocol/files.ts), in a binary frame. */
  putChunk(frame: Uint8Array): boolean {
    if (this.currentState !== 'open' || this.helloVersion < RELAY_PROTOCOL_V3 || !this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.holdWrites();
    this.socket.send(frame, { binary: true });
    return true;
  }

  /** Stops reading from the relay (a download's writes fell behind), until `resume`. */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  /** Cumulative: every delivery with seq <= `seq` is committed by this core. */
  ack(seq: number): boolean {
    return this.currentState === 'open' && this.write({ type: 'ack', seq });
  }

  close(code = 1000, reason = 'closing'): void {
    if (!this.socket || this.currentState === 'closed' || this.currentState === 'idle') return;
    this.localClose ??= { code, reason, unauthorized: false };
    this.socket.close(code, reason);
  }

  private write(frame: CoreToRelayFrameV2 | CoreToRelayFrameV3 | AgentFrame | KeysFrame): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.holdWrites();
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.currentState === 'closed') return;
    this.lastFrameAt = Date.now();
    if (isBinary) return this.onBinary(data);
    // A v1 link parses with the v1 schemas: a v2 item on it would be the relay's bug, refused.
    const text = rawToString(data);
    const parsed =
      this.helloVersion === RELAY_PROTOCOL_V1
        ? parseRelayFrame(text)
        : this.helloVersion === RELAY_PROTOCOL_V2
          ? parseRelayFrameV2(text)
          : this.helloVersion === RELAY_PROTOCOL_V3
            ? parseRelayFrameV3(text)
            : this.helloVersion === RELAY_PROTOCOL_V4
              ? parseRelayFrameV4(text)
              : parseRelayFrameV5(text);
    if (!parsed.ok) return this.abort(RelayCloseCodes.Protocol, `invalid frame from relay: ${parsed.error}`);
    const frame = parsed.frame;
    if (this.currentState === 'connecting' && frame.type !== 'welcome' && frame.type !== 'error') {
      return this.abort(RelayCloseCodes.Protocol, `expected welcome, got ${frame.type}`);
    }
    switch (frame.type) {
      case 'welcome':
        return this.onWelcome(frame);
      case 'verdict':
        return void this.emit('verdict', frame);
      case 'deliver':
        return void this.emit('deliver', frame);
      case 'group_verdict':
        return void this.emit('group_verdict', frame);
      case 'group_list_result':
        return void this.emit('group_list_result', frame);
      case 'blob_status':
        return void this.emit('blob_status', frame);
      case 'blob_refused':
        return void this.emit('blob_refused', frame);
      case 'agent_result':
        return void this.emit('agent_result', frame);
      case 'keys_result':
        return void this.emit('keys_result', frame);
      case 'ping':
        // Receiving it already refreshed our liveness clock; the relay learns we are alive
        // from the pings this link sends on its own schedule.
        return;
      case 'pong':
        return void this.emit('pong', frame);
      case 'error':
        if (frame.code === 'unauthorized') this.sawUnauthorized = true;
        // A relay from before v2 says exactly this to a hello it cannot speak (relay/server.ts at be8c981).
        if (frame.code === 'protocol' && this.currentState === 'connecting' && /unsupported relay protocol version/.test(frame.message)) this.sawVersionRefusal = true;
        return this.report(new RelayLinkError(`relay error (${frame.code}): ${frame.message}`, frame.code));
    }
  }

  /** v3 only, after welcome: a `Data` chunk of a download. */
  private onBinary(data: WebSocket.RawData): void {
    if (this.currentState !== 'open' || this.helloVersion < RELAY_PROTOCOL_V3) return this.abort(RelayCloseCodes.Protocol, 'binary frame from relay');
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const chunk = decodeBlobChunk(bytes);
    if (typeof chunk === 'string') return this.abort(RelayCloseCodes.Protocol, `invalid binary frame from relay: ${chunk}`);
    if (chunk.kind !== BlobChunkKind.Data) return this.abort(RelayCloseCodes.Protocol, 'a Put chunk from the relay');
    this.emit('blob_data', chunk);
  }

  private onWelcome(frame: WelcomeFrameV3): void {
    if (this.currentState !== 'connecting') return this.abort(RelayCloseCodes.Protocol, 'second welcome from relay');
    // The welcome's version is the one the link speaks: the hello's, or an older one a relay chose.
    if (frame.v !== RELAY_PROTOCOL_V1 && frame.v !== RELAY_PROTOCOL_V2 && frame.v !== RELAY_PROTOCOL_V3 && frame.v !== RELAY_PROTOCOL_V4 && frame.v !== RELAY_PROTOCOL_V5 && frame.v !== RELAY_PROTOCOL_V6) return this.abort(RelayCloseCodes.Protocol, `the relay answered hello v${this.helloVersion} with welcome v${frame.v}, which this core does not speak`);
    if (frame.v > this.helloVersion) return this.abort(RelayCloseCodes.Protocol, `the relay answered hello v${this.helloVersion} with welcome v${frame.v}`);
    this.helloVersion = frame.v;
    this.welcomeMaxFileBytes = frame.max_file_bytes;
    this.currentState = 'open';
    this.heartbeatMs = frame.heartbeat_ms;
    this.deadline = 3 * frame.heartbeat_ms;
    this.stopTimers();
    this.startWatchdog(Math.max(10, Math.floor(frame.heartbeat_ms / 2)));
    const pinger = setInterval(() => this.write({ type: 'ping', t: Date.now() }), this.heartbeatMs);
    pinger.unref();
    this.timers.push(pinger);
    this.settleConnect?.({ ok: true, welcome: frame });
    this.settleConnect = undefined;
    this.emit('welcome', frame);
  }

  /** Declares the link dead when nothing has arrived within the deadline. */
  private startWatchdog(everyMs: number): void {
    const watchdog = setInterval(() => {
      const silentMs = Date.now() - this.lastFrameAt;
      if (silentMs <= this.deadline) return;
      if (this.currentState === 'connecting') {
        // Upgraded but silent: something speaks WebSocket there, or a relay too busy to answer.
        const reason = this.upgraded
          ? `no welcome from relay for ${silentMs}ms at ${this.url} (not a Switchboard relay, or one too busy to answer)`
          : `relay unreachable at ${this.url}: no answer within ${silentMs}ms`;
        this.localClose ??= { code: ABNORMAL_CLOSURE, reason, unauthorized: false, failure: 'timeout' };
      } else this.localClose ??= { code: ABNORMAL_CLOSURE, reason: `heartbeat timeout: relay silent for ${silentMs}ms`, unauthorized: false };
      this.socket?.terminate();
    }, everyMs);
    watchdog.unref();
    this.timers.push(watchdog);
  }

  /** This side refuses the relay's frames: close with a protocol code and say why. */
  private abort(code: number, reason: string): void {
    this.report(new RelayLinkError(reason));
    // Frames we cannot read before any welcome: whatever answered is not a Switchboard relay.
    this.localClose ??=
      this.currentState === 'connecting' ? { code, reason: `${this.url} is not a Switchboard relay: ${reason}`, unauthorized: false, failure: 'not_relay' } : { code, reason, unauthorized: false };
    this.socket?.close(code, reason.slice(0, 120));
    this.currentState = 'closed';
  }

  private onClose(code: number, reason: string, local = this.localClose): void {
    const wasConnecting = this.currentState === 'connecting';
    this.stopTimers();
    this.currentState = 'closed';
    this.socket = undefined;
    const info = local ?? { code, reason, unauthorized: false };
    const unauthorized = info.code === RelayCloseCodes.Unauthorized || this.sawUnauthorized;
    // Closed by the far side before its welcome (a relay busy or going away does): say so.
    const early = wasConnecting && !unauthorized && local === undefined;
    const base: RelayLinkClose = early
      ? { ...info, unauthorized, reason: `the relay at ${this.url} closed the connection before its welcome (code ${info.code}${info.reason ? `: ${info.reason}` : ''})`, failure: 'refused' }
      : { ...info, unauthorized };
    const final: RelayLinkClose = this.sawVersionRefusal && wasConnecting ? { ...base, versionRefused: true } : base;
    this.settleConnect?.({ ok: false, close: final });
    this.settleConnect = undefined;
    this.emit('close', final);
  }

  private report(error: RelayLinkError): void {
    // An EventEmitter throws on 'error' without listeners; errors here are informational.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}

/** Node's and OpenSSL's codes for a failed TLS handshake or an untrusted certificate. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$|HOSTNAME_MISMATCH)/;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ETIMEDOUT', 'ECONNRESET', 'EADDRNOTAVAIL']);

/** A transport error before the welcome, said so a person knows what to check. */
export function connectFailure(url: string, err: Error & { code?: string }): RelayLinkClose {
  const code = typeof err.code === 'string' ? err.code : '';
  const base = { code: ABNORMAL_CLOSURE, unauthorized: false };
  if (TLS_CODE.test(code) || /certificate|SSL routines|TLS/i.test(err.message)) {
    const why = /wrong version number|packet length too long|http request/i.test(err.message)
      ? 'the server there does not speak TLS (a relay started without --cert is reached with ws://)'
      : `${err.message.split('\n')[0]} (for a relay with a private certificate, see docs/operations.md, TLS)`;
    return { ...base, failure: 'tls', reason: `TLS error talking to ${url}: ${why}` };
  }
  if (code === 'ECONNREFUSED') return { ...base, failure: 'unreachable', reason: `relay unreachable at ${url}: connection refused (is the relay running, on that port?)` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { ...base, failure: 'unreachable', reason: `relay unreachable at ${url}: its host name does not resolve (${code})` };
  if (UNREACHABLE_CODES.has(code)) return { ...base, failure: 'unreachable', reason: `relay unreachable at ${url}: ${err.message}` };
  if (/handshake has timed out/i.test(err.message)) return { ...base, failure: 'timeout', reason: `relay unreachable at ${url}: no answer in time` };
  // Anything else answered with bytes that are not HTTP or not a WebSocket upgrade.
  return { ...base, failure: 'not_relay', reason: `${url} is not a Switchboard relay: ${err.message}` };
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
