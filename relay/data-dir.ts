/**
 * Where the relay keeps its files, and making sure nobody else can read them: the database
 * holds token hashes and every undelivered message.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const RELAY_DB_FILE = 'relay.db';

export function defaultRelayDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SWITCHBOARD_RELAY_DATA || join(homedir(), '.switchboard-relay'));
}

export function relayDbPath(dataDir: string): string {
  return join(dataDir, RELAY_DB_FILE);
}

/**
 * Creates the directory 0700 and the database file 0600 before SQLite touches them. SQLite
 * gives its -wal and -shm files the database file's mode, so they inherit 0600 as well.
 */
export function prepareDataDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') chmodSync(dataDir, 0o700);
  const dbPath = relayDbPath(dataDir);
  if (!existsSync(dbPath)) closeSync(openSync(dbPath, 'a', 0o600));
  if (process.platform !== 'win32') chmodSync(dbPath, 0o600);
  return dbPath;
}
