/**
 * The core: takes the store lock, opens the store, starts sync and (for a daemon) serves the
 * socket. The CLI's direct mode runs the same thing without a socket for one verb.
 */
import type { HomePaths } from '../lib/node/paths';
import { StoreLock } from './lock';
import { openStore, type Db } from './store/db';
import { Repository } from './store/repository';
import { PeerTouches } from './store/peer-touches';
import { Outbox } from './outbox/outbox';
import { WriteBatcher } from '../lib/node/write-batcher';
import { asStorageError } from '../lib/node/storage-errors';
import { CoreService } from './service';
import { EventHub } from './events';
import { Dispatcher, type CoreContext, type Session } from './rpc/dispatch';
import { RpcServer } from './rpc/server';
import { SyncEngine } from './sync/engine';
import type { Logger } from '../lib/node/log';
import { loadConfig, writeConfig } from './config';
import { errorMessage } from '../lib/error-message';

export interface CoreOptions {
  /** Serve the socket (a daemon) or not (a CLI verb run directly). */
  serve: boolean;
  log: Logger;
  /** Exit after this long with no clients (cores spawned on demand by the extension). */
  idleExitMs?: number;
  maxClients?: number;
  /** Connect to the relay (default: when configured). */
  sync?: boolean;
  /**
   * Events older than this are pruned (a serving core only). Clients resume from a cursor; one
   * older than what was pruned is told to resync (`events/subscribe`, CursorTooOld).
   */
  eventRetentionMs?: number;
}

/** How long events are kept: far longer than any client stays away and still expects a replay. */
export const DEFAULT_EVENT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Events one prune step deletes: a step is one write. */
const EVENT_PRUNE_BATCH = 5000;

export class Core {
  readonly since = new Date().toISOString();
  private server: RpcServer | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning = false;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  private constructor(
    readonly paths: HomePaths,
    private readonly lock: StoreLock,
    private readonly db: Db,
    readonly service: CoreService,
    readonly hub: EventHub,
    readonly dispatcher: Dispatcher,
    readonly sync: SyncEngine,
    private readonly options: CoreOptions,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /** Throws `LockedError` when another process holds the store. */
  static async start(paths: HomePaths, options: CoreOptions): Promise<Core> {
    let lock: StoreLock;
    try {
      lock = StoreLock.acquire(paths, { kind: options.serve ? 'core' : 'cli', socket: null });
    } catch (error) {
      // Taking the lock can need a page of disk: a full disk is said as one, not as SQLITE_FULL.
      throw asStorageError(error, paths.store);
    }
    let db: Db | undefined;
    try {
      db = openStore(paths.store, paths.home);
      const repo = new Repository(db);
      // SWITCHBOARD_GROUP_COMMIT=off is for measuring what batching buys: one commit and one
      // fsync per write, on the event loop.
      const grouped = process.env.SWITCHBOARD_GROUP_COMMIT !== 'off';
      const writes = new WriteBatcher(db, { grouped, syncOffThread: grouped });
      // A config.json that cannot be read is the sync engine's error to report, never a reason
      // not to start; it is left as it is for the person to fix (or `init` to replace).
      const { config, problem } = loadConfig(paths);
      if (problem === null) writeConfig(paths, config); // persists a freshly minted device id
      const hub = new EventHub(repo);
      // One of each for the one store: the service and the sync engine both move outbox rows and
      // touch peers, and one throttle must guard the peers table.
      const outbox = new Outbox(repo);
      const peers = new PeerTouches(repo, writes);
      const sync = new SyncEngine(paths, repo, writes, outbox, peers, options.log);
      // A core that does not serve (a CLI verb run directly) stops after answering: its queued sends wait for the next one.
      const service = new CoreService(repo, writes, sync, outbox, peers, () => sync.localUser(), !options.serve, paths);
      writes.onCommit = () => {
        hub.pump();
        service.scheduleIndexing();
      };
      sync.onStatus((status) => hub.broadcastStatus(status));
      sync.onProgress((progress) => hub.broadcastProgress(progress));
      service.trust.onChange((change) => hub.broadcastTrust(change));
      let core!: Core;
      const context: CoreContext = {
        pid: process.pid,
        home: paths.home,
        socket: paths.socket,
        since: new Date().toISOString(),
        clients: () => core.server?.clients ?? 0,
        requestShutdown: () => setImmediate(() => void core.stop()),
      };
      const dispatcher = new Dispatcher(service, hub, context);
      core = new Core(paths, lock, db, service, hub, dispatcher, sync, options);
      // A bug in an after-commit action is logged; the batch's callers have their answers.
      writes.onActionFailed = (error) => options.log.error(`store: an after-commit action failed: ${(error as Error)?.stack ?? String(error)}`);
      writes.onSpaceChange = (change) =>
        change.full
          ? options.log.error(`store: ${change.state.error.message}; writes wait for space and nothing stored is lost`)
          : options.log.info(`store: space is back at ${change.was.error.path} (full since ${change.was.since}); writes resumed`);
      writes.onDurabilityLost = (error) => {
        options.log.error(`store: ${error.message}; stopping the core`);
        void core.stop();
      };
      // Under the lock: no send of this home is copying a file in now.
      service.files.sweepSnapshots();
      // Anything left inflight by a crash goes back to pending: the relay dedupes resends.
      await writes.run(() => outbox.releaseInflight(new Date().toISOString()));
      if (options.serve) await core.serve();
      if (options.sync !== false) sync.start();
      return core;
    } catch (error) {
      db?.close();
      lock.release();
      throw asStorageError(error, paths.store);
    }
  }

  private async serve(): Promise<void> {
    this.server = new RpcServer(this.dispatcher, this.hub, this.options.log, {
      socketPath: this.paths.socket,
      maxClients: this.options.maxClients ?? 256,
      onClientsChanged: (count) => this.armIdleExit(count),
    });
    await this.server.listen();
    this.startPruning();
    this.lock.describe({ pid: process.pid, socket: this.paths.socket, since: this.since, kind: 'core' });
    this.armIdleExit(0);
    this.options.log.info(`core ${process.pid} serving ${this.paths.socket} for ${this.paths.home}`);
  }

  private armIdleExit(clients: number): void {
    if (this.options.idleExitMs === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (clients > 0) return;
    this.idleTimer = setTimeout(() => {
      this.options.log.info(`no clients for ${this.options.idleExitMs} ms; exiting`);
      void this.stop();
    }, this.options.idleExitMs);
    this.idleTimer.unref();
  }

  /** Prunes old events every tenth of the retention (between 100 ms and an hour), in bounded steps. */
  private startPruning(): void {
    const retention = this.options.eventRetentionMs ?? DEFAULT_EVENT_RETENTION_MS;
    const every = Math.min(3_600_000, Math.max(100, Math.floor(retention / 10)));
    this.pruneTimer = setInterval(() => void this.pruneEvents(retention), every);
    this.pruneTimer.unref();
  }

  private async pruneEvents(retention: number): Promise<void> {
    if (this.pruning || this.stopping) return;
    this.pruning = true;
    try {
      for (;;) {
        const cutoff = new Date(Date.now() - retention).toISOString();
        // Read first: most ticks find nothing due, and need no write.
        if (!this.service.repo.hasEventsBefore(cutoff)) break;
        const deleted = await this.service.writes.run(() => this.service.repo.pruneEvents(cutoff, EVENT_PRUNE_BATCH));
        if (deleted < EVENT_PRUNE_BATCH || this.stopping) break;
      }
    } catch (error) {
      this.options.log.warn(`events: pruning failed: ${errorMessage(error)}`);
    } finally {
      this.pruning = false;
    }
  }

  /** An in-process session, for the CLI's direct mode. */
  localSession(notify: Session['notify'] = () => {}): Session {
    return { initialized: true, leaving: false, notify };
  }

  /** Stops serving, finishes pending writes, closes the store, releases the lock. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.idleTimer);
      clearInterval(this.pruneTimer);
      await this.server?.close();
      await this.sync.stop();
      this.service.stopIndexing();
      // Everything queued commits, and everything committed is on disk, before the store closes.
      await this.service.writes.idle();
      this.service.writes.dispose();
      this.hub.close();
      this.db.close();
      this.lock.release();
      const { commits, writes } = this.service.writes.stats;
      this.options.log.info(`core stopped (${writes} writes in ${commits} commits)`);
      this.resolveStopped();
    })();
    return this.stopping;
  }

  /** Resolves once the core has stopped, whoever asked. */
  whenStopped(): Promise<void> {
    return this.stopped;
  }
}
