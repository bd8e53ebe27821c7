/**
 * Opens the store: one SQLite file in WAL mode, migrated to the current schema.
 *
 * `synchronous = FULL`: in WAL mode every commit fsyncs the WAL before it returns, so a
 * committed transaction survives a process kill *and* a power loss. The core's WriteBatcher
 * switches its connection to NORMAL and fsyncs the WAL itself, off the event loop, before
 * anyone is told of a commit (see write-batcher.ts): the same guarantee.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { MIGRATIONS } from './migrations';
import { ensurePrivateDir } from '../fs-private';
import { errorMessage } from '../../lib/error-message';

export type Db = Database.Database;

export function openStore(path: string, dir: string): Db {
  ensurePrivateDir(dir);
  const db = new Database(path);
  try {
    configure(db);
  } catch (error) {
    db.close();
    throw isCorruption(error) ? corruptStoreError(path, error) : error;
  }
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  return db;
}

/** SQLite's words for "this file is not (or no longer) a database it can read". */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

/**
 * Names the file and the way out. A fresh store starts empty: the relay sends it again only
 * what this device has not acknowledged yet (it resumes from the device's acked cursor, and
 * the device id lives in config.json, not in the store), so history is lost unless recovered.
 */
function corruptStoreError(path: string, error: unknown): Error {
  return new Error(
    `the store ${path} is damaged (SQLite: ${errorMessage(error)}); move it aside (mv ${path} ${path}.damaged, with any -wal/-shm beside it) and run the command again: a fresh store is created, and the relay sends again only messages this device had not yet acknowledged (recover older ones from the damaged file with \`sqlite3 ${path}.damaged .recover\`)`,
  );
}

function configure(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Generous page cache: the hot set is recent conversations and the FTS index.
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  migrate(db);
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(`the store has schema version ${current}, newer than this build understands (${MIGRATIONS.length}); upgrade switchboard`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
