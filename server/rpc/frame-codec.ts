/**
 * Content-Length frames, the one parser both ends of the local socket use: the core's reader
 * (framing.ts, under vscode-jsonrpc) and the CLI's socket client (cli/socket-client.ts). No
 * dependencies beyond node's Buffer, because the CLI's delegated path loads this on every
 * command. Only the cap differs by side: what the core takes from a client (MAX_FRAME_BYTES)
 * and what a client takes from the core (MAX_ANSWER_FRAME_BYTES).
 */
import { ErrorCodes } from '../../protocol/rpc';
import { errorMessage } from '../../lib/error-message';

const HEADER_END = Buffer.from('\r\n\r\n');
/** A header may be this long before its blank line must have come. */
export const MAX_HEADER_BYTES = 1024;
const EMPTY = Buffer.alloc(0);

/**
 * The stream broke the framing: after this nothing that follows can be trusted to start a
 * frame, so the connection must close. `rpcCode` is the JSON-RPC error the core answers with.
 */
export class FrameError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

/** One frame: `Content-Length: N`, a blank line, N bytes of UTF-8 JSON. One buffer, so one write. */
export function encodeFrame(json: string): Buffer {
  const length = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(length + 32);
  const headerLength = out.write(`Content-Length: ${length}\r\n\r\n`, 0, 'latin1');
  out.write(json, headerLength, 'utf8');
  return out.subarray(0, headerLength + length);
}

/**
 * Splits a byte stream into frame bodies. Feed it with `push`, take bodies with `next` until it
 * says it needs more. The size cap is checked from the header, before a body is buffered; a
 * body arriving in many chunks is joined once, when it is whole, so a large answer costs its
 * size in copies, not its size times its chunks.
 */
export class FrameDecoder {
  /** Bytes not yet parsed, contiguous. */
  private buffered: Buffer = EMPTY;
  /** Chunks that came after `buffered`, joined only when a header or a whole body is wanted. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** The body length of the frame being read, once its header is parsed; -1 while in a header. */
  private bodyLength = -1;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): void {
    if (this.buffered.length === 0 && this.parts.length === 0) {
      this.buffered = chunk;
      return;
    }
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
  }

  /**
   * The next whole frame's body, or undefined until more bytes arrive. Throws a FrameError
   * (and empties itself) when the header is too long, has no valid Content-Length, or
   * announces more than the cap.
   */
  next(): string | undefined {
    if (this.bodyLength < 0) {
      this.join();
      const end = this.buffered.indexOf(HEADER_END);
      if (end < 0) {
        if (this.buffered.length > MAX_HEADER_BYTES) this.fail(ErrorCodes.InvalidRequest, 'frame header too long or missing its blank line');
        return undefined;
      }
      const length = parseContentLength(this.buffered.toString('latin1', 0, end));
      if (length === undefined) this.fail(ErrorCodes.InvalidRequest, 'frame header has no valid Content-Length');
      if (length > this.maxFrameBytes) this.fail(ErrorCodes.FrameTooLarge, `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
      this.bodyLength = length;
      this.buffered = this.buffered.subarray(end + HEADER_END.length);
    }
    if (this.buffered.length + this.partsBytes < this.bodyLength) return undefined;
    this.join();
    const body = this.buffered.toString('utf8', 0, this.bodyLength);
    this.buffered = this.buffered.subarray(this.bodyLength);
    this.bodyLength = -1;
    return body;
  }

  /** Forgets everything buffered: the stream is being abandoned. */
  reset(): void {
    this.buffered = EMPTY;
    this.parts = [];
    this.partsBytes = 0;
    this.bodyLength = -1;
  }

  private join(): void {
    if (this.parts.length === 0) return;
    this.buffered = Buffer.concat([this.buffered, ...this.parts], this.buffered.length + this.partsBytes);
    this.parts = [];
    this.partsBytes = 0;
  }

  private fail(code: number, message: string): never {
    this.reset();
    throw new FrameError(code, message);
  }
}

/** `Content-Length` among any other `name: value` lines, any case; its value 1–10 digits. */
function parseContentLength(header: string): number | undefined {
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) return undefined;
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,10}$/.test(value)) return undefined;
    return Number(value);
  }
  return undefined;
}

/** A frame body as JSON, or why it is not: never a throw, so one bad frame costs one error. */
export function parseBody(body: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    const value: unknown = JSON.parse(body);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}
