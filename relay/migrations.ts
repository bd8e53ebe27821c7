/**
 * Versioned schema changes, applied in order inside one transaction each. The applied
 * version lives in SQLite's `user_version`, so a half-applied migration cannot exist.
 * Append only: never edit a migration that has shipped.
 */
import type { Database } from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    salt BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  -- Revoked rows stay for the record; at most one active credential per name.
  CREATE UNIQUE INDEX users_active_name ON users(name) WHERE revoked_at IS NULL;

  CREATE TABLE devices (
    user TEXT NOT NULL,
    device TEXT NOT NULL,
    acked INTEGER NOT NULL DEFAULT 0,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (user, device)
  ) WITHOUT ROWID;

  CREATE TABLE sequences (
    user TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE deliveries (
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (user, seq)
  ) WITHOUT ROWID;

  CREATE TABLE dedupe (
    sender TEXT NOT NULL,
    client_message_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (sender, client_message_id)
  ) WITHOUT ROWID;

  -- Messages whose sender already got a receipt: one receipt per message, on the first ack.
  CREATE TABLE receipts_sent (
    server_id TEXT PRIMARY KEY
  ) WITHOUT ROWID;
  `,
  // 2 (ledger): ages for retention and pruning, the owner of every message id, and per-recipient
  // counters of undelivered messages for quotas. Rows already stored count as stored now, so an
  // upgrade never expires anything at once. Additive only.
  `
  ALTER TABLE deliveries ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  UPDATE deliveries SET created_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
  CREATE INDEX deliveries_by_age ON deliveries (created_at);

  ALTER TABLE dedupe ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  UPDATE dedupe SET created_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
  CREATE INDEX dedupe_by_age ON dedupe (created_at);
  -- A message id belongs to the first send that used it (while its dedupe row is kept).
  CREATE INDEX dedupe_by_id ON dedupe (id);

  ALTER TABLE receipts_sent ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  UPDATE receipts_sent SET created_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
  CREATE INDEX receipts_sent_by_age ON receipts_sent (created_at);

  -- Messages waiting for a recipient that no device of it has acked yet: what quotas count.
  CREATE TABLE undelivered (
    user TEXT PRIMARY KEY,
    messages INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO undelivered (user, messages, bytes)
    SELECT user, count(*), sum(length(CAST(item AS BLOB))) FROM deliveries
    WHERE json_extract(item, '$.kind') = 'message'
      AND json_extract(item, '$.server_id') NOT IN (SELECT server_id FROM receipts_sent)
    GROUP BY user;
  `,
  // Token hash kind (additive; renumber freely on merge). Rows written before it are scrypt;
  // new rows are SHA-256, and a scrypt row is rewritten as SHA-256 on its next good login.
  `
  ALTER TABLE users ADD COLUMN hash_kind TEXT NOT NULL DEFAULT 'scrypt' CHECK (hash_kind IN ('scrypt', 'sha256'));
  `,
  // User names are case-insensitive from here on (protocol/names.ts): the relay folds every name
  // it is given to lower case, so stored names are folded too. A name is folded only when it is
  // the one spelling of itself anywhere in the data: where \`Bob\` and \`bob\` both exist, each
  // keeps its rows as they are and nothing of one is merged into the other (\`relay serve\`
  // names such an account at startup; it cannot log in until the operator settles it,
  // docs/operations.md). Delivery items carry names too; json_set rewrites only the value, so
  // an item keeps its byte length and the quota counters stay exact.
  `
  CREATE TEMP TABLE name_spellings AS
    SELECT name AS spelling FROM users
    UNION SELECT user FROM devices
    UNION SELECT user FROM sequences
    UNION SELECT user FROM deliveries
    UNION SELECT sender FROM dedupe
    UNION SELECT user FROM undelivered
    UNION SELECT json_extract(item, '$.message.from') FROM deliveries WHERE json_extract(item, '$.kind') = 'message'
    UNION SELECT json_extract(item, '$.message.to') FROM deliveries WHERE json_extract(item, '$.kind') = 'message'
    UNION SELECT json_extract(item, '$.by') FROM deliveries WHERE json_extract(item, '$.kind') = 'receipt'
    UNION SELECT json_extract(item, '$.to') FROM deliveries WHERE json_extract(item, '$.kind') = 'expired';
  -- One group per name ignoring case; a group of one spelling that is not lower case is folded.
  CREATE TEMP TABLE name_folds AS
    SELECT min(spelling) AS spelling FROM name_spellings WHERE spelling IS NOT NULL
    GROUP BY lower(spelling) HAVING count(*) = 1 AND min(spelling) <> lower(min(spelling));

  UPDATE users SET name = lower(name) WHERE name IN (SELECT spelling FROM name_folds);
  UPDATE devices SET user = lower(user) WHERE user IN (SELECT spelling FROM name_folds);
  UPDATE sequences SET user = lower(user) WHERE user IN (SELECT spelling FROM name_folds);
  UPDATE deliveries SET user = lower(user) WHERE user IN (SELECT spelling FROM name_folds);
  UPDATE dedupe SET sender = lower(sender) WHERE sender IN (SELECT spelling FROM name_folds);
  UPDATE undelivered SET user = lower(user) WHERE user IN (SELECT spelling FROM name_folds);
  UPDATE deliveries SET item = json_set(item, '$.message.from', lower(json_extract(item, '$.message.from')))
    WHERE json_extract(item, '$.kind') = 'message' AND json_extract(item, '$.message.from') IN (SELECT spelling FROM name_folds);
  UPDATE deliveries SET item = json_set(item, '$.message.to', lower(json_extract(item, '$.message.to')))
    WHERE json_extract(item, '$.kind') = 'message' AND json_extract(item, '$.message.to') IN (SELECT spelling FROM name_folds);
  UPDATE deliveries SET item = json_set(item, '$.by', lower(json_extract(item, '$.by')))
    WHERE json_extract(item, '$.kind') = 'receipt' AND json_extract(item, '$.by') IN (SELECT spelling FROM name_folds);
  UPDATE deliveries SET item = json_set(item, '$.to', lower(json_extract(item, '$.to')))
    WHERE json_extract(item, '$.kind') = 'expired' AND json_extract(item, '$.to') IN (SELECT spelling FROM name_folds);

  DROP TABLE temp.name_folds;
  DROP TABLE temp.name_spellings;
  `,
  // Groups (protocol v2, docs/relay.md "Groups"). Additive: every v1 row keeps its meaning.
  // - groups, group_members (one row per membership span: joined at a timeline position, left at
  //   one; the current members are the rows with no left_pos), group_timeline (each group
  //   message and membership event stored once, at its position, until retention has dropped
  //   every fan-out row that references it).
  // - deliveries: a fan-out row references its timeline entry (ref_group, ref_pos; item is '')
  //   instead of holding a copy; min_version is the lowest protocol version that may be sent it
  //   (2 for anything a v1 core cannot parse); origin_device marks a copy of the user's own
  //   message, not sent back to the device that sent it.
  // - member_receipts: one delivered and one read receipt per (message, member), for group
  //   messages and read receipts; a direct message's delivered receipt stays in receipts_sent.
  // - dedupe.recipient: whom a direct message went to, so a read receipt can be checked and routed.
  `
  CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_pos INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE group_members (
    group_id INTEGER NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_pos INTEGER NOT NULL,
    left_pos INTEGER,
    PRIMARY KEY (group_id, user, joined_pos)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX group_members_current ON group_members (group_id, user) WHERE left_pos IS NULL;
  CREATE INDEX group_members_by_user ON group_members (user) WHERE left_pos IS NULL;
  CREATE TABLE group_timeline (
    group_id INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    server_id TEXT NOT NULL,
    item TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, pos)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX group_timeline_by_server_id ON group_timeline (server_id);
  CREATE INDEX group_timeline_by_age ON group_timeline (created_at);

  ALTER TABLE deliveries ADD COLUMN min_version INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE deliveries ADD COLUMN origin_device TEXT;
  ALTER TABLE deliveries ADD COLUMN ref_group INTEGER;
  ALTER TABLE deliveries ADD COLUMN ref_pos INTEGER;
  -- Retention drops a timeline entry once no fan-out row references it (GroupStore.pruneTimeline).
  CREATE INDEX deliveries_by_ref ON deliveries (ref_group, ref_pos) WHERE ref_group IS NOT NULL;

  CREATE TABLE member_receipts (
    server_id TEXT NOT NULL,
    user TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('delivered', 'read')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (server_id, user, status)
  ) WITHOUT ROWID;
  CREATE INDEX member_receipts_by_age ON member_receipts (created_at);

  ALTER TABLE dedupe ADD COLUMN recipient TEXT;
  CREATE INDEX dedupe_by_server_id ON dedupe (server_id);
  `,
  // Files (protocol v3, docs/relay.md "Files"). Additive. The bytes are files under the data dir
  // (blobs/ab/<sha256>, partial uploads under blobs/partial/<user>/); these tables say which
  // blobs are complete, who may use each, and who has yet to take it.
  // - blobs: one row per complete, verified, durable blob; last_used_at ages a blob no message
  //   keeps (uploaded and never sent, or every recipient gone) for the retention sweep.
  // - blob_access: who may blob_get a blob, and send it without uploading it again: its
  //   uploader(s), each recipient of a message naming it, the sender's own devices (the user).
  // - blob_refs: what keeps a blob: one row per recipient device the relay knew (at protocol 3
  //   or later) when the message was sent, or '' for a recipient with none yet (the first of its
  //   devices to take it). A blob_done deletes its rows; retention deletes a message's rows.
  // - devices.version: the protocol a device last said hello with.
  `
  CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX blobs_by_use ON blobs (last_used_at);
  CREATE TABLE blob_access (
    sha256 TEXT NOT NULL,
    user TEXT NOT NULL,
    PRIMARY KEY (sha256, user)
  ) WITHOUT ROWID;
  CREATE TABLE blob_refs (
    sha256 TEXT NOT NULL,
    server_id TEXT NOT NULL,
    user TEXT NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (sha256, server_id, user, device)
  ) WITHOUT ROWID;
  CREATE INDEX blob_refs_by_taker ON blob_refs (user, sha256);
  CREATE INDEX blob_refs_by_message ON blob_refs (server_id, user);
  ALTER TABLE devices ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  `,
  // Agent identities (protocol v4, docs/relay.md "Agents"). Additive: every account so far is a
  // person's (owner NULL), as is every account `relay add-user` makes from here on.
  // - users.owner: the person an agent account belongs to; set by `agent_create` only.
  // - agent_sends: what each agent sent that the relay accepted (count, last at), for its owner's
  //   `agent_list`; kept past retention and dedupe pruning, which would otherwise forget it.
  `
  ALTER TABLE users ADD COLUMN owner TEXT;
  CREATE INDEX users_by_owner ON users (owner) WHERE owner IS NOT NULL;
  CREATE TABLE agent_sends (
    user TEXT PRIMARY KEY,
    messages INTEGER NOT NULL,
    last_sent_at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // The key directory (protocol v5, docs/security.md): one signed public-key record per device
  // of a user, as the device published it (JSON). Additive: no device has published yet.
  `
  CREATE TABLE device_keys (
    user TEXT NOT NULL,
    device TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user, device)
  ) WITHOUT ROWID;
  `,
];

export const RELAY_SCHEMA_VERSION = MIGRATIONS.length;

/** Brings `db` to `target` (the latest by default; tests build older databases with a lower one). */
export function migrate(db: Database, target: number = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true });
  if (typeof current !== 'number') throw new Error('cannot read the relay database schema version');
  if (current > MIGRATIONS.length) {
    throw new Error(`the relay database has schema version ${current}, newer than this relay (${MIGRATIONS.length}); upgrade the relay`);
  }
  for (let version = current; version < target; version++) {
    const sql = MIGRATIONS[version];
    if (sql === undefined) break;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
