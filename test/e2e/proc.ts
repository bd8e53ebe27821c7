/** Process helpers for the e2e harness: free ports, bounded waits, kill-by-PID teardown. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants } from 'node:os';
import { withTimeout } from '../../lib/node/with-timeout';


export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


/** A child process whose combined output is kept (bounded) for diagnostics and waits. */
export class Proc {
  readonly child: ChildProcess;
  private out = '';
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private listeners = new Set<() => void>();

  constructor(readonly name: string, command: string, args: string[], opts: SpawnOptions) {
    // detached: own process group, so teardown can signal the whole group by our child's PID
    // (code-server forks an extension host, pty host and file watcher).
    this.child = spawn(command, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (b: Buffer) => {
      this.out += b.toString('utf8');
      if (this.out.length > 2_000_000) this.out = this.out.slice(-1_000_000);
      for (const l of this.listeners) l();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((r) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        for (const l of this.listeners) l();
        r(this.exitCode);
      });
      this.child.on('error', (err) => {
        this.out += `\n[spawn error] ${err.message}\n`;
        this.exitCode = -1;
        for (const l of this.listeners) l();
        r(-1);
      });
    });
    liveGroups.add(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get output(): string {
    return this.out;
  }
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the match once the output matches `re`; rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolveMatch, reject) => {
      const check = () => {
        const m = this.out.match(re);
        if (m) return done(() => resolveMatch(m));
        if (!this.running) {
          done(() => reject(new Error(`${this.name} exited (${this.exitCode}) before printing ${re}:\n${this.tail()}`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms:\n${this.tail()}`))),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves with the exit code, or rejects after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<number | null> {
    return withTimeout(this.exited, timeoutMs, `${this.name} exit`);
  }

  tail(chars = 4000): string {
    return this.out.slice(-chars);
  }

  /** Drops the exit-time safety net for a process that finished and left no children. */
  forget(): void {
    liveGroups.delete(this);
  }

  /** SIGTERM the process group, SIGKILL it if still there after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    liveGroups.delete(this);
    const pid = this.child.pid;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    try {
      if (this.running) await this.waitExit(graceMs);
    } catch {
      /* fall through to SIGKILL */
    }
    // The leader may be gone while forked children linger in its group: always sweep.
    await sleep(200);
    signalGroup(pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* group already gone */
  }
}

const liveGroups = new Set<Proc>();
// Last resort if a test run dies without teardown: kill the groups we started, by PID.
function killLiveGroups(): void {
  for (const p of liveGroups) if (p.pid !== undefined) signalGroup(p.pid, 'SIGKILL');
  liveGroups.clear();
}
process.on('exit', killLiveGroups);
// A test file stopped by a signal (runner timeout, Ctrl-C): clean up and exit as the signal would.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killLiveGroups();
    process.exit(128 + (constants.signals[sig] ?? 15));
  });
}

/** Runs a command to completion (bounded); resolves with its output, rejects on failure. */
export async function run(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs: number },
): Promise<string> {
  const p = new Proc(name, command, args, opts);
  let code: number | null;
  try {
    code = await p.waitExit(opts.timeoutMs);
  } catch (err) {
    await p.stop(1000);
    throw new Error(`${name} did not finish within ${opts.timeoutMs} ms:\n${p.tail()}`, { cause: err });
  }
  p.forget();
  if (code !== 0) throw new Error(`${name} failed (exit ${code}):\n${p.tail()}`);
  return p.output;
}
