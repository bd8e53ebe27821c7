/**
 * RelayStorage on one SQLite file (`<data>/relay.db`) and the blob files beside it: the relay
 * on one machine. It reuses the synchronous modules that hold the SQL and the decisions
 * (store.ts, ledger.ts, groups.ts, agents.ts, key-directory.ts, blob-tables.ts) and makes each
 * method one write of the WriteBatcher: a savepoint of a group commit, resolved once the WAL is
 * fsynced. So every method is atomic and durable before it resolves, and writes queued close
 * together share one transaction and one fsync, as before the interface existed.
 *
 * Reads that need no transaction (the pump's pages, a credential at hello, blob records, key
 * lookups) run at once on the event loop: SQLite answers them in microseconds, and queueing them
 * behind writes would only add an fsync of latency. Such a read sees every commit made so far,
 * which may include one whose fsync is still running; nothing is acknowledged from it before
 * that fsync, as the batcher's callers only hear back after it.
 */
import { WriteBatcher } from '../../../lib/node/write-batcher';
import { BlobFiles } from '../../blob-files';
import { RelayLedger } from '../../ledger';
import { RelayStore } from '../../store';
import type {
  AccountStorage,
  AgentStorage,
  BlobContent,
  BlobRecords,
  DeliveryStorage,
  GroupStorage,
  KeyDirectoryStorage,
  OpenedDevice,
  RelayStorage,
  RelayStorageLimits,
  StorageEvents,
  Unsubscribe,
} from '../types';

export interface SqliteStorageOptions {
  /** false commits and fsyncs each write alone, on the event loop: only for measuring group commit. */
  groupCommit?: boolean;
  events?: StorageEvents;
}

export class SqliteRelayStorage implements RelayStorage {
  readonly description: string;
  readonly accounts: AccountStorage;
  readonly deliveries: DeliveryStorage;
  readonly groups: GroupStorage;
  readonly agents: AgentStorage;
  readonly keys: KeyDirectoryStorage;
  readonly blobs: BlobRecords;
  readonly blobContent: BlobContent;
  private readonly writes: WriteBatcher;
  private closed: Promise<void> | undefined;

  /**
   * `store` is public for tools and tests that act on the SQLite file itself (a test caps its
   * size to fill the disk); the server never reaches past the interface.
   */
  private constructor(
    readonly store: RelayStore,
    dataDir: string,
    limits: RelayStorageLimits,
    options: SqliteStorageOptions,
  ) {
    this.description = `sqlite ${store.db.name}`;
    const grouped = options.groupCommit ?? true;
    const writes = (this.writes = new WriteBatcher(store.db, { grouped, syncOffThread: grouped }));
    const events = options.events ?? {};
    writes.onActionFailed = (error) => events.onActionFailed?.(error);
    writes.onSpaceChange = (change) =>
      events.onSpaceChange?.(
        change.full ? { full: true, message: change.state.error.message } : { full: false, message: `space is back at ${change.was.error.path} (full since ${change.was.since})` },
      );
    writes.onDurabilityLost = (error) => (events.onDurabilityLost ? events.onDurabilityLost(error) : undefined);
    const ledger = new RelayLedger(store, limits.maxBodyBytes, limits, limits, limits.maxFileBytes, limits);
    this.accounts = sqliteAccounts(store, (fn) => writes.run(fn));
    this.deliveries = deliveriesOf(store, ledger, writes);
    this.groups = {
      applyGroupRequest: (actor, frame, now) => writes.run(() => ledger.groups.handle(actor, frame, now)),
      listGroups: (user) => read(() => ledger.groups.list(user)),
    };
    this.agents = { applyAgentRequest: (user, frame, now) => writes.run(() => ledger.agents.handle(user, frame, now)) };
    this.keys = {
      publishKeys: (user, device, frame, now) => writes.run(() => ledger.keys.handle(user, device, frame, now)),
      getKeys: (frame) => read(() => ({ type: 'keys_result' as const, request_id: frame.request_id, result: 'ok' as const, user: frame.user, records: ledger.keys.records(frame.user) })),
    };
    const tables = ledger.blobs;
    this.blobs = {
      blob: (sha256, user) =>
        read(() => {
          const row = tables.get(sha256);
          return row && { size: row.size, mayUse: tables.mayUse(sha256, user) };
        }),
      recordBlob: (sha256, size, user, now) => writes.run(() => tables.record(sha256, size, user, now)),
      takeBlob: (sha256, user, device) =>
        writes.run(() => {
          if (!tables.take(sha256, user, device)) return false;
          tables.remove(sha256);
          return true;
        }),
    };
    this.blobContent = blobContentOf(new BlobFiles(dataDir));
  }

  /** Opens (creating and migrating) the relay database in `dataDir`. */
  static open(dataDir: string, limits: RelayStorageLimits, options: SqliteStorageOptions = {}): SqliteRelayStorage {
    const store = RelayStore.open(dataDir);
    try {
      return new SqliteRelayStorage(store, dataDir, limits, options);
    } catch (err) {
      store.close();
      throw err;
    }
  }

  idle(): Promise<void> {
    return this.writes.idle();
  }

  close(): Promise<void> {
    this.closed ??= this.writes.idle().then(() => {
      this.writes.dispose();
      this.store.close();
    });
    return this.closed;
  }

  summary(): string {
    return `${this.writes.stats.writes} writes in ${this.writes.stats.commits} commits`;
  }
}

/** A read outside any transaction, as a Promise (a throw becomes a rejection). */
function read<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * The accounts of an open RelayStore. `write` runs each write: the storage's batcher, or by
 * default a commit of its own (synchronous = FULL: durable once it returns), for tools and tests
 * that hold a bare store.
 */
export function sqliteAccounts(store: RelayStore, write: <T>(fn: () => T) => Promise<T> = read): AccountStorage {
  return {
    addUser: (name, token, now) => write(() => store.insertUser(name, token, now.toISOString())),
    revokeUser: (name, now) => write(() => store.revokeUser(name, now.toISOString())),
    activeCredential: (name) => read(() => store.activeCredential(name)),
    inactiveCredentials: (ids) => read(() => new Set(ids.filter((id) => !store.isCredentialActive(id)))),
    listUsers: () => read(() => store.listUsers()),
    caseCollisions: () => read(() => store.caseCollisions()),
    // Another process (`relay revoke`) commits to the same file: SQLite's data_version moves.
    watchCredentials: (listener, pollMs): Unsubscribe => {
      let seen = store.dataVersion();
      const timer = setInterval(() => {
        if (!store.db.open) return;
        const version = store.dataVersion();
        if (version === seen) return;
        seen = version;
        listener();
      }, pollMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

function deliveriesOf(store: RelayStore, ledger: RelayLedger, writes: WriteBatcher): DeliveryStorage {
  return {
    // Sends that arrived together are one write: one savepoint each inside it (see ledger.recordSend).
    acceptSends: (sender, device, messages, now) => writes.run(() => messages.map((message) => ledger.recordSend(sender, message, now, device))),
    openDevice: (request) =>
      writes.run((): OpenedDevice | undefined => {
        // Checked inside the write that registers the device: a revocation committed while the
        // token was checked is seen here, and one committed after is caught by watchCredentials.
        if (!store.isCredentialActive(request.credentialId)) return undefined;
        const tokenUpgraded = request.upgradeTo !== undefined && store.upgradeToken(request.credentialId, request.upgradeTo);
        const { acked, receipts } = ledger.openDevice(request.user, request.device, request.cursor, request.now, request.version);
        const backlogSeq = store.lastVisibleDeliveryAfter(request.user, acked, { version: request.version, device: request.device });
        return { acked, receipts, backlogSeq, tokenUpgraded };
      }),
    deliveriesAfter: (user, afterSeq, limit, view) => read(() => store.visibleDeliveriesAfter(user, afterSeq, limit, view)),
    ack: (user, device, seq, version, now) => writes.run(() => ledger.recordAck(user, device, seq, now, version)),
    markRead: (reader, serverIds, device, now) => writes.run(() => ledger.recordRead(reader, serverIds, now, device)),
    prune: (now) => writes.run(() => ledger.prune(now)),
    // One process holds the file: every delivery is one this relay's own calls returned.
    watchDeliveries: () => () => {},
  };
}

function blobContentOf(files: BlobFiles): BlobContent {
  return {
    openPartial: async (user, sha256, size) => {
      const { handle, have, hash } = await files.openPartial(user, sha256, size);
      return { have, hash, write: (data) => handle.write(data), sync: () => handle.sync(), close: () => handle.close() };
    },
    discardPartial: (user, sha256) => files.discardPartial(user, sha256),
    promote: (user, sha256) => files.promote(user, sha256),
    openBlob: (sha256) => files.openBlob(sha256),
    deleteBlob: (sha256) => files.deleteBlob(sha256),
    sweepPartials: (cutoff, active) => files.sweepPartials(cutoff, active),
  };
}
