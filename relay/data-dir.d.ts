export declare const RELAY_DB_FILE = "relay.db";
export declare function defaultRelayDataDir(env?: NodeJS.ProcessEnv): string;
export declare function relayDbPath(dataDir: string): string;
/**
 * Creates the directory 0700 and the database file 0600 before SQLite touches them. SQLite
 * gives its -wal and -shm files the database file's mode, so they inherit 0600 as well.
 */
export declare function prepareDataDir(dataDir: string): string;
