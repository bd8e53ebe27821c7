/**
 * The lightest client a fan-out bench can have over a real socket: hello v2, then an ack of the
 * highest seq received, at most one per event-loop turn (cumulative, as a core acks once a batch
 * is committed), and a ping whenever the server pings, so an idle link is not dropped. Nothing
 * else. The sender uses the same client to create the group and post messages; it acks its
 * receipts like any delivery.
 */
import WebSocket from 'ws';
import { RELAY_PROTOCOL_V2, type GroupVerdictFrame, type VerdictFrame } from '../protocol/relay';

const CONNECT_TIMEOUT_MS = 30_000;

/** What the client reads of a frame: the relay's and the forwarder's frames both have this shape. */
interface IncomingFrame {
  type: string;
  seq?: number;
  t?: number;
  message?: string;
  item?: { kind: string; message?: { client_message_id: string } };
}

export interface ClientHandlers {
  /** A message was delivered (`client_message_id` of the sender's send). */
  onMessage?: (clientMessageId: string) => void;
  onReceipt?: () => void;
  onVerdict?: (verdict: VerdictFrame) => void;
  onGroupVerdict?: (verdict: GroupVerdictFrame) => void;
}

export class FanoutClient {
  /** Membership events received (the group's `created`): the member knows its room. */
  groupEvents = 0;
  messages = 0;
  receipts = 0;
  /** Anything wrong the relay said (error frames, an unexpected close). */
  readonly problems: string[] = [];
  handlers: ClientHandlers = {};
  private highest = 0;
  private acked = 0;
  private ackScheduled = false;
  private closing = false;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as IncomingFrame));
    socket.on('close', (code, reason) => {
      if (!this.closing) this.problems.push(`closed ${code} ${reason.toString()}`);
    });
    socket.on('error', (error) => this.problems.push(`socket error: ${error.message}`));
  }

  /** Opens, says hello (v2) and resolves at welcome; rejects on anything else or after 30 s. */
  static connect(url: string, user: string, token: string, device: string): Promise<FanoutClient> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`${user}: no welcome within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      const fail = (why: string) => {
        clearTimeout(timer);
        socket.terminate();
        reject(new Error(`${user}: ${why}`));
      };
      socket.once('error', (error) => fail(error.message));
      socket.once('unexpected-response', (_request, response) => fail(`upgrade refused: HTTP ${response.statusCode} ${String(response.headers['x-switchboard-refusal'] ?? '')}`));
      socket.once('open', () => socket.send(JSON.stringify({ type: 'hello', v: RELAY_PROTOCOL_V2, user, token, device, cursor: 0 })));
      socket.once('message', (data) => {
        const frame = JSON.parse(data.toString()) as IncomingFrame;
        if (frame.type !== 'welcome') return fail(`expected welcome, got ${data.toString().slice(0, 200)}`);
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new FanoutClient(socket));
      });
    });
  }

  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  close(): void {
    this.closing = true;
    this.socket.terminate();
  }

  private onFrame(frame: IncomingFrame): void {
    switch (frame.type) {
      case 'deliver': {
        if (frame.seq! > this.highest) this.highest = frame.seq!;
        this.scheduleAck();
        const kind = frame.item?.kind;
        if (kind === 'message') {
          this.messages++;
          this.handlers.onMessage?.(frame.item!.message!.client_message_id);
        } else if (kind === 'group') this.groupEvents++;
        else if (kind === 'receipt') {
          this.receipts++;
          this.handlers.onReceipt?.();
        }
        return;
      }
      case 'verdict':
        return this.handlers.onVerdict?.(frame as unknown as VerdictFrame);
      case 'group_verdict':
        return this.handlers.onGroupVerdict?.(frame as unknown as GroupVerdictFrame);
      case 'ping':
        // The server counts any frame as a sign of life; a ping is the smallest a core may send.
        return this.send({ type: 'ping', t: frame.t ?? 0 });
      case 'error':
        this.problems.push(`error frame: ${frame.message ?? ''}`);
        return;
    }
  }

  /** One cumulative ack per turn: every frame read from one chunk is acked together. */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (this.highest <= this.acked || this.socket.readyState !== WebSocket.OPEN) return;
      this.acked = this.highest;
      this.send({ type: 'ack', seq: this.highest });
    });
  }
}
