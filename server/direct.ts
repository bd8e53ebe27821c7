/**
 * The CLI's direct mode: when no core runs, a verb opens the store itself, under the lock,
 * and runs through the same dispatcher a core uses. Bundled apart from the CLI so the
 * delegated path never loads SQLite.
 */
import { Core } from './core';
import { LockedError, StoreLock, type HolderInfo } from './lock';
import { openStore, schemaVersion } from './store/db';
import { createLogger, silentLogger } from '../lib/node/log';
import type { HomePaths } from '../lib/node/paths';
import { CoreError } from './errors';
import type { Session } from './rpc/dispatch';
import type { Method, NotificationArgs, ParamsOf, PullResult, ResultOf, RpcErrorObject } from '../protocol/rpc';

export { runDaemon } from './daemon';
export { isLocked } from './lock';
export { loadConfig, readConfig, readToken, writeConfig } from './config';
export { checkRelay, probeRelay } from './sync/relay-probe';

/** Integrity of the store, checked under the lock so no core can be writing meanwhile. */
export function checkStore(paths: HomePaths): { locked: true } | { locked: false; schema: number; result: string } {
  let lock: StoreLock;
  try {
    lock = StoreLock.acquire(paths);
  } catch (error) {
    if (error instanceof LockedError) return { locked: true };
    throw error;
  }
  try {
    const db = openStore(paths.store, paths.home);
    try {
      return { locked: false, schema: schemaVersion(db), result: String(db.pragma('quick_check', { simple: true })) };
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

export interface DirectCore {
  /** What the relay sent before the verb ran, when it asked to pull first. */
  readonly pulled: PullResult | undefined;
  /** What the dispatcher answers: ResultOf<M> for a method of `Requests`. */
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  onNotification(listener: (...args: NotificationArgs) => void): void;
  close(): Promise<void>;
}

export type DirectOpen = { ok: true; core: DirectCore } | { ok: false; holder: HolderInfo | undefined };

/**
 * `pullMs`: first fetch what the relay holds for this home, for at most that long, through the
 * same sync engine a core runs (stored, then acked), so a verb without a core still sees new mail.
 */
export async function openDirect(paths: HomePaths, options: { sync: boolean; pullMs?: number; verbose?: boolean }): Promise<DirectOpen> {
  process.umask(0o077);
  let core: Core;
  const pull = options.pullMs !== undefined;
  try {
    core = await Core.start(paths, { serve: false, sync: options.sync || pull, log: options.verbose ? createLogger() : silentLogger });
  } catch (error) {
    if (error instanceof LockedError) return { ok: false, holder: error.holder };
    throw error;
  }
  const pulled = pull ? await core.sync.pull(options.pullMs!) : undefined;
  const listeners: ((...args: NotificationArgs) => void)[] = [];
  const session: Session = core.localSession((name, params) => {
    // `name` and `params` travel together (Subscriber.notify is generic in N), which TypeScript cannot see as the union.
    for (const l of listeners) l(...([name, params] as NotificationArgs));
  });
  return {
    ok: true,
    core: {
      pulled,
      async call(method, params) {
        try {
          return await core.dispatcher.dispatch(method, params, session);
        } catch (error) {
          // As plain data, the shape a delegated client gets over the socket.
          if (error instanceof CoreError) throw { code: error.code, message: error.message, data: error.data } satisfies RpcErrorObject;
          throw error;
        }
      },
      onNotification(listener) {
        listeners.push(listener);
      },
      close: () => core.stop(),
    },
  };
}
