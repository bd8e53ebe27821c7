/**
 * The MCP server's connection to its home's core: a client of the socket like the CLI and the
 * extension. It starts a detached core (the `daemon start` path) when none answers, and
 * outlives the core: a call whose connection is gone reconnects (starting a core again if
 * need be) and is tried once more; a subscription resubscribes from the last event cursor it
 * was sent, so a core restart loses and repeats nothing (events/subscribe is replayable).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOL_VERSION, type Method, type NotificationArgs, type ParamsOf, type ResultOf } from '../../protocol/rpc';
import type { HomePaths } from '../../lib/node/paths';
import { isUntrustedSocket } from '../../lib/node/socket-trust';
import { ensurePrivateDir } from '../fs-private';
import { CallDeadlineError, CoreProtocolError, SocketClient } from '../cli/socket-client';
import { VERSION } from '../version';
import { errorMessage } from '../../lib/error-message';

/** A healthy core answers in milliseconds; a call that waits on purpose (`wait_ms`) gets that on top. */
const ANSWER_DEADLINE_MS = 10_000;
const START_TIMEOUT_MS = 20_000;
/** While no core answers, how often another start is tried. */
const RESTART_EVERY_MS = 2_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The core could not be reached or started: said to the model as a tool error, the server stays up. */
export class CoreUnavailableError extends Error {}

export type Log = (line: string) => void;

/** Where `daemon.js` sits: beside this bundle (dist/mcp.js), or under dist/ when run from source (tests, bench). */
function daemonEntry(): string {
  return __dirname.endsWith('dist') ? join(__dirname, 'daemon.js') : join(__dirname, '..', '..', 'dist', 'daemon.js');
}

/** One socket connection that has said `initialize`. */
async function openClient(paths: HomePaths, name: string): Promise<SocketClient> {
  const client = await SocketClient.connect(paths.socket);
  try {
    await client.call('initialize', { client: { name, version: VERSION }, protocol: PROTOCOL_VERSION }, ANSWER_DEADLINE_MS);
  } catch (error) {
    client.abort();
    throw error;
  }
  return client;
}

export class CoreLink {
  private shared: SocketClient | undefined;
  private opening: Promise<SocketClient> | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly paths: HomePaths,
    private readonly log: Log,
  ) {}

  /** A connection, starting a core when none answers. Concurrent callers share one start. */
  async connect(name = 'switchboard-mcp'): Promise<SocketClient> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let startedAt: number | undefined;
    for (;;) {
      try {
        return await openClient(this.paths, name);
      } catch (error) {
        // Never fall back behind a socket we refused: say what is wrong instead.
        if (isUntrustedSocket(error)) throw new CoreUnavailableError(error.message);
        if (this.closed) throw new CoreUnavailableError('the MCP server is shutting down');
        if (Date.now() > deadline) throw new CoreUnavailableError(`no core answers on ${this.paths.socket} and none could be started (${errorMessage(error)}); see ${this.paths.log}`);
        // Start a core at once, and again now and then: one that lost the lock to a CLI verb
        // running directly exits, and the lock is free again once that verb is done.
        if (startedAt === undefined || Date.now() - startedAt > RESTART_EVERY_MS) {
          startedAt = Date.now();
          await this.startCore();
        } else await sleep(50);
      }
    }
  }

  /** Spawns `daemon.js` detached (stdout and stderr to core.log), as `switchboard daemon start` does. */
  private startCore(): Promise<void> {
    this.starting ??= (async () => {
      ensurePrivateDir(this.paths.home);
      const log = openSync(this.paths.log, 'a', 0o600);
      const child = spawn(process.execPath, [daemonEntry(), '--home', this.paths.home], { detached: true, stdio: ['ignore', log, log], env: process.env });
      closeSync(log);
      let exited = false;
      child.once('exit', () => (exited = true));
      child.once('error', () => (exited = true));
      child.unref();
      this.log(`started a core (pid ${child.pid}) for ${this.paths.home}`);
      const deadline = Date.now() + START_TIMEOUT_MS;
      // Until it answers, or exits (another process won the lock: its core answers instead).
      while (Date.now() < deadline && !exited) {
        try {
          (await SocketClient.connect(this.paths.socket, 500)).abort();
          return;
        } catch {
          await sleep(25);
        }
      }
    })().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private sharedClient(): Promise<SocketClient> {
    if (this.shared) return Promise.resolve(this.shared);
    this.opening ??= this.connect().then(
      (client) => {
        this.opening = undefined;
        this.shared = client;
        void client.closed.then(() => {
          if (this.shared === client) this.shared = undefined;
        });
        return client;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  /**
   * A request to the core. A connection that is gone (core killed, restarted) is replaced and
   * the request sent once more: every request the tools make is safe to repeat (sends carry a
   * client_message_id, so a repeat is at most a `duplicate`). RPC errors are the caller's.
   */
  async call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.sharedClient();
      try {
        return await client.call(method, params, deadlineFor(params));
      } catch (error) {
        if (!isConnectionLoss(error) || attempt > 0) throw asUnavailable(error, this.paths);
        client.abort();
        if (this.shared === client) this.shared = undefined;
        this.log(`lost the core during ${method} (${errorMessage(error)}); reconnecting`);
      }
    }
  }

  /**
   * Events after `since` (absent: from now on), delivered in cursor order to `onEvent`, across
   * core restarts. Resolves once subscribed with the newest cursor at that time.
   */
  async subscribe(since: number | undefined, onEvent: (...args: NotificationArgs) => void): Promise<Subscription> {
    const subscription = new Subscription(this, onEvent, this.log);
    await subscription.start(since, 1);
    return subscription;
  }

  close(): void {
    this.closed = true;
    this.shared?.close();
  }
}

/** What a notification's params say of its place in the event log, when they have one. */
function cursorOf(args: NotificationArgs): number | undefined {
  const params: unknown = args[1];
  const cursor = typeof params === 'object' && params !== null && 'cursor' in params ? params.cursor : undefined;
  return typeof cursor === 'number' ? cursor : undefined;
}

export class Subscription {
  /** The last event cursor delivered: where a resubscription resumes. */
  cursor = 0;
  /** The newest cursor when first subscribed: the backlog ends there. */
  newest = 0;
  private client: SocketClient | undefined;
  private ended = false;
  /** A subscription that could not be resumed (cursor pruned, no core) says so here. */
  failure: Error | undefined;
  private failed: () => void = () => {};
  readonly broken = new Promise<void>((resolve) => (this.failed = resolve));

  constructor(
    private readonly link: CoreLink,
    private readonly onEvent: (...args: NotificationArgs) => void,
    private readonly log: Log,
  ) {}

  /**
   * Subscribes on a new connection. A core lost between connecting and its answer (killed while
   * a wait was starting) is `retries` more tries on a new connection, as `CoreLink.call` does.
   */
  async start(since: number | undefined, retries = 0): Promise<void> {
    const client = await this.link.connect('switchboard-mcp-events');
    client.onNotification((...args) => {
      const cursor = cursorOf(args);
      if (cursor !== undefined) {
        // A replay after reconnecting never hands on an event twice.
        if (cursor <= this.cursor) return;
        this.cursor = cursor;
      }
      this.onEvent(...args);
    });
    let result: { cursor: number };
    try {
      result = await client.call('events/subscribe', since === undefined ? {} : { since }, ANSWER_DEADLINE_MS);
    } catch (error) {
      client.abort();
      if (retries > 0 && isConnectionLoss(error) && !this.ended) {
        this.log(`lost the core while subscribing (${errorMessage(error)}); reconnecting`);
        // Resume after anything the lost connection already handed on.
        return this.start(this.cursor > 0 ? this.cursor : since, retries - 1);
      }
      throw asUnavailable(error, this.link.paths);
    }
    if (since === undefined) this.cursor = Math.max(this.cursor, result.cursor);
    else this.cursor = Math.max(this.cursor, since);
    this.newest = Math.max(this.newest, result.cursor);
    this.client = client;
    void client.closed.then(() => this.resume(client));
  }

  private async resume(lost: SocketClient): Promise<void> {
    if (this.ended || this.client !== lost) return;
    this.client = undefined;
    this.log(`event stream lost at cursor ${this.cursor}; resubscribing`);
    for (;;) {
      if (this.ended) return;
      try {
        await this.start(this.cursor);
        return;
      } catch (error) {
        if (!(error instanceof CoreUnavailableError) || this.ended) {
          this.failure = error instanceof Error ? error : new Error(String(error));
          this.failed();
          return;
        }
        await sleep(200);
      }
    }
  }

  close(): void {
    this.ended = true;
    this.client?.close();
    this.client = undefined;
  }
}

function deadlineFor(params: unknown): number {
  const wait = typeof params === 'object' && params !== null && 'wait_ms' in params ? params.wait_ms : undefined;
  return ANSWER_DEADLINE_MS + (typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? wait : 0);
}

/** The connection, not the request, failed: a new connection may well succeed. */
function isConnectionLoss(error: unknown): boolean {
  if (error instanceof CoreProtocolError || error instanceof CallDeadlineError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return error.message === 'the core closed the connection' || code === 'EPIPE' || code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'ENOENT';
}

function asUnavailable(error: unknown, paths: HomePaths): unknown {
  if (error instanceof CallDeadlineError) return new CoreUnavailableError(`the core on ${paths.socket} did not answer ${error.method} within ${Math.round(error.deadlineMs / 1000)} s; it may be stopped or overloaded (\`switchboard daemon restart\`)`);
  if (error instanceof CoreProtocolError) return new CoreUnavailableError(`${error.message}; restart it with \`switchboard daemon restart\``);
  if (isConnectionLoss(error)) return new CoreUnavailableError(`lost the core (${errorMessage(error)}); try again`);
  return error;
}
