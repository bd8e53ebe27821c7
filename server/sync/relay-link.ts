/**
 * One connection from a core to its relay, typed end to end. It performs the handshake,
 * validates every inbound frame, keeps the link alive with pings and declares it dead after
 * three silent heartbeats. It never reconnects: the sync engine owns backoff (see backoff.ts)
 * and calls `connect` again.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  RELAY_MAX_FRAME_BYTES,
  RELAY_PROTOCOL_VERSION,
  RELAY_REFUSAL_HEADER,
  RelayCloseCodes,
  type CoreToRelayFrame,
  type DeliverFrame,
  type ErrorFrame,
  type PongFrame,
  type SendFrame,
  type VerdictFrame,
  type WelcomeFrame,
} from '../../protocol/relay';
import { parseRelayFrame } from '../../protocol/relay-schemas';
import { writesPerTurn } from '../net/turn-writes';

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
}

export interface RelayLinkClose {
  code: number;
  reason: string;
  /** The relay refused the credentials: do not reconnect until the user reconfigures. */
  unauthorized: boolean;
}

export type RelayLinkConnectResult = { ok: true; welcome: WelcomeFrame } | { ok: false; close: RelayLinkClose };

export type RelayLinkState = 'idle' | 'connecting' | 'open' | 'closed';

export interface RelayLinkEvents {
  welcome: [frame: WelcomeFrame];
  verdict: [frame: VerdictFrame];
  deliver: [frame: DeliverFrame];
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
  /** Called before each write: frames written in one turn leave together (see turn-writes.ts). */
  private holdWrites: () => void = () => {};

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
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const result = new Promise<RelayLinkConnectResult>((resolve) => (this.settleConnect = resolve));

    const socket = new WebSocket(options.url, {
      maxPayload: RELAY_MAX_FRAME_BYTES,
      handshakeTimeout: handshakeTimeoutMs,
      ca: options.ca,
      perMessageDeflate: false,
    });
    this.socket = socket;
    this.lastFrameAt = Date.now();
    this.deadline = handshakeTimeoutMs;
    this.startWatchdog(Math.min(1000, Math.max(10, handshakeTimeoutMs / 4)));

    socket.on('upgrade', (response) => (this.holdWrites = writesPerTurn(response.socket)));
    // The relay refuses over-limit connections at the upgrade with a status and its reason.
    socket.on('unexpected-response', (_request, response) => {
      const why = response.headers[RELAY_REFUSAL_HEADER];
      const reason = `relay refused the connection (HTTP ${response.statusCode})${typeof why === 'string' ? `: ${why}` : ''}`;
      this.localClose ??= { code: ABNORMAL_CLOSURE, reason, unauthorized: false };
      this.report(new RelayLinkError(reason));
      socket.terminate();
    });
    socket.on('open', () => {
      this.lastFrameAt = Date.now();
      this.write({ type: 'hello', v: RELAY_PROTOCOL_VERSION, user: options.user, token: options.token, device: options.device, cursor: options.cursor });
    });
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('error', (err) => this.report(new RelayLinkError(`relay connection error: ${err.message}`)));
    socket.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
    return result;
  }

  /** Queues a send on the open link; false when the link is not open (the caller keeps it queued). */
  send(message: SendFrame['message']): boolean {
    return this.currentState === 'open' && this.write({ type: 'send', message });
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

  private write(frame: CoreToRelayFrame): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.holdWrites();
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.currentState === 'closed') return;
    this.lastFrameAt = Date.now();
    if (isBinary) return this.abort(RelayCloseCodes.Protocol, 'binary frame from relay');
    const parsed = parseRelayFrame(rawToString(data));
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
      case 'ping':
        // Receiving it already refreshed our liveness clock; the relay learns we are alive
        // from the pings this link sends on its own schedule.
        return;
      case 'pong':
        return void this.emit('pong', frame);
      case 'error':
        if (frame.code === 'unauthorized') this.sawUnauthorized = true;
        return this.report(new RelayLinkError(`relay error (${frame.code}): ${frame.message}`, frame.code));
    }
  }

  private onWelcome(frame: WelcomeFrame): void {
    if (this.currentState !== 'connecting') return this.abort(RelayCloseCodes.Protocol, 'second welcome from relay');
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
      const what = this.currentState === 'connecting' ? 'no welcome from relay' : 'heartbeat timeout: relay silent';
      this.localClose ??= { code: ABNORMAL_CLOSURE, reason: `${what} for ${silentMs}ms`, unauthorized: false };
      this.socket?.terminate();
    }, everyMs);
    watchdog.unref();
    this.timers.push(watchdog);
  }

  /** This side refuses the relay's frames: close with a protocol code and say why. */
  private abort(code: number, reason: string): void {
    this.report(new RelayLinkError(reason));
    this.localClose ??= { code, reason, unauthorized: false };
    this.socket?.close(code, reason.slice(0, 120));
    this.currentState = 'closed';
  }

  private onClose(code: number, reason: string): void {
    this.stopTimers();
    this.currentState = 'closed';
    this.socket = undefined;
    const info = this.localClose ?? { code, reason, unauthorized: false };
    const unauthorized = info.code === RelayCloseCodes.Unauthorized || this.sawUnauthorized;
    const final: RelayLinkClose = { ...info, unauthorized };
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

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
