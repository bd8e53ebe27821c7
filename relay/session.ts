/**
 * One core's connection: its handshake state, its liveness, the order of its requests and
 * verdicts, and the pump that streams its deliveries in sequence order with bounded buffering.
 */
import type WebSocket from 'ws';
import { RELAY_PROTOCOL_V1, RelayCloseCodes, type AgentResultFrame, type GroupListResultFrame, type GroupVerdictFrame, type KeysResultFrame, type RelayToCoreFrameV5, type SendFrameV3, type VerdictFrame } from '../protocol/relay';
import type { CommittedDelivery, DeliveryStorage } from './storage/types';

/** What a session answers a request with, in the order the requests arrived. */
export type Answer = VerdictFrame | GroupVerdictFrame | GroupListResultFrame | AgentResultFrame | KeysResultFrame;

export type SessionState = 'awaiting-hello' | 'authenticating' | 'ready' | 'closed';

/** Frames in flight (written to ws, not yet flushed to the kernel) before the pump waits. */
const SEND_WINDOW = 256;
const PAGE_SIZE = 128;
/** After a close frame, how long a connection may take to finish closing before it is cut. */
const CLOSE_GRACE_MS = 1000;

export interface SessionOptions {
  /** The connection's TCP (or TLS) socket under ws. */
  transport: { readonly remoteAddress?: string; readonly remotePort?: number; pause(): void };
  /** Called before each write: frames written in one turn leave together (see turn-writes.ts). */
  holdWrites?: () => void;
  /** Unflushed outgoing bytes beyond which the connection is dropped as a slow consumer. */
  maxPendingBytes?: number;
}

export interface SessionIdentity {
  user: string;
  device: string;
  credentialId: number;
}

export class RelaySession {
  state: SessionState = 'awaiting-hello';
  identity: SessionIdentity | undefined;
  /**
   * The protocol version agreed at hello. A v1 connection is streamed only the rows a v1 core
   * can parse (`min_version` 1) and its frames are read with the v1 schemas.
   */
  version: number = RELAY_PROTOCOL_V1;
  /** Key records this connection published (protocol v5): a few per connection, outside the send rate. */
  keysPublished = 0;
  /** Key lookups on this connection (v5): the first 64 are outside the send rate. */
  keysFetched = 0;
  /**
   * Set when a send was refused for rate: later sends on this connection are refused too
   * until that one comes back, so a refusal can never let a later message overtake it.
   */
  refusedForRate: { clientMessageId: string; until: number } | undefined;
  lastFrameAt = Date.now();
  /** Frames that arrived while the token was being checked; handled right after welcome. */
  readonly heldFrames: string[] = [];
  /** Bytes received before welcome (the upgrade's leftovers, hello and anything pipelined). */
  preloginBytes = 0;
  /** Set at accept: closes the connection if no hello arrives in time. */
  helloTimer: NodeJS.Timeout | undefined;
  /** Called once when this session is dropped for not reading what it is sent. */
  onSlowConsumer: (unflushedBytes: number) => void = () => {};
  /** Called after each frame ws flushed: the blob downloads pace themselves on it (blobs.ts). */
  onWritten: () => void = () => {};
  /** Called when the pump cannot read the storage: the connection is then closed (the core resumes from its cursor). */
  onPumpFailed: (error: unknown) => void = () => {};

  /** The next delivery seq this connection has not yet been sent. */
  private nextSeq = 1;
  private inFlight = 0;
  /** Bytes handed to ws and not yet flushed to the kernel: what a reader that stopped reading costs us. */
  private unflushedBytes = 0;
  /**
   * idle: a delivery that is next in line may be sent at once; scheduled: a pump will run;
   * running: a pump is reading a page (`again` makes it read once more before it stops);
   * waiting: the send window is full, the next flushed frame resumes the pump.
   */
  private pumpState: 'idle' | 'scheduled' | 'running' | 'waiting' = 'idle';
  private pumpAgain = false;
  /** The storage calls of this connection that must apply in the order their frames came (see `inOrder`). */
  private chain: Promise<void> = Promise.resolve();
  /** Sends waiting for their turn in `chain`: sends that arrive before it comes are stored together. */
  private openSends: PendingSend[] | undefined;
  private readonly verdictSlots: { verdict: Answer | undefined }[] = [];

  /** `address:port`, for logs. */
  readonly remote: string;
  /** The address the connection comes from, without the port: what per-address limits count. */
  readonly address: string;
  private readonly transport: SessionOptions['transport'];
  private readonly holdWrites: () => void;
  private readonly maxPendingBytes: number;

  constructor(
    readonly socket: WebSocket,
    private readonly deliveries: Pick<DeliveryStorage, 'deliveriesAfter'>,
    options: SessionOptions,
  ) {
    this.transport = options.transport;
    this.address = normalizeAddress(options.transport.remoteAddress);
    this.remote = `${this.address}:${options.transport.remotePort ?? '?'}`;
    this.holdWrites = options.holdWrites ?? (() => {});
    this.maxPendingBytes = options.maxPendingBytes ?? Number.POSITIVE_INFINITY;
  }

  get key(): string {
    return this.identity ? sessionKey(this.identity.user, this.identity.device) : '';
  }

  isOpen(): boolean {
    return this.state !== 'closed' && this.socket.readyState === this.socket.OPEN;
  }

  send(frame: RelayToCoreFrameV5): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Sends an error frame (if one is given) and closes with `code`; later frames are ignored. */
  fail(code: number, reason: string, error?: Extract<RelayToCoreFrameV5, { type: 'error' }>): void {
    if (this.state === 'closed') return;
    if (error && this.socket.readyState === this.socket.OPEN) this.send(error);
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    // Close reasons are capped at 123 bytes by the WebSocket protocol.
    this.socket.close(code, truncateReason(reason));
  }

  /**
   * `fail`, then cut the connection if its close does not complete within a short grace: for
   * a peer that may never answer the close (ws would otherwise wait 30 s for it). With
   * `stopReading`, nothing more is read from it meanwhile (it is flooding).
   */
  drop(code: number, reason: string, options: { error?: Extract<RelayToCoreFrameV5, { type: 'error' }>; stopReading?: boolean } = {}): void {
    if (this.state === 'closed') return;
    this.fail(code, reason, options.error);
    if (options.stopReading) this.transport.pause();
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /**
   * Runs `task` once every task queued before it on this connection has settled, so the
   * storage calls of one connection apply in the order their frames arrived (a group created,
   * then a send to it; keys published, then looked up), whatever the storage's latency. The
   * storage itself promises nothing about concurrent calls (relay/storage/types.ts).
   */
  inOrder<T>(task: () => Promise<T>): Promise<T> {
    // A later frame: sends after it form a new batch, behind it.
    this.openSends = undefined;
    const run = this.chain.then(task);
    this.chain = run.then(noop, noop);
    return run;
  }

  /** Resolves once every storage call queued on this connection so far has settled. */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * Queues a send in this connection's order. Sends that arrive while their batch waits for its
   * turn (one socket read, or everything behind a batch still being stored) are handed to
   * `store` together, so they are stored in one call and share its commit.
   */
  queueSend(send: PendingSend, store: (sends: PendingSend[]) => Promise<void>): void {
    let batch = this.openSends;
    if (!batch) {
      const mine: PendingSend[] = [];
      void this.inOrder(() => {
        if (this.openSends === mine) this.openSends = undefined;
        return store(mine);
      });
      batch = this.openSends = mine;
    }
    batch.push(send);
  }

  /** Starts streaming deliveries after `acked`, the device's committed cursor. */
  startDeliveries(acked: number): void {
    this.nextSeq = acked + 1;
    void this.pump();
  }

  /** A delivery for this user was committed; send it now if it is next in line. */
  notifyDelivery(seq: number, item: string, stored: Pick<CommittedDelivery, 'minVersion' | 'originDevice'> = {}): void {
    if (this.state !== 'ready' || seq < this.nextSeq) return;
    const idle = this.pumpState === 'idle';
    if (!this.sees(stored)) {
      // Not for this connection; when it is next in line, the line moves past it.
      if (seq === this.nextSeq && idle) this.nextSeq = seq + 1;
      return;
    }
    if (seq === this.nextSeq && idle && this.hasRoom(SEND_WINDOW)) {
      this.sendDelivery(seq, item);
      return;
    }
    this.schedulePump();
  }

  /** Keeps verdicts in the order their sends arrived, even when some resolve sooner. */
  reserveVerdict<T extends Answer = VerdictFrame>(): (verdict: T) => void {
    const slot: { verdict: Answer | undefined } = { verdict: undefined };
    this.verdictSlots.push(slot);
    return (verdict) => {
      slot.verdict = verdict;
      while (this.verdictSlots[0]?.verdict) {
        const ready = this.verdictSlots.shift();
        if (ready?.verdict && this.isOpen()) this.send(ready.verdict);
      }
    };
  }

  /** Whether a delivery stored so may be sent on this connection (DeliveryView, store.ts). */
  private sees(stored: Pick<CommittedDelivery, 'minVersion' | 'originDevice'>): boolean {
    return (stored.minVersion ?? RELAY_PROTOCOL_V1) <= this.version && (stored.originDevice === undefined || stored.originDevice !== this.identity?.device);
  }

  /**
   * A binary frame (a blob chunk, protocol v3). Counted like any frame, so the slow-consumer cap
   * sees it; the download pump keeps its own share of it small (blobs.ts), so a healthy
   * download never comes near the cap and deliveries never wait behind more than that share.
   */
  sendBinary(data: Uint8Array): void {
    this.write(data, data.byteLength);
  }

  /** Bytes handed to ws and not yet flushed to the kernel. */
  get pendingBytes(): number {
    return this.unflushedBytes;
  }

  private sendText(text: string): void {
    this.write(text, Buffer.byteLength(text, 'utf8'));
  }

  private write(data: string | Uint8Array, bytes: number): void {
    if (!this.isOpen()) return;
    this.inFlight++;
    this.unflushedBytes += bytes;
    this.holdWrites();
    this.socket.send(data, { binary: typeof data !== 'string' }, () => {
      this.inFlight--;
      this.unflushedBytes -= bytes;
      if (this.pumpState === 'waiting' && this.hasRoom(SEND_WINDOW / 2)) void this.pump();
      this.onWritten();
    });
    if (this.unflushedBytes > this.maxPendingBytes) {
      const unflushed = this.unflushedBytes;
      this.drop(RelayCloseCodes.Policy, `slow consumer: ${unflushed} bytes unsent (limit ${this.maxPendingBytes})`, { stopReading: true });
      this.onSlowConsumer(unflushed);
    }
  }

  /**
   * Whether the pump may send more: deliveries wait in the store, not in memory, so the pump
   * keeps well under the slow-consumer cap and only frames the peer asked for (verdicts,
   * pongs) can push a connection that stopped reading over it.
   */
  private hasRoom(frames: number): boolean {
    return this.inFlight < frames && this.unflushedBytes < this.maxPendingBytes / 2;
  }

  private sendDelivery(seq: number, item: string): void {
    // The stored item is already JSON: splice it in rather than parse and re-encode it.
    this.sendText(`{"type":"deliver","seq":${seq},"item":${item}}`);
    this.nextSeq = seq + 1;
  }

  private schedulePump(): void {
    if (this.pumpState === 'running') {
      this.pumpAgain = true;
      return;
    }
    if (this.pumpState !== 'idle') return;
    this.pumpState = 'scheduled';
    setImmediate(() => void this.pump());
  }

  /**
   * Reads deliveries from the storage in pages while the socket keeps up. While a page is
   * being read, nothing is sent around it: a delivery committed meanwhile sets `pumpAgain`,
   * and the pump reads once more before it stops, so none is skipped or sent twice.
   */
  private async pump(): Promise<void> {
    if (this.pumpState === 'running') {
      this.pumpAgain = true;
      return;
    }
    this.pumpState = 'running';
    try {
      do {
        this.pumpAgain = false;
        if (!(await this.pumpPages())) {
          // The window is full: the next send callback resumes the pump.
          this.pumpState = 'waiting';
          return;
        }
      } while (this.pumpAgain && this.state === 'ready');
      this.pumpState = 'idle';
    } catch (error) {
      this.pumpState = 'idle';
      this.onPumpFailed(error);
    }
  }

  /** Sends pages until the backlog is out (true) or the window is full (false). */
  private async pumpPages(): Promise<boolean> {
    const identity = this.identity;
    if (this.state !== 'ready' || !identity) return true;
    const view = { version: this.version, device: identity.device };
    while (this.hasRoom(SEND_WINDOW) && this.isOpen()) {
      const page = await this.deliveries.deliveriesAfter(identity.user, this.nextSeq - 1, PAGE_SIZE, view);
      for (const row of page) {
        // Large items fill the byte window long before the frame window: stop mid-page.
        if (!this.hasRoom(SEND_WINDOW) || !this.isOpen()) break;
        if (row.seq >= this.nextSeq) this.sendDelivery(row.seq, row.item);
      }
      if (page.length < PAGE_SIZE && this.nextSeq > (page.at(-1)?.seq ?? 0)) return true;
    }
    return !this.isOpen();
  }
}

/** A send that passed the rate checks, waiting to be stored, and how to answer it. */
export interface PendingSend {
  message: SendFrameV3['message'];
  answer: (verdict: VerdictFrame) => void;
}

function noop(): void {}

export function sessionKey(user: string, device: string): string {
  return `${user}\u0000${device}`;
}

/** The peer's address without the port; IPv4 peers of a dual-stack socket count as IPv4. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '?';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function truncateReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text, 'utf8') > 123) text = text.slice(0, -1);
  return text;
}
