/**
 * A minimal JSON-RPC client for the CLI's delegated path, without vscode-jsonrpc because every
 * delegated command pays for what it loads. Frames are read by the core's own decoder
 * (rpc/frame-codec.ts, dependency-free), so both ends agree on what a frame is; what a core
 * sends that breaks the framing or JSON-RPC ends the connection with a CoreProtocolError.
 * Requests are pipelined: the verb's request follows `initialize` without waiting for its answer.
 */
import { connect, type Socket } from 'node:net';
import { assertTrustedSocket } from '../../lib/node/socket-trust';
import { MAX_ANSWER_FRAME_BYTES, isNotificationName, type Method, type RpcErrorObject, type NotificationArgs, type ParamsOf, type ResultOf } from '../../protocol/rpc';
import { FrameDecoder, FrameError, encodeFrame, parseBody } from '../rpc/frame-codec';

/** A request got no answer within its deadline. */
export class CallDeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly method: string,
    readonly deadlineMs: number,
  ) {
    super(`no answer to ${method} within ${deadlineMs} ms`);
  }
}

/** The core sent something that is not a frame, not JSON, or not a JSON-RPC message: the connection is dropped. */
export class CoreProtocolError extends Error {
  constructor(readonly problem: string) {
    super(`the core broke the protocol: ${problem}`);
    this.name = 'CoreProtocolError';
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: RpcErrorObject | Error) => void };

export class SocketClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder: FrameDecoder;
  private notificationListener: ((...args: NotificationArgs) => void) | undefined;
  private closedError: Error | undefined;
  /** Settles when the connection ends, however it ends. */
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    maxFrameBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('the core closed the connection')));
    socket.on('error', (error) => this.failAll(error));
  }

  /**
   * Resolves once connected; rejects at once when nobody listens on the socket, and with an
   * UntrustedSocketError, before connecting, when the socket is not ours alone.
   */
  static connect(path: string, timeoutMs = 2000, maxFrameBytes = MAX_ANSWER_FRAME_BYTES): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      assertTrustedSocket(path);
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`timed out connecting to ${path}`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new SocketClient(socket, maxFrameBytes));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /**
   * Sends a request. With `deadlineMs`, an answer that has not come by then rejects with a
   * CallDeadlineError: a core that is stopped (SIGSTOP) or wedged still accepts connections
   * (the kernel queues them), so only a deadline tells the caller it will not answer.
   *
   * A method of `Requests` answers with its `ResultOf`: the contract the core's dispatcher is
   * typed by. The answer is not validated here (no schema library on the delegated path). Any
   * other name and params (tests speaking to a core on purpose wrongly) answer `unknown`.
   */
  call<M extends Method>(method: M, params: ParamsOf<M>, deadlineMs?: number): Promise<ResultOf<M>>;
  call(method: string, params: unknown, deadlineMs?: number): Promise<unknown>;
  call(method: string, params: unknown, deadlineMs?: number): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    this.socket.write(encodeFrame(JSON.stringify({ jsonrpc: '2.0', id, method, params })));
    return new Promise((resolve, reject) => {
      if (deadlineMs === undefined) return this.pending.set(id, { resolve, reject });
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CallDeadlineError(method, deadlineMs));
      }, deadlineMs);
      const settle = <T>(f: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        f(value);
      };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
    });
  }

  /** Notifications the protocol names; others (a newer core's) are not this client's business. */
  onNotification(listener: (...args: NotificationArgs) => void): void {
    this.notificationListener = listener;
  }

  close(): void {
    this.socket.end();
  }

  /** Drops the connection at once, without waiting for the core's side (which may never come). */
  abort(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    while (!this.socket.destroyed) {
      let body: string | undefined;
      try {
        body = this.decoder.next();
      } catch (error) {
        if (error instanceof FrameError) return this.breakOff(`it sent a bad frame (${error.message})`);
        throw error;
      }
      if (body === undefined) return;
      const parsed = parseBody(body);
      if (!parsed.ok) return this.breakOff(`it sent a frame that is not JSON (${parsed.error})`);
      const problem = this.handle(parsed.value);
      if (problem) return this.breakOff(`it sent ${problem}`);
    }
  }

  /** Acts on one message from the core; says what is wrong with it when it is no JSON-RPC message. */
  private handle(message: unknown): string | undefined {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'a message that is not a JSON object';
    const m = message as Record<string, unknown>;
    if (typeof m.method === 'string') {
      if (isNotificationName(m.method)) this.notify(m.method, m.params);
      return undefined;
    }
    if ('error' in m) {
      const error = asRpcError(m.error);
      if (!error) return 'an error without a numeric code and a message';
      // An error the core could not tie to a request (e.g. too many clients): fail everything.
      if (typeof m.id !== 'number') this.failAll(error);
      else this.settle(m.id, (waiter) => waiter.reject(error));
      return undefined;
    }
    if (!('result' in m) || typeof m.id !== 'number') return 'a message that is neither a notification nor an answer to a request';
    this.settle(m.id, (waiter) => waiter.resolve(m.result));
    return undefined;
  }

  /** An answer to a request no longer waited on (its deadline passed) is dropped. */
  private settle(id: number, how: (waiter: Pending) => void): void {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    how(waiter);
  }

  /**
   * Hands a notification to the listener. Its params are the core's, trusted like an answer:
   * the name is one the protocol's map pairs with them.
   */
  private notify(name: NotificationArgs[0], params: unknown): void {
    this.notificationListener?.(...([name, params] as NotificationArgs));
  }

  /** What follows a broken frame cannot be trusted: every waiter hears why, and the connection is dropped. */
  private breakOff(problem: string): void {
    this.decoder.reset();
    this.failAll(new CoreProtocolError(problem));
    this.socket.destroy();
  }

  private failAll(error: RpcErrorObject | Error): void {
    this.closedError ??= error instanceof Error ? error : Object.assign(new Error(error.message), error);
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

function asRpcError(value: unknown): RpcErrorObject | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { code, message, data } = value as Record<string, unknown>;
  if (typeof code !== 'number' || typeof message !== 'string') return undefined;
  return data === undefined ? { code, message } : { code, message, data };
}
