/**
 * Where a home's files live. Pure path logic with no native dependencies, shared by the
 * core, the CLI and the extension so that all of them find the same socket.
 */
import type * as Crypto from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Longest socket path we create: Linux allows 107 bytes, macOS 103; stay under both. */
export const MAX_SOCKET_PATH_BYTES = 100;

export interface HomePaths {
  home: string;
  store: string;
  lock: string;
  /** Who holds the lock: informational only, never used to decide whether the lock is held. */
  holder: string;
  config: string;
  token: string;
  log: string;
  socket: string;
}

export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.SWITCHBOARD_HOME ?? join(homedir(), '.switchboard'));
}

export function homePaths(home: string, env: NodeJS.ProcessEnv = process.env): HomePaths {
  return {
    home,
    store: join(home, 'store.db'),
    lock: join(home, 'lock.db'),
    holder: join(home, 'core.json'),
    config: join(home, 'config.json'),
    token: join(home, 'token'),
    log: join(home, 'core.log'),
    socket: socketPath(home, env),
  };
}

/**
 * The home of an agent identity this home's user owns (`switchboard agent create`): a full home
 * of its own (store, lock, socket, token) under `<home>/agents/<name>`, so the agent runs its
 * own core and `switchboard --home <that dir>` or `switchboard mcp --agent <name>` act as it.
 */
export function agentHome(ownerHome: string, agentName: string): string {
  return join(ownerHome, 'agents', agentName.toLowerCase());
}

/**
 * The socket sits in the home (0700) when the path fits in `sun_path`. Otherwise it goes to a
 * short directory of the user's own, named by a hash of the home so distinct homes never
 * collide: `$XDG_RUNTIME_DIR/switchboard` (per user, 0700, made by the login manager), else
 * `~/.switchboard/run` (the OS home is short on every usual system), and only when neither
 * fits the shared temp directory. Every client checks whichever it is (socket-trust.ts), so a
 * directory another user pre-created there is refused, never connected to.
 */
export function socketPath(home: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `\\\\.\\pipe\\switchboard-${homeDigest(home)}`;
  const inHome = join(home, 'core.sock');
  if (fits(inHome)) return inHome;
  const digest = homeDigest(home);
  const candidates = socketDirCandidates(env).map((dir) => join(dir, `${digest}.sock`));
  return candidates.find(fits) ?? candidates[candidates.length - 1]!;
}

/** Where a socket may go when `<home>/core.sock` is too long, best first; the core creates the one used 0700. */
export function socketDirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.XDG_RUNTIME_DIR) dirs.push(join(env.XDG_RUNTIME_DIR, 'switchboard'));
  const userHome = env.HOME || homedir();
  if (userHome) dirs.push(join(userHome, '.switchboard', 'run'));
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  dirs.push(join(tmpdir(), `switchboard-${uid}`));
  return dirs;
}

/**
 * node:crypto is required here, only when a hash is needed: loading it is a few milliseconds of
 * every CLI call's start, and a home whose socket fits in it (the usual case) never needs one.
 */
function homeDigest(home: string): string {
  const { createHash } = require('node:crypto') as typeof Crypto;
  return createHash('sha256').update(home).digest('hex').slice(0, 16);
}

function fits(path: string): boolean {
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES;
}
