/**
 * Content-Length framing for vscode-jsonrpc over a socket, built for many pipelined requests.
 *
 * vscode-jsonrpc's stream reader and writer are general (any charset, any content type) and
 * pay for it: the writer awaits each write's callback under a semaphore and issues header and
 * body as separate writes, so pipelined responses leave one at a time. Here a response is
 * one buffer, and everything written in a turn of the event loop goes out in one syscall.
 * The reader parses frames straight from the socket's chunks with the decoder the CLI's client
 * uses too (frame-codec.ts), which enforces the frame-size cap before buffering a body; it answers malformed JSON itself so one bad frame costs the
 * client one error, not the connection.
 */
import type { Socket } from 'node:net';
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  type DataCallback,
  type Disposable,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { ErrorCodes, MAX_FRAME_BYTES } from '../../protocol/rpc';
import { FrameDecoder, FrameError, encodeFrame, parseBody } from './frame-codec';

/** A client that lets this much of our output pile up unread is dropped. */
const MAX_UNREAD_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface FramingLimits {
  maxFrameBytes: number;
}

/**
 * What one connection's reader has taken in and its writer has answered. vscode-jsonrpc
 * handles one queued message per turn of the event loop, so a client with several requests
 * in flight is answered over several turns; the writer holds its output while requests it
 * has not answered yet are still being worked through, and sends them in one write.
 */
export class RequestFlow {
  received = 0;
  answered = 0;
  get unanswered(): number {
    return this.received - this.answered;
  }
}

/** Writes a JSON-RPC error that no request can be matched to (id null), then optionally hangs up. */
export function writeRawError(socket: Socket, code: number, message: string, id: string | number | null = null): void {
  if (socket.destroyed) return;
  socket.write(encodeFrame(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })));
}

export class SocketMessageReader extends AbstractMessageReader implements MessageReader {
  private readonly decoder: FrameDecoder;
  private callback: DataCallback | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly limits: FramingLimits = { maxFrameBytes: MAX_FRAME_BYTES },
    private readonly flow: RequestFlow = new RequestFlow(),
  ) {
    super();
    this.decoder = new FrameDecoder(limits.maxFrameBytes);
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.onData(chunk);
    const onClose = () => this.fireClose();
    const onError = (error: Error) => this.fireError(error);
    this.socket.on('data', onData);
    this.socket.on('close', onClose);
    this.socket.on('error', onError);
    return {
      dispose: () => {
        this.socket.off('data', onData);
        this.socket.off('close', onClose);
        this.socket.off('error', onError);
      },
    };
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    while (!this.socket.destroyed) {
      let body: string | undefined;
      try {
        body = this.decoder.next();
      } catch (error) {
        if (error instanceof FrameError) return this.hangUp(error.rpcCode, error.message);
        throw error;
      }
      if (body === undefined) return;
      this.deliver(body);
    }
  }

  private deliver(body: string): void {
    const parsed = parseBody(body);
    if (!parsed.ok) {
      writeRawError(this.socket, ErrorCodes.ParseError, `parse error: ${parsed.error}`);
      return;
    }
    const message = parsed.value;
    const problem = describeInvalid(message);
    if (problem) {
      const id = typeof message === 'object' && message !== null && 'id' in message ? (message as { id: unknown }).id : null;
      writeRawError(this.socket, ErrorCodes.InvalidRequest, `invalid request: ${problem}`, typeof id === 'string' || typeof id === 'number' ? id : null);
      return;
    }
    if ('method' in (message as object) && 'id' in (message as object)) this.flow.received++;
    this.callback?.(message as Message);
  }

  /** The stream cannot be resynchronised after a bad header: say why, then close. */
  private hangUp(code: number, message: string): void {
    writeRawError(this.socket, code, message);
    this.socket.end();
    this.socket.destroySoon?.();
    this.decoder.reset();
  }
}

/** vscode-jsonrpc assumes well-formed messages; anything else is answered here. */
function describeInvalid(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return Array.isArray(message) ? 'batches are not supported' : 'a message must be a JSON object';
  }
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method.length === 0) return 'method must be a non-empty string';
    if ('id' in m && typeof m.id !== 'string' && typeof m.id !== 'number') return 'id must be a string or a number';
    if ('params' in m && (typeof m.params !== 'object' || m.params === null) && m.params !== undefined) return 'params must be an object or an array';
    return undefined;
  }
  if ('id' in m && ('result' in m || 'error' in m)) return undefined;
  return 'neither a request, a notification nor a response';
}

/** Most output held back waiting for more answers, and the longest hold. */
const MAX_HELD_BYTES = 256 * 1024;
const MAX_HOLD_MS = 2;
/** A client pipelining deeply gets its answers in groups of this many, not all at the end. */
const MAX_HELD_ANSWERS = 16;

export class SocketMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private answeredAtLastCheck = 0;
  private heldSince = 0;

  constructor(
    private readonly socket: Socket,
    private readonly flow: RequestFlow = new RequestFlow(),
  ) {
    super();
  }

  write(message: Message): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    const bytes = encodeFrame(JSON.stringify(message));
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    const answeredBefore = this.flow.answered;
    if ('id' in message && !('method' in message)) this.flow.answered++;
    if (!this.scheduled) {
      this.scheduled = true;
      this.answeredAtLastCheck = answeredBefore;
      this.heldSince = performance.now();
      // Nothing else is being worked on for this client: send at the end of this tick.
      if (this.flow.unanswered === 0) process.nextTick(() => this.flush());
      else setImmediate(() => this.flushWhenCaughtUp());
    }
    return Promise.resolve();
  }

  /** Waits a turn more while queued requests are still being answered, within size and time bounds. */
  private flushWhenCaughtUp(): void {
    const progressing = this.flow.answered > this.answeredAtLastCheck;
    const roomToHold = this.pending.length < MAX_HELD_ANSWERS && this.pendingBytes < MAX_HELD_BYTES && performance.now() - this.heldSince < MAX_HOLD_MS;
    if (progressing && this.flow.unanswered > 0 && roomToHold) {
      this.answeredAtLastCheck = this.flow.answered;
      setImmediate(() => this.flushWhenCaughtUp());
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const out = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed) return;
    this.socket.write(out);
    if (this.socket.writableLength > MAX_UNREAD_OUTPUT_BYTES) {
      this.fireError(new Error('client is not reading its responses; dropping it'));
      this.socket.destroy();
    }
  }

  end(): void {
    this.flush();
  }
}
