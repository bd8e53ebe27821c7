/**
 * Opens the store: one SQLite file in WAL mode, migrated to the current schema.
 *
 * `synchronous = FULL`: in WAL mode every commit fsyncs the WAL before it returns, so a
 * committed transaction survives a process kill *and* a power loss. The core's WriteBatcher
 * switches its connection to NORMAL and fsyncs the WAL itself, off the event loop, before
 * anyone is told of a commit (see write-batcher.ts): the same guarantee.
 */
import Database from 'better-sqlite3';
export type Db = Database.Database;
export declare function openStore(path: string, dir: string): Db;
/** SQLite's words for "this file is not (or no longer) a database it can read". */
export declare function isCorruption(error: unknown): boolean;
export declare function schemaVersion(db: Db): number;
