/**
 * Runs the built relay (`node dist/relay.js`) as a real child process on 127.0.0.1 in a temp
 * data dir, adds and revokes users with its CLI, and points a Switchboard home at it with
 * `switchboard init`. Every process is tracked and killed by its PID (`killAll`), and every
 * wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runOk } from './cli';
import { reapWithThisProcess } from './reap';

export const RELAY = join(ROOT, 'dist', 'relay.js');

export interface RelayRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/relay.js <args>` to completion, bounded by `timeoutMs`. */
export function runRelay(args: string[], timeoutMs = 20_000): Promise<RelayRun> {
  return new Promise((resolve, reject) => {
    const child = reapWithThisProcess(spawn(process.execPath, [RELAY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`relay ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One `relay serve` process. `stderr()` is everything it logged so far (its log goes to stderr). */
export interface RelayProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  stderr(): string;
}

export class TestRelay {
  readonly dataDir: string;
  /** Fixed after the first start, so restarts come back on the same port. */
  port = 0;
  current: RelayProcess | undefined;
  /** Every serve process ever started here, for log inspection. */
  readonly runs: RelayProcess[] = [];
  private readonly extraArgs: string[];

  constructor(options: { extraArgs?: string[] } = {}) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'sb-relay-'));
    this.extraArgs = options.extraArgs ?? [];
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Starts `relay serve` (port 0 the first time, the same port afterwards) and waits for its listening line. */
  async start(timeoutMs = 20_000): Promise<RelayProcess> {
    if (this.current && this.current.child.exitCode === null && this.current.child.signalCode === null) throw new Error('relay already running');
    const args = [RELAY, 'serve', '--host', '127.0.0.1', '--port', String(this.port), '--data', this.dataDir, ...this.extraArgs];
    // A port freed by kill -9 can take a moment to be bindable again; retry EADDRINUSE briefly.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const proc = await this.spawnOnce(args, Math.max(1000, deadline - Date.now()));
        this.port = proc.port;
        this.current = proc;
        this.runs.push(proc);
        return proc;
      } catch (error) {
        if (!/EADDRINUSE/.test((error as Error).message) || Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private spawnOnce(args: string[], timeoutMs: number): Promise<RelayProcess> {
    return new Promise((resolve, reject) => {
      const child = reapWithThisProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
      liveChildren.add(child);
      let stdout = '';
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        killChild(child);
        reject(new Error(`relay did not start listening within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      child.on('exit', (code, signal) => {
        liveChildren.delete(child);
        clearTimeout(timer);
        reject(new Error(`relay exited (${code ?? signal}) before listening: ${stderr}`));
      });
      child.stdout!.on('data', (d) => {
        stdout += d;
        const match = /relay listening on (ws:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve({ child, pid: child.pid!, port: Number(match[2]), url: match[1]!, stderr: () => stderr });
        }
      });
    });
  }

  /** kill -9 the running relay and wait until it is gone. */
  async kill9(): Promise<void> {
    const proc = this.current;
    this.current = undefined;
    if (proc) await killChild(proc.child);
  }

  async restart(): Promise<RelayProcess> {
    await this.kill9();
    return this.start();
  }

  async addUser(name: string): Promise<string> {
    const r = await runRelay(['add-user', name, '--data', this.dataDir, '--json']);
    if (r.code !== 0) throw new Error(`relay add-user ${name} exited ${r.code}: ${r.stderr}`);
    const parsed = JSON.parse(r.stdout) as { user: string; token: string };
    if (parsed.user !== name || !parsed.token) throw new Error(`relay add-user printed ${r.stdout}`);
    return parsed.token;
  }

  async revoke(name: string): Promise<void> {
    const r = await runRelay(['revoke', name, '--data', this.dataDir]);
    if (r.code !== 0) throw new Error(`relay revoke ${name} exited ${r.code}: ${r.stderr}`);
  }

  /** Adds `user` to the relay and runs `switchboard init` in `home` (direct, or through its core when one runs). */
  async configureHome(home: string, user: string): Promise<string> {
    const token = await this.addUser(user);
    await runOk(home, ['init', '--relay', this.url, '--user', user, '--token', token]);
    return token;
  }

  /** Kills the relay and removes its data dir. */
  async dispose(): Promise<void> {
    await this.kill9();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const liveChildren = new Set<ChildProcess>();

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        resolve();
      }
    }
  });
}

/** Kills, by PID, every relay process started here that is still running. */
export async function killAllRelays(): Promise<void> {
  await Promise.all([...liveChildren].map((child) => killChild(child)));
  liveChildren.clear();
}
