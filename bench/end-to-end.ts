/**
 * End to end A → B: messages per second and latency from A's send to B's notification,
 * durable at every hop (A's core, the relay, B's core), against a plain `ws` forwarder with
 * no storage measured in the same run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type MessageEvent, type SyncStatus } from '../protocol/rpc';
import { RELAY_PROTOCOL_VERSION } from '../protocol/relay';
import { startForwarder } from '../relay/forwarder';
import { SocketClient } from '../server/cli/socket-client';
import { homePaths } from '../server/paths';

/** SIGTERM (the cores and the relay stop cleanly), SIGKILL if that takes over 5 s. */
async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export interface EndToEndFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const WINDOW = 64;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function figures(latencies: number[], elapsedMs: number): EndToEndFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { perSecond: (latencies.length / elapsedMs) * 1000, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

/** Sends `count` messages keeping WINDOW in flight; `sendOne` resolves when the sender has its verdict. */
async function pump(count: number, sendOne: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < count) await sendOne(next++);
    }),
  );
}

export async function forwarderBaseline(count: number): Promise<EndToEndFigures> {
  const forwarder = await startForwarder();
  const open = (user: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(forwarder.url, { perMessageDeflate: false });
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', v: RELAY_PROTOCOL_VERSION, user, token: 'x', device: user, cursor: 0 })));
      ws.once('message', () => resolve(ws));
    });
  const a = await open('alice');
  const b = await open('bob');
  const latencies: number[] = [];
  let all: () => void = () => {};
  const done = new Promise<void>((resolve) => (all = resolve));
  b.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; item?: { message: { body: string } } };
    if (frame.type !== 'deliver') return;
    latencies.push(performance.now() - Number(frame.item!.message.body.split(' ')[0]));
    if (latencies.length === count) all();
  });
  const verdicts = new Map<string, () => void>();
  a.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; id?: string };
    if (frame.type === 'verdict') verdicts.get(frame.id!)?.();
  });
  const started = performance.now();
  await pump(count, (i) => {
    const id = `m${i}`;
    const verdict = new Promise<void>((resolve) => verdicts.set(id, resolve));
    a.send(JSON.stringify({ type: 'send', message: { id, client_message_id: id, to: 'bob', body: `${performance.now()} message ${i}`, reply_to: null, request_id: null, created_at: new Date().toISOString() } }));
    return verdict;
  });
  await done;
  const result = figures(latencies, performance.now() - started);
  a.close();
  b.close();
  await forwarder.close();
  return result;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `SWITCHBOARD_BENCH_PROFILE=<dir>` writes a CPU profile of the relay and both cores there. */
const profile = process.env.SWITCHBOARD_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.SWITCHBOARD_BENCH_PROFILE] : [];

export async function switchboardEndToEnd(count: number, root: string): Promise<EndToEndFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-e2e-'));
  const children: ChildProcess[] = [];
  const clients: SocketClient[] = [];
  try {
    const relayData = join(dir, 'relay');
    const token = (user: string) => JSON.parse(spawnSync(process.execPath, [join(root, 'dist', 'relay.js'), 'add-user', user, '--data', relayData, '--json'], { encoding: 'utf8' }).stdout).token as string;
    const tokens = { alice: token('alice'), bob: token('bob') };
    const relay = spawn(process.execPath, [...profile, join(root, 'dist', 'relay.js'), 'serve', '--port', '0', '--data', relayData, '--rate', '1000000'], { stdio: ['ignore', 'pipe', process.env.SWITCHBOARD_BENCH_PROFILE ? 'inherit' : 'ignore'] });
    children.push(relay);
    const url = await new Promise<string>((resolve) => relay.stdout!.on('data', (d) => /ws:\/\/\S+/.test(String(d)) && resolve(/ws:\/\/\S+/.exec(String(d))![0])));
    const connect = async (user: 'alice' | 'bob') => {
      const home = join(dir, user);
      spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--home', home, 'init', '--relay', url, '--user', user, '--token', tokens[user]]);
      children.push(spawn(process.execPath, [...profile, join(root, 'dist', 'daemon.js'), '--home', home], { stdio: 'ignore' }));
      let client: SocketClient | undefined;
      await until(`${user}'s core`, async () => {
        client = await SocketClient.connect(homePaths(home).socket).catch(() => undefined);
        return client !== undefined;
      });
      clients.push(client!);
      await client!.call('initialize', { client: { name: 'bench', version: '1' }, protocol: PROTOCOL_VERSION });
      await until(`${user} online`, async () => ((await client!.call('status/get', {})) as { sync: SyncStatus }).sync.state === 'online');
      return client!;
    };
    const a = await connect('alice');
    const b = await connect('bob');
    const latencies: number[] = [];
    let all: () => void = () => {};
    const done = new Promise<void>((resolve) => (all = resolve));
    b.onNotification((method, params) => {
      if (method !== 'message/received') return;
      latencies.push(performance.now() - Number((params as MessageEvent).message.body.split(' ')[0]));
      if (latencies.length === count) all();
    });
    await b.call('events/subscribe', {});
    const started = performance.now();
    const verdictMs: number[] = [];
    await pump(count, async (i) => {
      const t0 = performance.now();
      const r = (await a.call('message/send', { to: 'bob', body: `${t0} message ${i}`, wait_ms: 30_000 })) as { status: string };
      verdictMs.push(performance.now() - t0);
      if (r.status !== 'sent') throw new Error(`send ${i} answered ${r.status}`);
    });
    if (process.env.SWITCHBOARD_BENCH_PROFILE) console.log(`  (sender's verdict p50 ${percentile([...verdictMs].sort((x, y) => x - y), 50).toFixed(1)} ms)`);
    await done;
    return figures(latencies, performance.now() - started);
  } finally {
    for (const c of clients) c.close();
    await Promise.all(children.map(stopGracefully));
    rmSync(dir, { recursive: true, force: true });
  }
}
