/**
 * The world around the workbench for the Switchboard scenarios: a real relay process on
 * 127.0.0.1, a peer "bob" (a real core in a temp home, configured with `switchboard init`,
 * driven with the CLI), a temp home for the workbench's user "alice", and the real extension
 * packed with vsce. Everything started here is stopped by PID in `dispose()`; every wait is
 * bounded.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../../protocol/rpc';
import { kill9 as killChild, run, runOk, startCore } from '../support/cli';
import { TestRelay } from '../support/relay';
import { REPO_ROOT } from './paths';
import { sleep } from './proc';
import { errorMessage } from '../../lib/error-message';

/**
 * Packs the real extension (dist/ as built, better-sqlite3 included) with vsce into `dir`.
 * Asynchronous on purpose: callers start a relay and cores meanwhile, whose startup waits are
 * timers on this event loop; a synchronous pack held the loop for its whole run, and a slow
 * pack then expired those timers before the child's "listening" line could be read.
 */
export async function packSwitchboard(dir: string): Promise<string> {
  const out = join(dir, 'switchboard.vsix');
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  await promisify(execFile)(
    process.execPath,
    [vsce, 'package', '--no-update-package-json', '--no-git-tag-version', '--allow-missing-repository', '--skip-license', '--readme-path', 'docs/extension.md', '-o', out],
    { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const { stdout: listing } = await promisify(execFile)('unzip', ['-l', out], { encoding: 'utf8', timeout: 20_000 });
  if (!listing.includes('extension/node_modules/better-sqlite3/build/Release/better_sqlite3.node')) {
    throw new Error(`${out} lacks better-sqlite3's native module:\n${listing}`);
  }
  return out;
}

/** Polls `probe` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${errorMessage(last)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

export interface SendJson {
  status: 'sent' | 'duplicate' | 'queued' | 'failed';
  id: string;
  client_message_id: string;
  to: string;
}

export class World {
  readonly relay = new TestRelay();
  readonly root = mkdtempSync(join(tmpdir(), 'sb-e2e-world-'));
  /** The workbench user's home (SWITCHBOARD_HOME of code-server → extension host → core). */
  readonly aliceHome = join(this.root, 'alice');
  readonly bobHome = join(this.root, 'bob');
  aliceToken = '';
  private bobCore: ChildProcess | undefined;
  /** Core pids of alice's home seen so far (the extension starts them; we kill them at the end). */
  private readonly alicePids = new Set<number>();

  async start(): Promise<void> {
    await this.relay.start();
    this.aliceToken = await this.relay.addUser('alice');
    await this.relay.configureHome(this.bobHome, 'bob');
    this.bobCore = await startCore(this.bobHome);
  }

  get relayUrl(): string {
    return this.relay.url;
  }

  /** `switchboard <args>` in bob's home (delegated to bob's core). */
  bob(args: string[]): Promise<string> {
    return runOk(this.bobHome, args);
  }

  async bobSend(body: string): Promise<SendJson> {
    const out = JSON.parse(await this.bob(['send', '--to', 'alice', '-m', body, '--json'])) as SendJson;
    if (out.status !== 'sent') throw new Error(`bob's send was ${out.status}: ${JSON.stringify(out)}`);
    return out;
  }

  async bobInbox(): Promise<Message[]> {
    return (JSON.parse(await this.bob(['inbox', '--json', '--limit', '200'])) as { messages: Message[] }).messages;
  }

  /** Waits until bob's `switchboard inbox --json` has a message from alice with this body. */
  async bobReceives(body: string, timeoutMs = 30_000): Promise<Message> {
    return eventually(`bob's inbox shows "${body}"`, async () => (await this.bobInbox()).find((m) => m.from === 'alice' && m.body === body), timeoutMs);
  }

  /** The pid of the core that owns alice's home, from `switchboard status --json` (delegated). */
  async aliceCorePid(): Promise<number | undefined> {
    const r = await run(this.aliceHome, ['status', '--json'], { timeoutMs: 15_000 });
    if (r.code !== 0) return undefined;
    const s = JSON.parse(r.stdout) as { pid?: number; core_running?: boolean; delegated?: boolean };
    if (!s.delegated || typeof s.pid !== 'number') return undefined;
    this.alicePids.add(s.pid);
    return s.pid;
  }

  /** core.json of alice's home (written by the running core). */
  aliceCoreJson(): { kind?: string; pid?: number } | undefined {
    const f = join(this.aliceHome, 'core.json');
    if (!existsSync(f)) return undefined;
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as { kind?: string; pid?: number };
    } catch {
      return undefined;
    }
  }

  /** kill -9 a pid we recorded, and wait (bounded) until it is gone. */
  async kill9Pid(pid: number, timeoutMs = 10_000): Promise<void> {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    await eventually(`pid ${pid} gone`, async () => !isAlive(pid), timeoutMs, 50);
  }

  /**
   * Stops everything started for this world, by PID. Call after the workbench is closed (an
   * extension host still running would start a new core). alice's cores were started by the
   * extension (detached): each pid seen is killed only while it is still a core of alice's home.
   */
  async dispose(): Promise<void> {
    await this.aliceCorePid().catch(() => undefined);
    const fromFile = this.aliceCoreJson()?.pid;
    if (typeof fromFile === 'number') this.alicePids.add(fromFile);
    for (const pid of this.alicePids) {
      if (isCoreOf(pid, this.aliceHome)) await this.kill9Pid(pid).catch(() => undefined);
    }
    if (this.bobCore) await killChild(this.bobCore);
    await this.relay.dispose();
    rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Whether `pid` is alive and runs with SWITCHBOARD_HOME=home (guards against pid reuse). */
export function isCoreOf(pid: number, home: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return env.includes(`SWITCHBOARD_HOME=${home}`) || argv.includes(home);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
