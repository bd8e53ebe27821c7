/** Dialling the core's socket and starting a detached core. Node only, no `vscode`. */
import { execFile } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { assertTrustedSocket, isUntrustedSocket } from '../lib/node/socket-trust';

export class DialError extends Error {
  constructor(
    message: string,
    /** True when nobody listens (no socket file, refused): worth starting a core. */
    readonly noCore: boolean,
  ) {
    super(message);
  }
}

/**
 * Connect to the core's socket, or fail with a DialError saying whether a core seems absent.
 * A socket that is not ours alone is refused before connecting (noCore false: never spawn a
 * core beside it, and never send it the token).
 */
export function dial(path: string, timeoutMs = 3000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    try {
      assertTrustedSocket(path);
    } catch (error) {
      return reject(isUntrustedSocket(error) ? new DialError(error.message, false) : error);
    }
    const sock = createConnection({ path });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DialError(`the core's socket ${path} did not accept a connection within ${timeoutMs} ms`, false));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      const noCore = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK';
      reject(new DialError(noCore ? `no core is listening on ${path}` : `cannot connect to ${path}: ${err.code ?? err.message}`, noCore));
    });
  });
}

export interface SpawnOptions {
  runtime: string;
  cliPath: string;
  home: string;
  /** Seconds without clients before the spawned core exits; 0 keeps it running. */
  idleExitSeconds: number;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function spawnArgs(o: Pick<SpawnOptions, 'cliPath' | 'idleExitSeconds'>): string[] {
  const args = [o.cliPath, 'daemon', 'start'];
  if (o.idleExitSeconds > 0) args.push('--idle-exit', String(Math.floor(o.idleExitSeconds)));
  return args;
}

/**
 * Run `switchboard daemon start`: it detaches the core (so it outlives this window and
 * serves every window and the CLI) and exits 0 once the core answers, or if one already runs.
 */
export function startCore(o: SpawnOptions): Promise<{ ok: true } | { ok: false; message: string }> {
  const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env), SWITCHBOARD_HOME: o.home };
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.NODE_OPTIONS; // a debugger or loader from the extension host must not leak into the core
  return new Promise((resolve) => {
    execFile(o.runtime, spawnArgs(o), { env, timeout: o.timeoutMs ?? 30_000, windowsHide: true, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return resolve({ ok: true });
      const line = String(stderr ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .pop();
      const e = error as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.killed ? 'timed out waiting for the core to answer' : e.code === 'ENOENT' ? `${o.runtime} not found` : (line ?? e.message.split('\n')[0] ?? 'failed');
      resolve({ ok: false, message: `could not start the core: ${why}` });
    });
  });
}

/** Exponential backoff with a cap: 0.5 s, 1 s, 2 s … 30 s. */
export function backoffMs(attempt: number, baseMs = 500, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
}
