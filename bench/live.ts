/**
 * A live system for a benchmark: a real relay process and one real core per user, each core
 * configured on the relay, online, and a client of its socket. The end-to-end and files
 * benchmarks both stand on it, so the two measure the same deployment.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, type SyncStatus } from '../protocol/rpc';
import { SocketClient } from '../server/cli/socket-client';
import { homePaths } from '../lib/node/paths';

/** SIGTERM (the cores and the relay stop cleanly), SIGKILL if that takes over 5 s. */
export async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** user + system CPU time of a process in ms, from /proc; undefined where there is no /proc. */
export function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Samples the CPU time of named processes now; the function it returns gives each one's use
 * since, in ms, divided by `per` (messages, MiB: whatever the figure is per).
 */
export function cpuMeter(pids: Record<string, number>): (per: number) => Record<string, number> {
  const before = Object.entries(pids).map(([name, pid]) => [name, pid, cpuMs(pid)] as const);
  return (per) => {
    const used: Record<string, number> = {};
    for (const [name, pid, start] of before) {
      const end = cpuMs(pid);
      if (start !== undefined && end !== undefined) used[name] = (end - start) / per;
    }
    return used;
  };
}

/** Resident memory of a process in bytes, from /proc; undefined where there is no /proc. */
export function rssBytes(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** `SWITCHBOARD_BENCH_PROFILE=<dir>` writes a CPU profile of the relay and every core there. */
const profile = process.env.SWITCHBOARD_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.SWITCHBOARD_BENCH_PROFILE] : [];

export interface LiveCore {
  home: string;
  child: ChildProcess;
  client: SocketClient;
}

export interface Live<U extends string> {
  relay: ChildProcess;
  url: string;
  cores: Record<U, LiveCore>;
  /** Stops every process and removes every file. */
  close(): Promise<void>;
}

/** `coreEnv`: extra environment of the cores (the e2ee phase's bench-only switch, SWITCHBOARD_BENCH_PLAINTEXT). */
export async function startLive<U extends string>(root: string, users: readonly U[], relayArgs: string[] = [], coreEnv: NodeJS.ProcessEnv = {}): Promise<Live<U>> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-live-'));
  const children: ChildProcess[] = [];
  const clients: SocketClient[] = [];
  const close = async (): Promise<void> => {
    for (const c of clients) c.close();
    await Promise.all(children.map(stopGracefully));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const relayData = join(dir, 'relay');
    const token = (user: string) => JSON.parse(spawnSync(process.execPath, [join(root, 'dist', 'relay.js'), 'add-user', user, '--data', relayData, '--json'], { encoding: 'utf8' }).stdout).token as string;
    const tokens = Object.fromEntries(users.map((u) => [u, token(u)])) as Record<U, string>;
    const relay = spawn(process.execPath, [...profile, join(root, 'dist', 'relay.js'), 'serve', '--port', '0', '--data', relayData, '--rate', '1000000', ...relayArgs], { stdio: ['ignore', 'pipe', process.env.SWITCHBOARD_BENCH_PROFILE ? 'inherit' : 'ignore'] });
    children.push(relay);
    const url = await new Promise<string>((resolve) => relay.stdout!.on('data', (d) => /ws:\/\/\S+/.test(String(d)) && resolve(/ws:\/\/\S+/.exec(String(d))![0])));
    const connect = async (user: U): Promise<LiveCore> => {
      const home = join(dir, user);
      spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--home', home, 'init', '--relay', url, '--user', user, '--token', tokens[user]]);
      const child = spawn(process.execPath, [...profile, join(root, 'dist', 'daemon.js'), '--home', home], { stdio: 'ignore', env: { ...process.env, ...coreEnv } });
      children.push(child);
      let client: SocketClient | undefined;
      await until(`${user}'s core`, async () => {
        client = await SocketClient.connect(homePaths(home).socket).catch(() => undefined);
        return client !== undefined;
      });
      clients.push(client!);
      await client!.call('initialize', { client: { name: 'bench', version: '1' }, protocol: PROTOCOL_VERSION });
      await until(`${user} online`, async () => ((await client!.call('status/get', {})) as { sync: SyncStatus }).sync.state === 'online');
      return { home, child, client: client! };
    };
    const cores = {} as Record<U, LiveCore>;
    for (const u of users) cores[u] = await connect(u);
    return { relay, url, cores, close };
  } catch (err) {
    await close();
    throw err;
  }
}
