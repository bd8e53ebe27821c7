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

export type Db = Database.Database;

export function openStore(path: string, dir: string): Db {
  ensurePrivateDir(dir);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Generous page cache: the hot set is recent conversations and the FTS index.
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  migrate(db);
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  return db;
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
