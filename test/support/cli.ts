/** Runs the built CLI and the core as real child processes, each in its own temp home. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExitCode } from '../../lib/node/cli/errors';
import { homePaths } from '../../lib/node/paths';
import { socketAnswers } from '../../server/socket-probe';
import { reapWithThisProcess } from './reap';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const DAEMON = join(ROOT, 'dist', 'daemon.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempHome(prefix = 'sb-'): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Added to (or overriding) this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Variables of this process's environment the CLI must not see (after `env` is applied). */
  unsetEnv?: readonly string[];
  /** The CLI's working directory (this process's when absent). */
  cwd?: string;
}

/** Runs `switchboard <args>` against `home`, bounded by `timeoutMs`. */
export function run(home: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHBOARD_HOME: home, ...options.env };
  for (const name of options.unsetEnv ?? []) delete env[name];
  return new Promise((resolvePromise, reject) => {
    const child = reapWithThisProcess(spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`switchboard ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export async function runOk(home: string, args: string[], expectedCode = 0): Promise<string> {
  const r = await run(home, args);
  if (r.code !== expectedCode) throw new Error(`switchboard ${args.join(' ')} exited ${r.code} (wanted ${expectedCode}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A CLI run, described for an assertion message. */
export function told(args: string[], r: RunResult): string {
  return `switchboard ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** Runs and asserts exit 0 and an empty stderr; returns stdout. */
export async function ok(home: string, args: string[]): Promise<string> {
  const r = await run(home, args);
  assert.equal(r.code, 0, told(args, r));
  assert.equal(r.stderr, '', told(args, r));
  return r.stdout;
}

/** `ok` of the verb under --json: its one object, parsed. */
export async function okJson<T>(home: string, args: string[]): Promise<T> {
  return JSON.parse(await ok(home, [...args, '--json'])) as T;
}

/**
 * A refusal: exit 1, nothing on stdout, one line on stderr matching `line`; asked again under
 * --json, the error object's `code`.
 */
export async function refusedWith(home: string, args: string[], code: string, line: RegExp): Promise<void> {
  const human = await run(home, args);
  assert.equal(human.code, ExitCode.Failed, told(args, human));
  assert.equal(human.stdout, '', told(args, human));
  assert.match(human.stderr, line, told(args, human));
  assert.equal(human.stderr.split('\n').length, 2, `one line: ${told(args, human)}`);
  const machine = await run(home, [...args, '--json']);
  assert.equal(machine.code, ExitCode.Failed, told(args, machine));
  assert.equal((JSON.parse(machine.stderr) as { error: { code: string } }).error.code, code, told(args, machine));
}

/**
 * What a CLI test file undoes in its `after`: temp homes, relays, cores, each pushed as it is
 * made and undone last-made first (a core is killed before its home is removed).
 */
export class Cleanups {
  private readonly steps: (() => void | Promise<void>)[] = [];

  push(...steps: (() => void | Promise<void>)[]): void {
    this.steps.push(...steps);
  }

  /** A fresh temp home, removed by `run`. */
  home(prefix: string): string {
    const { home, cleanup } = tempHome(prefix);
    this.steps.push(cleanup);
    return home;
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step();
  }
}

/** Starts a core in the foreground of a child process we own, and waits until it answers. */
export async function startCore(home: string, extraArgs: string[] = []): Promise<ChildProcess> {
  const child = reapWithThisProcess(spawn(process.execPath, [DAEMON, '--home', home, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await socketAnswers(homePaths(home).socket)) return child;
    if (child.exitCode !== null) throw new Error(`core exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`core did not come up: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the core's own entry point in the foreground until it exits (it must, within 20 s). */
export function runDaemon(home: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = reapWithThisProcess(spawn(process.execPath, [DAEMON, '--home', home], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the core did not exit; stderr: ${stderr}`));
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
}

/** The unprivileged user tests run a command as, when they run as root, so that file modes apply. */
export const NOBODY = 65534;

/**
 * Why the built CLI cannot run as NOBODY here, or undefined when it can. A checkout, or a temp
 * directory (TMPDIR), below a directory only its owner may enter (`mktemp -d` makes one) is out
 * of that user's reach; the probe asks NOBODY to read the CLI, load the SQLite addon and write in a
 * home made the way the tests make theirs.
 */
export function nobodyCannotRunCli(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const addon = join(ROOT, 'node_modules', 'better-sqlite3');
  const { home, cleanup } = tempHome('sb-nobody-probe-');
  try {
    chmodSync(home, 0o755);
    chownSync(home, NOBODY, NOBODY);
    const script = 'const fs = require("fs"); const [cli, addon, home] = process.argv.slice(1); fs.accessSync(cli, fs.constants.R_OK); new (require(addon))(":memory:").close(); fs.writeFileSync(home + "/probe", "")';
    const probe = spawnSync(process.execPath, ['-e', script, CLI, addon, home], { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
    if (probe.status === 0) return undefined;
    return `uid ${NOBODY} cannot read ${CLI}, load the SQLite addon or write in a home under ${tmpdir()} (a directory above one of them is closed to other users), so file modes cannot be tested as another user here`;
  } finally {
    cleanup();
  }
}
