/**
 * Versioned schema changes, applied in order inside one transaction each. The applied
 * version lives in SQLite's `user_version`, so a half-applied migration cannot exist.
 * Append only: never edit a migration that has shipped.
 */
import type { Database } from 'better-sqlite3';
export declare const MIGRATIONS: readonly string[];
export declare const RELAY_SCHEMA_VERSION: number;
/** Brings `db` to `target` (the latest by default; tests build older databases with a lower one). */
export declare function migrate(db: Database, target?: number): void;
