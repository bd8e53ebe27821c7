/**
 * Versioned schema migrations. Each entry runs once, in order, inside one transaction with
 * the `user_version` bump, so a crash mid-migration leaves the previous version intact.
 */

/**
 * Code-point ranges of the scripts written without spaces between words (Han, Hiragana,
 * Katakana, Thai, Lao, Tibetan, Myanmar, Khmer) and of Hangul, whose particles attach to the
 * word before them. A body holding any of them is also put in the trigram index, and a query
 * term holding any of them is matched as a substring (search-query.ts). Migration 6 and the
 * delete trigger it creates are built from this list: changing it needs a new migration that
 * rebuilds messages_trigram.
 */
export const UNSPACED_SCRIPT_RANGES: readonly (readonly [number, number])[] = [
  [0x0e00, 0x0eff], // Thai, Lao
  [0x0f00, 0x0fff], // Tibetan
  [0x1000, 0x109f], // Myanmar
  [0x1100, 0x11ff], // Hangul Jamo
  [0x1780, 0x17ff], // Khmer
  [0x2e80, 0x2fdf], // CJK radicals, Kangxi radicals
  [0x3040, 0x30ff], // Hiragana, Katakana
  [0x3130, 0x318f], // Hangul compatibility Jamo
  [0x31f0, 0x31ff], // Katakana phonetic extensions
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7ff], // Hangul syllables, Jamo extended B
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xff66, 0xff9f], // halfwidth Katakana
  [0xffa1, 0xffdc], // halfwidth Hangul
  [0x20000, 0x3134f], // CJK extensions B to G
];

/** SQLite GLOB matching a text that holds a character of UNSPACED_SCRIPT_RANGES. */
const UNSPACED_GLOB = `'*[${UNSPACED_SCRIPT_RANGES.map(([from, to]) => `${String.fromCodePoint(from)}-${String.fromCodePoint(to)}`).join('')}]*'`;

export const MIGRATIONS: readonly string[] = [
  // 1: messages with full-text search, per-conversation counters, outbox (the idempotency
  // table), events for replay-safe subscriptions, peers and sync state.
  `
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    client_message_id TEXT NOT NULL,
    server_id TEXT,
    conversation TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    reply_to TEXT,
    request_id TEXT,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'failed', 'aborted', 'received')),
    read INTEGER NOT NULL DEFAULT 0,
    -- A message to oneself is stored twice, once each way, under the one id.
    UNIQUE (id, direction)
  );
  CREATE INDEX messages_by_conversation ON messages (conversation, seq);
  CREATE INDEX messages_unread ON messages (conversation, seq) WHERE read = 0;
  CREATE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

  CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'seq');
  -- Indexed in bulk after the fact (Repository.indexForSearch), not by a per-row trigger: a
  -- trigger tripled the cost of storing a message. Search indexes what is pending first.
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.seq <= coalesce((SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'fts_seq'), 0) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
  END;

  CREATE TABLE conversations (
    peer TEXT PRIMARY KEY,
    unread INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER
  ) WITHOUT ROWID;
  -- Counters kept by triggers so unread counts stay O(1) however large the store grows.
  CREATE TRIGGER conversations_count_insert AFTER INSERT ON messages BEGIN
    INSERT INTO conversations (peer, unread, total, last_seq)
      VALUES (new.conversation, new.read = 0, 1, new.seq)
      ON CONFLICT (peer) DO UPDATE SET
        unread = unread + (new.read = 0), total = total + 1, last_seq = new.seq;
  END;
  CREATE TRIGGER conversations_count_read AFTER UPDATE OF read ON messages WHEN old.read <> new.read BEGIN
    UPDATE conversations SET unread = unread + (CASE WHEN new.read = 0 THEN 1 ELSE -1 END)
      WHERE peer = new.conversation;
  END;

  CREATE TABLE outbox (
    client_message_id TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'inflight', 'done', 'dead', 'aborted')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    server_id TEXT,
    verdict TEXT CHECK (verdict IN ('sent', 'duplicate')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX outbox_live ON outbox (state, created_at) WHERE state IN ('pending', 'inflight');

  CREATE TABLE events (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL CHECK (type IN ('message/received', 'message/updated', 'outbox/changed')),
    ref TEXT NOT NULL,
    created_at TEXT NOT NULL
  );

  CREATE TABLE peers (
    name TEXT PRIMARY KEY,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: the outbox index covers every row that is not done (pending and inflight, which the
  // sync engine claims, and dead and aborted, which wait on the user), so each of those
  // lists and counts reads only its own rows, however many sent messages the outbox holds.
  // Queries must repeat the index's \`state <> 'done'\` term for SQLite to use it.
  `
  DROP INDEX outbox_live;
  CREATE INDEX outbox_open ON outbox (state, created_at) WHERE state <> 'done';
  `,
  // 3 (ledger): an inbound message is known by the relay's server_id, not by the id its
  // sender chose, so a redelivery is recognised whatever id it carries. An inbound copy that
  // took the id of a message of someone else's (the takeover this fixes) is re-keyed to its
  // server_id, so the id shows the original again; a message to oneself keeps both copies.
  `
  CREATE INDEX messages_inbound_server_id ON messages (server_id) WHERE direction = 'in';
  UPDATE messages SET id = server_id
    WHERE direction = 'in' AND server_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM messages o WHERE o.id = messages.id AND o.direction = 'out' AND o.sender <> messages.sender)
      AND NOT EXISTS (SELECT 1 FROM messages t WHERE t.id = messages.server_id);
  `,
  // 4 (ledger): the terminal outbox state \`expired\` (the relay held the message for its whole
  // retention and no device of the recipient took it). A CHECK cannot be altered in place:
  // the table is rebuilt, rowids kept, since lists read newest first by rowid.
  `
  CREATE TABLE outbox_v4 (
    client_message_id TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'inflight', 'done', 'dead', 'aborted', 'expired')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    server_id TEXT,
    verdict TEXT CHECK (verdict IN ('sent', 'duplicate')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  INSERT INTO outbox_v4 (rowid, client_message_id, id, fingerprint, state, attempts, last_error, server_id, verdict, created_at, updated_at)
    SELECT rowid, client_message_id, id, fingerprint, state, attempts, last_error, server_id, verdict, created_at, updated_at FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_v4 RENAME TO outbox;
  CREATE INDEX outbox_open ON outbox (state, created_at) WHERE state <> 'done';
  `,
  // 5 (names): user names are case-insensitive (protocol/names.ts) and stored in lower case.
  // Names already stored are folded, and conversations and peers that differed only in case
  // become one (their counters added up): the relay now delivers both spellings as one account.
  `
  UPDATE messages SET sender = lower(sender), recipient = lower(recipient), conversation = lower(conversation)
    WHERE sender <> lower(sender) OR recipient <> lower(recipient) OR conversation <> lower(conversation);
  INSERT INTO conversations (peer, unread, total, last_seq)
    SELECT lower(peer), unread, total, last_seq FROM conversations WHERE peer <> lower(peer)
    ON CONFLICT (peer) DO UPDATE SET
      unread = unread + excluded.unread, total = total + excluded.total,
      last_seq = max(coalesce(last_seq, 0), coalesce(excluded.last_seq, 0));
  DELETE FROM conversations WHERE peer <> lower(peer);
  INSERT INTO peers (name, first_seen_at, last_seen_at)
    SELECT lower(name), first_seen_at, last_seen_at FROM peers WHERE name <> lower(name)
    ON CONFLICT (name) DO UPDATE SET
      first_seen_at = min(first_seen_at, excluded.first_seen_at), last_seen_at = max(last_seen_at, excluded.last_seen_at);
  DELETE FROM peers WHERE name <> lower(name);
  `,
  // 6 (search): a trigram index beside the word index, so text written without spaces is found
  // by any part of it (\`日本語\` finds \`日本語テキスト\`). It holds only the bodies with a
  // character of those scripts, so a store of mostly spaced text pays almost nothing for it.
  // Built here for what the word index already holds; Repository.indexForSearch keeps both
  // up to the same watermark (\`fts_seq\`), and the trigger mirrors messages_fts_delete.
  `
  CREATE VIRTUAL TABLE messages_trigram USING fts5 (body, content = 'messages', content_rowid = 'seq', tokenize = 'trigram');
  INSERT INTO messages_trigram (rowid, body)
    SELECT seq, body FROM messages
    WHERE seq <= coalesce((SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'fts_seq'), 0) AND body GLOB ${UNSPACED_GLOB}
    ORDER BY seq;
  CREATE TRIGGER messages_trigram_delete AFTER DELETE ON messages
    WHEN old.seq <= coalesce((SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'fts_seq'), 0) AND old.body GLOB ${UNSPACED_GLOB} BEGIN
    INSERT INTO messages_trigram (messages_trigram, rowid, body) VALUES ('delete', old.seq, old.body);
  END;
  `,
  // 7: the copy a requeue made, so requeueing the same entry again reports that copy instead
  // of queueing another (a requeue is idempotent).
  `
  ALTER TABLE outbox ADD COLUMN requeued_as TEXT;
  `,
  // 8 (groups, #12): a conversation is a user or a group (`#name`). Messages gain the group
  // they belong to, the mentions the relay kept, whether they mention this user (every inbound
  // direct message does), and for outbound ones the receipt counts (total recipients, how many
  // delivered, how many read), kept beside the per-recipient rows so a message reads its
  // summary without a join. Groups and their members as the relay last said; a durable queue
  // of read receipts to send; conversations count unread mentions; events admit
  // `group/changed` (a CHECK cannot be altered: the table is rebuilt as migration 4 did, its
  // cursors and its AUTOINCREMENT high-water mark kept, so no cursor is ever handed out twice).
  `
  ALTER TABLE messages ADD COLUMN group_id TEXT;
  ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE messages ADD COLUMN mentions_me INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN receipts_total INTEGER;
  ALTER TABLE messages ADD COLUMN receipts_delivered INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN receipts_read INTEGER NOT NULL DEFAULT 0;
  UPDATE messages SET mentions_me = 1 WHERE direction = 'in';
  UPDATE messages SET receipts_total = 1, receipts_delivered = (state = 'delivered') WHERE direction = 'out';
  CREATE INDEX messages_by_group ON messages (group_id) WHERE group_id IS NOT NULL;
  CREATE INDEX messages_mentioning_me ON messages (seq) WHERE mentions_me = 1;
  CREATE INDEX messages_outbound_server_id ON messages (server_id) WHERE direction = 'out';

  -- One row per recipient of an outbound message. A v7 store's delivered messages knew no
  -- time: their send time stands in.
  CREATE TABLE receipts (
    message_id TEXT NOT NULL,
    user TEXT NOT NULL,
    delivered_at TEXT,
    read_at TEXT,
    -- The relay will not deliver it to this recipient: 'quota' (their undelivered messages were
    -- at its cap when it was sent) or 'retention' (no device of theirs took it in time).
    dropped TEXT CHECK (dropped IN ('quota', 'retention')),
    PRIMARY KEY (message_id, user)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO receipts (message_id, user, delivered_at)
    SELECT id, recipient, CASE WHEN state = 'delivered' THEN created_at END FROM messages WHERE direction = 'out';

  CREATE TABLE groups (
    group_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- This user's role; NULL once it left or was removed (the history stays).
    role TEXT CHECK (role IN ('owner', 'admin', 'member')),
    created_by TEXT,
    created_at TEXT,
    last_pos INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX groups_by_name ON groups (name);
  CREATE TABLE group_members (
    group_id TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    PRIMARY KEY (group_id, user)
  ) WITHOUT ROWID;

  -- Server ids of inbound messages marked read, waiting to be told to the relay (read frames).
  CREATE TABLE read_receipts_out (
    seq INTEGER PRIMARY KEY,
    server_id TEXT NOT NULL UNIQUE
  );

  ALTER TABLE conversations ADD COLUMN unread_mentions INTEGER NOT NULL DEFAULT 0;
  UPDATE conversations SET unread_mentions =
    (SELECT count(*) FROM messages m WHERE m.conversation = conversations.peer AND m.read = 0 AND m.mentions_me = 1);
  DROP TRIGGER conversations_count_insert;
  DROP TRIGGER conversations_count_read;
  CREATE TRIGGER conversations_count_insert AFTER INSERT ON messages BEGIN
    INSERT INTO conversations (peer, unread, unread_mentions, total, last_seq)
      VALUES (new.conversation, new.read = 0, new.read = 0 AND new.mentions_me = 1, 1, new.seq)
      ON CONFLICT (peer) DO UPDATE SET
        unread = unread + (new.read = 0), unread_mentions = unread_mentions + (new.read = 0 AND new.mentions_me = 1),
        total = total + 1, last_seq = new.seq;
  END;
  CREATE TRIGGER conversations_count_read AFTER UPDATE OF read ON messages WHEN old.read <> new.read BEGIN
    UPDATE conversations SET unread = unread + (CASE WHEN new.read = 0 THEN 1 ELSE -1 END),
        unread_mentions = unread_mentions + (CASE WHEN new.mentions_me = 0 THEN 0 WHEN new.read = 0 THEN 1 ELSE -1 END)
      WHERE peer = new.conversation;
  END;

  CREATE TABLE events_v8 (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL CHECK (type IN ('message/received', 'message/updated', 'outbox/changed', 'group/changed')),
    ref TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  INSERT INTO events_v8 (cursor, type, ref, created_at) SELECT cursor, type, ref, created_at FROM events;
  DELETE FROM sqlite_sequence WHERE name = 'events_v8';
  INSERT INTO sqlite_sequence (name, seq) SELECT 'events_v8', seq FROM sqlite_sequence WHERE name = 'events';
  DROP TABLE events;
  ALTER TABLE events_v8 RENAME TO events;
  `,
  // 9 (files, #13): a message's attachments, one row each in the order the sender gave them.
  // The bytes live beside the store, content-addressed (\`files/<sha256>\`); a row says where
  // this home stands with them: inbound \`remote\` → \`downloading\` → \`ready\` (verified) or
  // \`failed\`; outbound \`ready\` (the store's copy) with \`at_relay\` set once the relay holds
  // the whole blob (a message is sent only once every one of its blobs is). Keyed like
  // messages, by id and direction (a message to oneself is stored once each way). Existing
  // messages have none: \`attachment_count\` spares them the lookup.
  `
  CREATE TABLE attachments (
    message_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    mime TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('remote', 'downloading', 'ready', 'failed')),
    transferred INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    at_relay INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, direction, idx)
  ) WITHOUT ROWID;
  CREATE INDEX attachments_by_sha ON attachments (sha256);
  CREATE INDEX attachments_uploading ON attachments (message_id) WHERE direction = 'out' AND at_relay = 0;
  CREATE INDEX attachments_downloading ON attachments (message_id) WHERE state = 'downloading';
  ALTER TABLE messages ADD COLUMN attachment_count INTEGER NOT NULL DEFAULT 0;
  `,
  // 10 (agents, #14): who owns a sender that is an agent identity, as the relay said it
  // (protocol v4 \`from_owner\`); on a peer and a group member, the latest the relay said.
  // NULL for a person, and for every row stored before: those stay as they were.
  `
  ALTER TABLE messages ADD COLUMN from_owner TEXT;
  ALTER TABLE peers ADD COLUMN owner TEXT;
  ALTER TABLE group_members ADD COLUMN owner TEXT;
  `,
  // 11 (end-to-end encryption, #18): trust on first use. Per user (a peer, or this home's own
  // user for its other devices): the device-key records first fetched and verified (\`pinned\`,
  // a JSON array of DeviceKeyRecord), records fetched since that differ from them (\`pending\`:
  // a changed or added key, until \`verify --accept-change\`), and when the safety number was
  // confirmed (\`verify --confirm\`). No rows before: every peer starts unverified.
  `
  CREATE TABLE peer_keys (
    peer TEXT PRIMARY KEY,
    pinned TEXT NOT NULL,
    pending TEXT,
    pinned_at TEXT NOT NULL,
    changed_at TEXT,
    verified_at TEXT
  ) WITHOUT ROWID;
  `,
];

/** For Repository.indexForSearch: the same test migration 6 applies. */
export const UNSPACED_BODY_GLOB = UNSPACED_GLOB;
