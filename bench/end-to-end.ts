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

export async function switchboardEndToEnd(count: number, root: string): Promise<EndToEndFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-e2e-'));
  const children: ChildProcess[] = [];
  const clients: SocketClient[] = [];
  try {
    const relayData = join(dir, 'relay');
    const token = (user: string) => JSON.parse(spawnSync(process.execPath, [join(root, 'dist', 'relay.js'), 'add-user', user, '--data', relayData, '--json'], { encoding: 'utf8' }).stdout).token as string;
    const tokens = { alice: token('alice'), bob: token('bob') };
    const relay = spawn(process.execPath, [join(root, 'dist', 'relay.js'), 'serve', '--port', '0', '--data', relayData, '--rate', '1000000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(relay);
    const url = await new Promise<string>((resolve) => relay.stdout!.on('data', (d) => /ws:\/\/\S+/.test(String(d)) && resolve(/ws:\/\/\S+/.exec(String(d))![0])));
    const connect = async (user: 'alice' | 'bob') => {
      const home = join(dir, user);
      spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--home', home, 'init', '--relay', url, '--user', user, '--token', tokens[user]]);
      children.push(spawn(process.execPath, [join(root, 'dist', 'daemon.js'), '--home', home], { stdio: 'ignore' }));
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
    await pump(count, async (i) => {
      const r = (await a.call('message/send', { to: 'bob', body: `${performance.now()} message ${i}`, wait_ms: 30_000 })) as { status: string };
      if (r.status !== 'sent') throw new Error(`send ${i} answered ${r.status}`);
    });
    await done;
    return figures(latencies, performance.now() - started);
  } finally {
    for (const c of clients) c.close();
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
