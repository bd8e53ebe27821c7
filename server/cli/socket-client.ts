/**
 * A minimal JSON-RPC client for the CLI's delegated path: the same Content-Length framing
 * vscode-jsonrpc speaks, in a few dozen lines and no dependencies, because every delegated
 * command pays for what it loads. Requests are pipelined: the verb's request follows
 * `initialize` without waiting for its answer.
 */
import { connect, type Socket } from 'node:net';
import { assertTrustedSocket } from '../../lib/node/socket-trust';

export interface RpcErrorShape {
  code: number;
  message: string;
  data?: unknown;
}

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

type Pending = { resolve: (value: unknown) => void; reject: (error: RpcErrorShape | Error) => void };

export class SocketClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffered: Buffer = Buffer.alloc(0);
  private notificationListener: ((method: string, params: unknown) => void) | undefined;
  private closedError: Error | undefined;
  /** Settles when the connection ends, however it ends. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('the core closed the connection')));
    socket.on('error', (error) => this.failAll(error));
  }

  /**
   * Resolves once connected; rejects at once when nobody listens on the socket, and with an
   * UntrustedSocketError, before connecting, when the socket is not ours alone.
   */
  static connect(path: string, timeoutMs = 2000): Promise<SocketClient> {
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
        resolve(new SocketClient(socket));
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
   */
  call(method: string, params: unknown, deadlineMs?: number): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const json = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    this.socket.write(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
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

  onNotification(listener: (method: string, params: unknown) => void): void {
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
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const headerEnd = this.buffered.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const match = /content-length:\s*(\d+)/i.exec(this.buffered.toString('latin1', 0, headerEnd));
      if (!match) return this.failAll(new Error('the core sent a frame without Content-Length'));
      const start = headerEnd + 4;
      const end = start + Number(match[1]);
      if (this.buffered.length < end) return;
      const body = this.buffered.toString('utf8', start, end);
      this.buffered = this.buffered.subarray(end);
      this.handle(JSON.parse(body) as { id?: number | null; method?: string; params?: unknown; result?: unknown; error?: RpcErrorShape });
    }
  }

  private handle(message: { id?: number | null; method?: string; params?: unknown; result?: unknown; error?: RpcErrorShape }): void {
    if (message.method !== undefined) {
      this.notificationListener?.(message.method, message.params);
      return;
    }
    if (typeof message.id !== 'number') {
      // An error the core could not tie to a request (e.g. too many clients): fail everything.
      if (message.error) this.failAll(message.error);
      return;
    }
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.error) waiter.reject(message.error);
    else waiter.resolve(message.result);
  }

  private failAll(error: RpcErrorShape | Error): void {
    this.closedError ??= error instanceof Error ? error : Object.assign(new Error(error.message), error);
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
