/**
 * The core's socket: accepts clients, gives each a vscode-jsonrpc connection over the fast
 * framing, and keeps misbehaving clients from hurting anyone else (connection cap, frame cap,
 * unread-output cap; a stalled client only ever holds its own socket).
 */
import { lstatSync, chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { socketAnswers } from '../socket-probe';
import { assertTrustedSocket } from '../../lib/node/socket-trust';
import { dirname } from 'node:path';
import { createMessageConnection, ResponseError } from 'vscode-jsonrpc/node';
import { ErrorCodes, type NotificationName, type Notifications } from '../../protocol/rpc';
import { CoreError } from '../errors';
import type { EventHub } from '../events';
import { ensurePrivateDir } from '../fs-private';
import type { Logger } from '../../lib/node/log';
import type { Dispatcher, Session } from './dispatch';
import { RequestFlow, SocketMessageReader, SocketMessageWriter, writeRawError } from './framing';
import { errorMessage } from '../../lib/error-message';

export interface RpcServerOptions {
  socketPath: string;
  maxClients: number;
  /** Called when the number of connected clients changes. */
  onClientsChanged?: (count: number) => void;
}

export class RpcServer {
  private readonly server: Server;
  /** Each client's socket and its writer, so answers still held can be flushed on close. */
  private readonly sockets = new Map<Socket, SocketMessageWriter>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly hub: EventHub,
    private readonly log: Logger,
    private readonly options: RpcServerOptions,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  get clients(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    const path = this.options.socketPath;
    if (process.platform !== 'win32') {
      // The same check every client makes: a directory someone else owns or may write is refused, not fixed.
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      assertTrustedSocket(path);
      ensurePrivateDir(dirname(path));
      await removeStaleSocket(path);
    }
    // The umask makes the socket 0600 from the instant it exists; the chmod is belt and braces.
    const previous = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(path, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    if (process.platform !== 'win32') chmodSync(path, 0o600);
  }

  async close(): Promise<void> {
    // end() lets answers already written (such as daemon/shutdown's) reach their clients.
    for (const [socket, writer] of this.sockets) {
      writer.end();
      socket.end();
      setTimeout(() => socket.destroy(), 500).unref();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (process.platform !== 'win32') {
      try {
        if (lstatSync(this.options.socketPath).isSocket()) unlinkSync(this.options.socketPath);
      } catch {
        // Already gone.
      }
    }
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.options.maxClients) {
      writeRawError(socket, ErrorCodes.TooManyClients, `the core already serves ${this.options.maxClients} clients; try again shortly`);
      socket.end();
      return;
    }
    socket.setNoDelay(true);
    const flow = new RequestFlow();
    const writer = new SocketMessageWriter(socket, flow);
    this.sockets.set(socket, writer);
    this.options.onClientsChanged?.(this.sockets.size);
    const connection = createMessageConnection(new SocketMessageReader(socket, undefined, flow), writer);
    const session: Session = {
      initialized: false,
      leaving: false,
      notify: <N extends NotificationName>(name: N, params: Notifications[N]) => {
        if (!socket.destroyed) void connection.sendNotification(name, params).catch(() => {});
      },
    };
    connection.onRequest(async (method, params) => {
      try {
        return await this.dispatcher.dispatch(method, params, session);
      } catch (error) {
        throw this.toResponseError(method, error);
      }
    });
    connection.onNotification('exit', () => {
      socket.end();
    });
    // Other notifications (LSP housekeeping such as `initialized`) need no answer.
    connection.onNotification(() => {});
    connection.onError(([error]) => this.log.warn(`client connection: ${error.message}`));
    const cleanup = () => {
      if (!this.sockets.delete(socket)) return;
      this.hub.unsubscribe(session);
      connection.dispose();
      this.options.onClientsChanged?.(this.sockets.size);
    };
    socket.on('close', cleanup);
    socket.on('error', () => socket.destroy());
    connection.listen();
  }

  private toResponseError(method: string, error: unknown): ResponseError<unknown> {
    if (error instanceof CoreError) return new ResponseError(error.code, error.message, error.data);
    this.log.error(`${method} failed: ${(error as Error)?.stack ?? String(error)}`);
    return new ResponseError(ErrorCodes.InternalError, `internal error in ${method}: ${errorMessage(error)}`, { kind: 'internal' });
  }
}

/** Removes a socket file left by a dead core: only a real socket that nobody answers on. */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; move it away and start again`);
  if (await socketAnswers(path)) throw new Error(`another process is listening on ${path}`);
  unlinkSync(path);
}
