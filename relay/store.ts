/**
 * The relay's SQLite store: plain reads and writes, no protocol decisions (those live in
 * ledger.ts). WAL with synchronous=FULL; the server's WriteBatcher fsyncs the WAL itself, off
 * the event loop: either way a commit is on disk before the relay answers.
 */
import Database from 'better-sqlite3';
import { migrate } from './migrations';
import { prepareDataDir } from './data-dir';
import type { StoredToken, TokenHashKind } from './tokens';
import type { CommittedDelivery, Credential, DeliveryView, StoredDelivery } from './storage/types';
import { UserExistsError } from './storage/errors';

export type { CommittedDelivery, Credential, DeliveryView, StoredDelivery } from './storage/types';
export { UserExistsError } from './storage/errors';
import { errorMessage } from '../lib/error-message';

export interface DedupeRecord {
  id: string;
  server_id: string;
  fingerprint: string;
}

/** Messages a recipient has waiting that none of its devices has acked: what quotas count. */
export interface Undelivered {
  messages: number;
  bytes: number;
}

/** A delivery row with its owner, as the retention sweep reads it. */
export interface AgedDelivery extends StoredDelivery {
  user: string;
}

/** How a delivery is stored besides its item (protocol v2; all optional, the v1 defaults). */
export interface DeliveryOptions {
  /** The lowest protocol version that can parse the item (1 by default). */
  minVersion?: number;
  /** Set on a copy of the user's own message: the device that sent it, which is not sent it back. */
  originDevice?: string;
  /** A group fan-out row: the timeline entry holding the item, which is stored there once. */
  ref?: { group: number; pos: number };
}

/** A delivery row as the ledger reads it back: its item (the timeline's, for a fan-out row) and how it was stored. */
export interface DeliveryRow extends StoredDelivery {
  min_version: number;
  origin_device: string | null;
  ref_group: number | null;
}

/** What a row's item is: its own, or the timeline entry it references (stored once for every member). */
const ITEM = 'coalesce(t.item, d.item)';
const FROM_DELIVERIES = 'FROM deliveries d LEFT JOIN group_timeline t ON d.ref_group IS NOT NULL AND t.group_id = d.ref_group AND t.pos = d.ref_pos';
/** The rows a view may be sent (see DeliveryView). */
const VISIBLE = 'd.min_version <= ? AND (d.origin_device IS NULL OR d.origin_device <> ?)';

interface Statements {
  insertUser: Database.Statement<[string, Buffer, Buffer, TokenHashKind, string]>;
  upgradeToken: Database.Statement<[Buffer, Buffer, TokenHashKind, number]>;
  revokeUser: Database.Statement<[string, string]>;
  activeCredential: Database.Statement<[string], { id: number; name: string; token_hash: Buffer; salt: Buffer; hash_kind: TokenHashKind }>;
  credentialActive: Database.Statement<[number], { one: number }>;
  userActive: Database.Statement<[string], { one: number }>;
  listUsers: Database.Statement<[], { name: string; created_at: string; revoked_at: string | null }>;
  caseCollisions: Database.Statement<[], { name: string; others: string }>;
  upsertDevice: Database.Statement<[string, string, number, string, string]>;
  deviceAcked: Database.Statement<[string, string], { acked: number }>;
  setDeviceAcked: Database.Statement<[number, string, string]>;
  minAcked: Database.Statement<[string], { min_acked: number | null }>;
  lastSeq: Database.Statement<[string], { last_seq: number }>;
  bumpSeq: Database.Statement<[string], { last_seq: number }>;
  insertDelivery: Database.Statement<[string, number, string, number, number, string | null, number | null, number | null]>;
  deliveriesOlderThan: Database.Statement<[number, number], AgedDelivery>;
  agedRows: Database.Statement<[number, number], DeliveryRow & { user: string }>;
  rowsBetween: Database.Statement<[string, number, number], DeliveryRow>;
  visibleAfter: Database.Statement<[string, number, number, string, number], StoredDelivery>;
  lastVisibleAfter: Database.Statement<[string, number, number, string], { seq: number | null }>;
  deleteDelivery: Database.Statement<[string, number]>;
  deliveriesAfter: Database.Statement<[string, number, number], StoredDelivery>;
  deliveriesBetween: Database.Statement<[string, number, number], StoredDelivery>;
  lastDeliveryAfter: Database.Statement<[string, number], { seq: number | null }>;
  prune: Database.Statement<[string, number]>;
  findDedupe: Database.Statement<[string, string], DedupeRecord>;
  insertDedupe: Database.Statement<[string, string, string, string, string, number, string | null]>;
  dedupeByServerId: Database.Statement<[string], { sender: string; id: string; recipient: string | null }>;
  idOwner: Database.Statement<[string], { sender: string; client_message_id: string }>;
  pruneDedupe: Database.Statement<[number, number]>;
  markReceipted: Database.Statement<[string, number]>;
  isReceipted: Database.Statement<[string], { one: number }>;
  pruneReceipts: Database.Statement<[number, number]>;
  undelivered: Database.Statement<[string], Undelivered>;
  addUndelivered: Database.Statement<[string, number, number]>;
}

export class RelayStore {
  private readonly statements: Statements;

  private constructor(readonly db: Database.Database) {
    this.statements = {
      insertUser: db.prepare('INSERT INTO users (name, token_hash, salt, hash_kind, created_at) VALUES (?, ?, ?, ?, ?)'),
      upgradeToken: db.prepare("UPDATE users SET token_hash = ?, salt = ?, hash_kind = ? WHERE id = ? AND hash_kind = 'scrypt' AND revoked_at IS NULL"),
      revokeUser: db.prepare('UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL'),
      activeCredential: db.prepare('SELECT id, name, token_hash, salt, hash_kind FROM users WHERE name = ? AND revoked_at IS NULL'),
      credentialActive: db.prepare('SELECT 1 AS one FROM users WHERE id = ? AND revoked_at IS NULL'),
      // Answered from the users_active_name index alone: no token hash or salt read per send.
      userActive: db.prepare('SELECT 1 AS one FROM users WHERE name = ? AND revoked_at IS NULL'),
      listUsers: db.prepare('SELECT name, created_at, revoked_at FROM users ORDER BY name, id'),
      // Every name the relay is given is folded to lower case, so an active account stored under
      // another spelling is one the names migration left alone: another spelling of it exists.
      caseCollisions: db.prepare(
        `SELECT u.name, coalesce((SELECT group_concat(DISTINCT o.name) FROM users o WHERE lower(o.name) = lower(u.name) AND o.name <> u.name), '') AS others
         FROM users u WHERE u.revoked_at IS NULL AND u.name <> lower(u.name) ORDER BY u.name`,
      ),
      upsertDevice: db.prepare(
        `INSERT INTO devices (user, device, acked, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user, device) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      ),
      deviceAcked: db.prepare('SELECT acked FROM devices WHERE user = ? AND device = ?'),
      setDeviceAcked: db.prepare('UPDATE devices SET acked = ? WHERE user = ? AND device = ?'),
      minAcked: db.prepare('SELECT MIN(acked) AS min_acked FROM devices WHERE user = ?'),
      lastSeq: db.prepare('SELECT last_seq FROM sequences WHERE user = ?'),
      bumpSeq: db.prepare(
        `INSERT INTO sequences (user, last_seq) VALUES (?, 1)
         ON CONFLICT (user) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
      ),
      insertDelivery: db.prepare(
        'INSERT INTO deliveries (user, seq, item, created_at, min_version, origin_device, ref_group, ref_pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deliveriesOlderThan: db.prepare(`SELECT d.user, d.seq, ${ITEM} AS item ${FROM_DELIVERIES} WHERE d.created_at < ? ORDER BY d.created_at LIMIT ?`),
      agedRows: db.prepare(
        `SELECT d.user, d.seq, ${ITEM} AS item, d.min_version, d.origin_device, d.ref_group ${FROM_DELIVERIES} WHERE d.created_at < ? ORDER BY d.created_at LIMIT ?`,
      ),
      rowsBetween: db.prepare(
        `SELECT d.seq, ${ITEM} AS item, d.min_version, d.origin_device, d.ref_group ${FROM_DELIVERIES} WHERE d.user = ? AND d.seq > ? AND d.seq <= ? ORDER BY d.seq`,
      ),
      visibleAfter: db.prepare(`SELECT d.seq, ${ITEM} AS item ${FROM_DELIVERIES} WHERE d.user = ? AND d.seq > ? AND ${VISIBLE} ORDER BY d.seq LIMIT ?`),
      lastVisibleAfter: db.prepare(`SELECT MAX(d.seq) AS seq FROM deliveries d WHERE d.user = ? AND d.seq > ? AND ${VISIBLE}`),
      deleteDelivery: db.prepare('DELETE FROM deliveries WHERE user = ? AND seq = ?'),
      deliveriesAfter: db.prepare(`SELECT d.seq, ${ITEM} AS item ${FROM_DELIVERIES} WHERE d.user = ? AND d.seq > ? ORDER BY d.seq LIMIT ?`),
      deliveriesBetween: db.prepare(`SELECT d.seq, ${ITEM} AS item ${FROM_DELIVERIES} WHERE d.user = ? AND d.seq > ? AND d.seq <= ? ORDER BY d.seq`),
      lastDeliveryAfter: db.prepare('SELECT MAX(seq) AS seq FROM deliveries WHERE user = ? AND seq > ?'),
      prune: db.prepare('DELETE FROM deliveries WHERE user = ? AND seq <= ?'),
      findDedupe: db.prepare('SELECT id, server_id, fingerprint FROM dedupe WHERE sender = ? AND client_message_id = ?'),
      insertDedupe: db.prepare('INSERT INTO dedupe (sender, client_message_id, id, server_id, fingerprint, created_at, recipient) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      dedupeByServerId: db.prepare('SELECT sender, id, recipient FROM dedupe WHERE server_id = ? LIMIT 1'),
      idOwner: db.prepare('SELECT sender, client_message_id FROM dedupe WHERE id = ? LIMIT 1'),
      // Bounded batches, oldest first, so one sweep never holds the write lock for long.
      pruneDedupe: db.prepare(
        'DELETE FROM dedupe WHERE (sender, client_message_id) IN (SELECT sender, client_message_id FROM dedupe WHERE created_at < ? ORDER BY created_at LIMIT ?)',
      ),
      markReceipted: db.prepare('INSERT OR IGNORE INTO receipts_sent (server_id, created_at) VALUES (?, ?)'),
      isReceipted: db.prepare('SELECT 1 AS one FROM receipts_sent WHERE server_id = ?'),
      pruneReceipts: db.prepare(
        'DELETE FROM receipts_sent WHERE server_id IN (SELECT server_id FROM receipts_sent WHERE created_at < ? ORDER BY created_at LIMIT ?)',
      ),
      undelivered: db.prepare('SELECT messages, bytes FROM undelivered WHERE user = ?'),
      addUndelivered: db.prepare(
        `INSERT INTO undelivered (user, messages, bytes) VALUES (?, ?, ?)
         ON CONFLICT (user) DO UPDATE SET messages = messages + excluded.messages, bytes = bytes + excluded.bytes`,
      ),
    };
  }

  static open(dataDir: string): RelayStore {
    const path = prepareDataDir(dataDir);
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // The CLI (add-user, revoke) writes while a relay runs; wait rather than fail.
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new RelayStore(db);
    } catch (err) {
      db.close();
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new Error(
          `the relay database ${path} is damaged (SQLite: ${errorMessage(err)}); stop the relay, move it aside (mv ${path} ${path}.damaged, with any -wal/-shm beside it) and restore the latest backup (docs/operations.md, Backups); a fresh database knows no users (add them again with \`relay add-user\`, which issues new tokens) and none of the messages not yet delivered`,
        );
      }
      throw err;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in a transaction; nested calls become savepoints. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Changes whenever another connection (another process, such as `relay revoke`) commits.
   * Lets the relay notice outside writes with one cheap pragma per poll.
   */
  dataVersion(): number {
    const version = this.db.pragma('data_version', { simple: true });
    return typeof version === 'number' ? version : 0;
  }

  // ---- users ------------------------------------------------------------------------------

  insertUser(name: string, token: StoredToken, createdAt: string): void {
    try {
      this.statements.insertUser.run(name, token.hash, token.salt, token.kind, createdAt);
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UserExistsError(name);
      throw err;
    }
  }

  /** True when an active credential was revoked. */
  revokeUser(name: string, revokedAt: string): boolean {
    return this.statements.revokeUser.run(revokedAt, name).changes > 0;
  }

  activeCredential(name: string): Credential | undefined {
    const row = this.statements.activeCredential.get(name);
    return row && { id: row.id, name: row.name, kind: row.hash_kind, hash: row.token_hash, salt: row.salt };
  }

  /** Rewrites an older relay's scrypt row with the token's new hash; true when it did. */
  upgradeToken(credentialId: number, token: StoredToken): boolean {
    return this.statements.upgradeToken.run(token.hash, token.salt, token.kind, credentialId).changes > 0;
  }

  isCredentialActive(credentialId: number): boolean {
    return this.statements.credentialActive.get(credentialId) !== undefined;
  }

  isUserActive(name: string): boolean {
    return this.statements.userActive.get(name) !== undefined;
  }

  listUsers(): { name: string; created_at: string; revoked_at: string | null }[] {
    return this.statements.listUsers.all();
  }

  /**
   * Active accounts whose stored name is not canonical (protocol/names.ts), each with the
   * other spellings of it among the users: they shared a name but for case when names became
   * case-insensitive, so none was folded into another, and such an account cannot log in.
   */
  caseCollisions(): { name: string; others: string[] }[] {
    return this.statements.caseCollisions.all().map((row) => ({ name: row.name, others: row.others === '' ? [] : row.others.split(',') }));
  }

  // ---- devices ----------------------------------------------------------------------------

  /** Records the device (first sight starts its cursor at `initialAcked`) and returns its acked cursor. */
  touchDevice(user: string, device: string, initialAcked: number, now: string): number {
    this.statements.upsertDevice.run(user, device, initialAcked, now, now);
    return this.deviceAcked(user, device) ?? initialAcked;
  }

  deviceAcked(user: string, device: string): number | undefined {
    return this.statements.deviceAcked.get(user, device)?.acked;
  }

  setDeviceAcked(user: string, device: string, acked: number): void {
    this.statements.setDeviceAcked.run(acked, user, device);
  }

  /** The lowest cursor among every known device of the user: everything at or below is done. */
  minAcked(user: string): number {
    return this.statements.minAcked.get(user)?.min_acked ?? 0;
  }

  // ---- sequences and deliveries -----------------------------------------------------------

  lastSeq(user: string): number {
    return this.statements.lastSeq.get(user)?.last_seq ?? 0;
  }

  /** Appends one delivery to the user's sequence and returns its seq. Call inside a transaction. */
  appendDelivery(user: string, item: string, now: Date, options: DeliveryOptions = {}): number {
    const row = this.statements.bumpSeq.get(user);
    if (!row) throw new Error(`could not advance the sequence of "${user}"`);
    const { minVersion = 1, originDevice, ref } = options;
    // A fan-out row holds no copy of the item: it is read from the timeline entry.
    this.statements.insertDelivery.run(user, row.last_seq, ref ? '' : item, now.getTime(), minVersion, originDevice ?? null, ref?.group ?? null, ref?.pos ?? null);
    return row.last_seq;
  }

  /** The rows `view` may be sent after `afterSeq`, in order (what a session's pump streams). */
  visibleDeliveriesAfter(user: string, afterSeq: number, limit: number, view: DeliveryView): StoredDelivery[] {
    return this.statements.visibleAfter.all(user, afterSeq, view.version, view.device, limit);
  }

  /** The seq of the last row `view` may be sent after `afterSeq`; 0 when there is none (welcome's backlog_seq). */
  lastVisibleDeliveryAfter(user: string, afterSeq: number, view: DeliveryView): number {
    return this.statements.lastVisibleAfter.get(user, afterSeq, view.version, view.device)?.seq ?? 0;
  }

  /** Rows after `afterSeq` through `throughSeq` with how each was stored, for the ledger's ack. */
  deliveryRowsBetween(user: string, afterSeq: number, throughSeq: number): DeliveryRow[] {
    return this.statements.rowsBetween.all(user, afterSeq, throughSeq);
  }

  /** The oldest rows stored before `cutoff`, any user, with how each was stored, for retention. */
  agedDeliveryRows(cutoff: Date, limit: number): (DeliveryRow & { user: string })[] {
    return this.statements.agedRows.all(cutoff.getTime(), limit);
  }

  /** The oldest deliveries stored before `cutoff`, any user, at most `limit`. */
  deliveriesOlderThan(cutoff: Date, limit: number): AgedDelivery[] {
    return this.statements.deliveriesOlderThan.all(cutoff.getTime(), limit);
  }

  deleteDelivery(user: string, seq: number): void {
    this.statements.deleteDelivery.run(user, seq);
  }

  deliveriesAfter(user: string, afterSeq: number, limit: number): StoredDelivery[] {
    return this.statements.deliveriesAfter.all(user, afterSeq, limit);
  }

  deliveriesBetween(user: string, afterSeq: number, throughSeq: number): StoredDelivery[] {
    return this.statements.deliveriesBetween.all(user, afterSeq, throughSeq);
  }

  /** The seq of the last delivery stored for `user` after `afterSeq`; 0 when there is none. */
  lastDeliveryAfter(user: string, afterSeq: number): number {
    return this.statements.lastDeliveryAfter.get(user, afterSeq)?.seq ?? 0;
  }

  pruneDeliveries(user: string, throughSeq: number): number {
    return this.statements.prune.run(user, throughSeq).changes;
  }

  // ---- idempotency and receipts -----------------------------------------------------------

  findDedupe(sender: string, clientMessageId: string): DedupeRecord | undefined {
    return this.statements.findDedupe.get(sender, clientMessageId);
  }

  /** `recipient`: the user a direct message went to (null for a group's), so a read receipt can be checked. */
  insertDedupe(sender: string, clientMessageId: string, record: DedupeRecord, now: Date, recipient: string | null = null): void {
    this.statements.insertDedupe.run(sender, clientMessageId, record.id, record.server_id, record.fingerprint, now.getTime(), recipient);
  }

  /** Who sent the direct message `serverId`, under which id, to whom (while its dedupe row is kept). */
  directMessage(serverId: string): { sender: string; id: string; recipient: string | null } | undefined {
    return this.statements.dedupeByServerId.get(serverId);
  }

  /** The send that first used message id `id`, while its dedupe row is kept. */
  idOwner(id: string): { sender: string; client_message_id: string } | undefined {
    return this.statements.idOwner.get(id);
  }

  /** Deletes at most `limit` dedupe rows stored before `cutoff`; returns how many. */
  pruneDedupe(cutoff: Date, limit: number): number {
    return this.statements.pruneDedupe.run(cutoff.getTime(), limit).changes;
  }

  /** True the first time only: the caller then owes the sender a receipt. */
  markReceipted(serverId: string, now: Date): boolean {
    return this.statements.markReceipted.run(serverId, now.getTime()).changes > 0;
  }

  isReceipted(serverId: string): boolean {
    return this.statements.isReceipted.get(serverId) !== undefined;
  }

  /** Deletes at most `limit` receipt markers written before `cutoff`; returns how many. */
  pruneReceipts(cutoff: Date, limit: number): number {
    return this.statements.pruneReceipts.run(cutoff.getTime(), limit).changes;
  }

  // ---- quotas -----------------------------------------------------------------------------

  undelivered(user: string): Undelivered {
    return this.statements.undelivered.get(user) ?? { messages: 0, bytes: 0 };
  }

  /** Adds (or, with negative numbers, removes) undelivered messages of `user`. */
  addUndelivered(user: string, messages: number, bytes: number): void {
    this.statements.addUndelivered.run(user, messages, bytes);
  }
}
