/**
 * Where a home's files live. Pure path logic with no native dependencies, shared by the
 * core, the CLI and the extension so that all of them find the same socket.
 */
import { createHash } from 'node:crypto';
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
 * The socket sits in the home (0700) when the path fits in `sun_path`; otherwise in a short
 * per-user directory named by a hash of the home, so distinct homes never collide.
 */
export function socketPath(home: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const digest = createHash('sha256').update(home).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\switchboard-${digest}`;
  const inHome = join(home, 'core.sock');
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH_BYTES) return inHome;
  return join(shortSocketDir(env), `${digest}.sock`);
}

/** The fallback directory for sockets; the core creates it 0700 before binding. */
export function shortSocketDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'switchboard');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join(tmpdir(), `switchboard-${uid}`);
}
