/**
 * How a verb reaches the store: over the core's socket when a core answers (delegated), or
 * by opening the store itself under the lock (direct). The verb never knows which.
 */
import { join } from 'node:path';
import { PROTOCOL_VERSION, type Method, type NotificationArgs, type ParamsOf, type PullResult, type ResultOf } from '../../protocol/rpc';
import type { HomePaths } from '../../lib/node/paths';
import type * as Direct from '../direct';
import type { HolderInfo } from '../lock';
import { CliError, ExitCode } from '../../lib/node/cli/errors';
import { fromRpcError, isRpcError } from './rpc-errors';
import { pullNotice } from './format';
import { CallDeadlineError, CoreProtocolError, SocketClient } from './socket-client';
import { readHolder } from '../holder';
import { preflight } from './preflight';
import { isDiskFull } from '../../lib/node/storage-errors';
import { isUntrustedSocket } from '../../lib/node/socket-trust';
import { VERSION } from '../version';
import { errorMessage } from '../../lib/error-message';

export interface CoreClient {
  readonly delegated: boolean;
  /** Direct only, when asked: what was fetched from the relay before the verb ran. */
  readonly pulled?: PullResult;
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  /** Checking the name narrows the params (NotificationArgs). */
  onNotification(listener: (...args: NotificationArgs) => void): void;
  /** Settles if the core goes away under a delegated client; never for a direct one. */
  readonly lost: Promise<void>;
  close(): Promise<void>;
}

/**
 * How long a verb waits when the store is locked but no core answers: a CLI verb running
 * directly holds it for a moment; a core holds it briefly before its socket is bound and
 * after it is closed.
 */
const PATIENCE_MS = { cli: 15_000, core: 3_000 };

/**
 * How long a verb run without a core spends fetching what the relay holds before it answers:
 * long enough for a backlog on a healthy link, short enough that a dead relay costs little.
 */
export const PULL_MS = 3_000;

export interface OpenOptions {
  /** Connect to the relay while the verb runs (a direct send does). */
  sync: boolean;
  /**
   * Without a core, first fetch what the relay holds (inbox, read, status). `warn` also says on
   * stderr, in one line, why nothing (or not everything) could be fetched; `quiet` leaves that
   * to the verb.
   */
  pull?: 'warn' | 'quiet';
}

export function loadDirect(): typeof Direct {
  // Resolved at run time beside the bundle; see scripts/build.mjs.
  return require(join(__dirname, 'direct.js')) as typeof Direct;
}

export async function openCore(paths: HomePaths, options: OpenOptions): Promise<CoreClient> {
  const started = Date.now();
  for (;;) {
    const delegated = await tryDelegate(paths);
    if (delegated) return delegated;
    const opened = await loadDirect()
      .openDirect(paths, { sync: options.sync, pullMs: options.pull ? PULL_MS : undefined })
      .catch((error: unknown) => {
        throw diskFullAsCliError(error);
      });
    if (opened.ok) {
      const notice = options.pull === 'warn' && opened.core.pulled ? pullNotice(opened.core.pulled) : undefined;
      return directClient(opened.core, notice);
    }
    if (Date.now() - started > PATIENCE_MS[opened.holder?.kind ?? 'core']) throw lockedError(paths, opened.holder);
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
  }
}

/**
 * A store that cannot even be opened for want of space: the same sentence a core gives for a
 * write it could not store (server/errors.ts), never SQLITE_FULL or ENOSPC.
 */
export function diskFullAsCliError(error: unknown): unknown {
  // direct.js is a bundle of its own: its DiskFullError is known by its code, not its class.
  if (!isDiskFull(error) && (error as { code?: unknown } | null)?.code !== 'disk_full') return error;
  const where = error instanceof Error && /^disk full at /.test(error.message) ? error.message : 'disk full';
  return new CliError(`${where}: nothing was stored; free some space and retry`);
}

export function lockedError(paths: HomePaths, holder: HolderInfo | undefined): CliError {
  const who = holder ? `pid ${holder.pid} (since ${holder.since})` : 'another process';
  return new CliError(
    `the store in ${paths.home} is locked by ${who}, and no core answers on ${paths.socket}; wait for it to finish or stop it${holder ? ` (kill ${holder.pid})` : ''}`,
    ExitCode.Locked,
  );
}

/**
 * How long a delegated call waits for the core's answer beyond any wait the call asks for
 * itself. A healthy core answers in milliseconds; one that is stopped or wedged never does.
 */
export const ANSWER_DEADLINE_MS = 10_000;

/** A call that waits on purpose (a send's `wait_ms`, init's check) gets that wait on top. */
function deadlineFor<M extends Method>(method: M, params: ParamsOf<M>): number {
  const p: unknown = params;
  const wait = typeof p === 'object' && p !== null && 'wait_ms' in p ? p.wait_ms : undefined;
  return ANSWER_DEADLINE_MS + (typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? wait : 0);
}

/** The core holds the lock and accepted the connection, but did not answer in time. */
function unansweredError(paths: HomePaths, deadlineMs: number): CliError {
  const pid = readHolder(paths)?.pid;
  const who = pid === undefined ? `the core on ${paths.socket}` : `core ${pid}`;
  const cont = pid === undefined ? 'find it with `switchboard doctor`' : `\`kill -CONT ${pid}\``;
  return new CliError(
    `${who} did not answer within ${Math.round(deadlineMs / 1000)} s; it may be stopped or overloaded — ${cont} or \`switchboard daemon restart\``,
    ExitCode.Locked,
  );
}

/**
 * The core answered with bytes that are no frame, no JSON or no JSON-RPC message. Nothing it
 * says on this connection can be trusted any more; a restart is what a person can do.
 */
function brokenCoreError(paths: HomePaths, error: CoreProtocolError): CliError {
  const pid = readHolder(paths)?.pid;
  const who = pid === undefined ? `the core on ${paths.socket}` : `core ${pid}`;
  return new CliError(`${who} broke the protocol: ${error.problem}; restart it with \`switchboard daemon restart\``);
}

export async function tryDelegate(paths: HomePaths): Promise<CoreClient | undefined> {
  let client: SocketClient;
  try {
    client = await SocketClient.connect(paths.socket);
  } catch (error) {
    // Never fall back to the store behind a socket we refused: say what is wrong instead.
    if (isUntrustedSocket(error)) throw new CliError(error.message);
    return undefined;
  }
  const initialized = client.call('initialize', { client: { name: 'switchboard-cli', version: VERSION }, protocol: PROTOCOL_VERSION }, ANSWER_DEADLINE_MS);
  // A failed handshake is reported by the first call; keep it from being an unhandled rejection.
  initialized.catch(() => {});
  return {
    delegated: true,
    async call(method, params) {
      preflight(method, params);
      try {
        const [, result] = await Promise.all([initialized, client.call(method, params, deadlineFor(method, params))]);
        return result;
      } catch (error) {
        if (error instanceof CallDeadlineError) {
          // Dropped, not ended: a stopped core would never finish the goodbye, keeping this process alive.
          client.abort();
          throw unansweredError(paths, error.deadlineMs);
        }
        if (error instanceof CoreProtocolError) throw brokenCoreError(paths, error);
        throw isRpcError(error) ? fromRpcError(error) : new CliError(`lost the core mid-request: ${errorMessage(error)}`);
      }
    },
    onNotification(listener) {
      client.onNotification(listener);
    },
    lost: client.closed,
    async close() {
      client.close();
    },
  };
}

/** `notice`: what the pull found, said once the first call's input has passed its checks (a usage error is said alone, as through a core). */
function directClient(core: Direct.DirectCore, notice: string | undefined): CoreClient {
  let pending = notice;
  return {
    delegated: false,
    pulled: core.pulled,
    async call(method, params) {
      preflight(method, params);
      if (pending) process.stderr.write(`switchboard: ${pending}\n`);
      pending = undefined;
      try {
        return await core.call(method, params);
      } catch (error) {
        throw isRpcError(error) ? fromRpcError(error) : error;
      }
    },
    onNotification(listener) {
      core.onNotification(listener);
    },
    lost: new Promise<void>(() => {}),
    close: () => core.close(),
  };
}
