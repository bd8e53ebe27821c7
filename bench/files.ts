/**
 * Files A → B (issue 13): one big file from alice's core, durable and verified at the relay,
 * downloaded and verified by bob's core, against streaming the same bytes over one plain `ws`
 * connection on loopback (no storage, no hashing) in the same run. Also: message latency while
 * the transfer runs against the same with none, and each process's resident memory during it
 * against before it (files are streamed, never held whole).
 */
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BLOB_CHUNK_BYTES, BLOB_WINDOW_BYTES } from '../protocol/files';
import type { Message, MessageEvent, ResultOf } from '../protocol/rpc';
import { cpuMeter, rssBytes, startLive, stopGracefully, until } from './live';

const MiB = 1024 * 1024;

export interface TransferFigures {
  mibPerSecond: number;
  /** CPU ms per MiB moved, by process. */
  cpuMsPerMiB: Record<string, number>;
}

export interface FilesFigures {
  baseline: TransferFigures;
  /** Send to bob's verified copy. */
  transfer: TransferFigures;
  /** Send to `sent` (every byte durable at the relay). */
  uploadMibPerSecond: number;
  /** Resident memory: before the transfer and its peak during it, by process. */
  rss: Record<string, { before: number; peak: number }>;
  /** Message latency from alice's send to bob's notification, ms. */
  latencyIdle: { p50: number; p99: number };
  latencyDuringTransfer: { p50: number; p99: number; count: number };
}

/** A file of random bytes (incompressible, like the artefacts people send). */
export function makeFile(dir: string, bytes: number): string {
  const path = join(dir, `payload-${bytes}.bin`);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(MiB);
  try {
    for (let left = bytes; left > 0; left -= block.length) {
      randomFillSync(block);
      writeSync(fd, block, 0, Math.min(block.length, left));
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}


/** Peak resident memory of each process while `during` runs, sampled every 50 ms. */
async function rssDuring<T>(pids: Record<string, number>, during: () => Promise<T>): Promise<{ result: T; rss: FilesFigures['rss'] }> {
  const rss: FilesFigures['rss'] = {};
  for (const [name, pid] of Object.entries(pids)) {
    const now = rssBytes(pid) ?? 0;
    rss[name] = { before: now, peak: now };
  }
  const sample = (): void => {
    for (const [name, pid] of Object.entries(pids)) rss[name]!.peak = Math.max(rss[name]!.peak, rssBytes(pid) ?? 0);
  };
  const timer = setInterval(sample, 50);
  try {
    return { result: await during(), rss };
  } finally {
    clearInterval(timer);
    sample();
  }
}

function percentiles(xs: number[]): { p50: number; p99: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { p50: at(50), p99: at(99) };
}

/** The baseline: the file's bytes over one plain ws connection to a sink process, with the same chunk size and window. */
export async function plainWsStream(path: string, size: number): Promise<TransferFigures> {
  const sink = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'ws-sink-process.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      sink.once('exit', (code) => reject(new Error(`the ws sink exited ${code}`)));
      sink.stdout!.on('data', (d) => /ws:\/\/\S+/.test(String(d)) && resolve(/ws:\/\/\S+/.exec(String(d))![0]));
    });
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const done = new Promise<void>((resolve) => ws.once('message', () => resolve()));
    const cpu = cpuMeter({ 'sink (receiver)': sink.pid!, 'bench (sender)': process.pid });
    const started = performance.now();
    ws.send(JSON.stringify({ size }));
    for await (const chunk of createReadStream(path, { highWaterMark: BLOB_CHUNK_BYTES })) {
      ws.send(chunk as Buffer, { binary: true });
      while (ws.bufferedAmount > BLOB_WINDOW_BYTES) await new Promise((r) => setImmediate(r));
    }
    await done;
    const seconds = (performance.now() - started) / 1000;
    const mib = size / MiB;
    const figures = { mibPerSecond: mib / seconds, cpuMsPerMiB: cpu(mib) };
    ws.close();
    return figures;
  } finally {
    await stopGracefully(sink);
  }
}

type Attachment = Message['attachments'][number];

/** Alice sends the file to bob; bob's core downloads it at once (auto download above its size) and verifies it. */
export async function switchboardTransfer(root: string, path: string, size: number): Promise<TransferFigures & Pick<FilesFigures, 'uploadMibPerSecond' | 'rss'>> {
  const live = await startLive(root, ['alice', 'bob'] as const, ['--max-file-bytes', String(Math.max(size, 1))]);
  try {
    const a = live.cores.alice.client;
    const b = live.cores.bob.client;
    await b.call('settings/set', { auto_download_bytes: size * 2 });
    const settled = new Map<string, (a: Attachment) => void>();
    b.onNotification((method, params) => {
      if (method !== 'message/received' && method !== 'message/updated') return;
      const m = (params as MessageEvent).message;
      const first = m.attachments[0];
      if (first && (first.state === 'ready' || first.state === 'failed')) settled.get(m.id)?.(first);
    });
    await b.call('events/subscribe', {});
    const sha256 = await sha256Of(path);
    const pids = { relay: live.relay.pid!, "alice's core": live.cores.alice.child.pid!, "bob's core": live.cores.bob.child.pid! };
    const cpu = cpuMeter(pids);
    const { result, rss } = await rssDuring(pids, async () => {
      const started = performance.now();
      const sent = (await a.call('message/send', { to: 'bob', body: 'the build', attachments: [{ path, sha256, size }], wait_ms: 600_000 })) as ResultOf<'message/send'>;
      if (sent.status !== 'sent') throw new Error(`the file's send answered ${sent.status}: ${sent.reason}`);
      const uploadSeconds = (performance.now() - started) / 1000;
      const copy = await new Promise<Attachment>((resolve, reject) => {
        settled.set(sent.id, resolve);
        setTimeout(() => reject(new Error('bob did not have the file within 10 minutes')), 600_000).unref();
      });
      if (copy.state !== 'ready' || copy.sha256 !== sha256) throw new Error(`bob's copy is ${copy.state}: ${copy.error}`);
      return { uploadSeconds, seconds: (performance.now() - started) / 1000 };
    });
    const mib = size / MiB;
    return { mibPerSecond: mib / result.seconds, cpuMsPerMiB: cpu(mib), uploadMibPerSecond: mib / result.uploadSeconds, rss };
  } finally {
    await live.close();
  }
}

/** Latency of small messages sent one after another while a second transfer of the same file runs. */
export async function latencyDuringTransfer(root: string, path: string, size: number, probes: number): Promise<{ idle: number[]; during: number[] }> {
  const live = await startLive(root, ['alice', 'bob'] as const, ['--max-file-bytes', String(Math.max(size, 1))]);
  try {
    const a = live.cores.alice.client;
    const b = live.cores.bob.client;
    await b.call('settings/set', { auto_download_bytes: size * 2 });
    const arrivals = new Map<string, () => void>();
    let fileReady: () => void = () => {};
    const fileDone = new Promise<void>((resolve) => (fileReady = resolve));
    b.onNotification((method, params) => {
      if (method !== 'message/received' && method !== 'message/updated') return;
      const m = (params as MessageEvent).message;
      if (method === 'message/received') arrivals.get(m.body)?.();
      if (m.attachments[0]?.state === 'ready' || m.attachments[0]?.state === 'failed') fileReady();
    });
    await b.call('events/subscribe', {});
    const probe = async (i: number): Promise<number> => {
      const body = `probe ${i} ${Math.random()}`;
      const arrived = new Promise<void>((resolve) => arrivals.set(body, resolve));
      const t0 = performance.now();
      await a.call('message/send', { to: 'bob', body, wait_ms: 30_000 });
      await arrived;
      arrivals.delete(body);
      return performance.now() - t0;
    };
    const idle: number[] = [];
    for (let i = 0; i < probes; i++) idle.push(await probe(i));
    const sha256 = await sha256Of(path);
    let finished = false;
    const queued = (await a.call('message/send', { to: 'bob', body: 'the build', attachments: [{ path, sha256, size }], wait_ms: 0 })) as ResultOf<'message/send'>;
    const transfer = fileDone.finally(() => (finished = true));
    // probes only while bytes move: from the first byte at the relay on, until bob has the file
    await until('the transfer to start', async () => {
      const m = (await a.call('message/get', { id: queued.id })) as Message;
      return (m.attachments[0]?.transferred ?? 0) > 0 || finished;
    }, 60_000);
    const during: number[] = [];
    for (let i = 0; !finished && i < probes * 10; i++) during.push(await probe(probes + i));
    await transfer;
    return { idle, during };
  } finally {
    await live.close();
  }
}

export async function filesBench(root: string, sizeMiB: number, probes: number): Promise<FilesFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-files-'));
  try {
    const size = sizeMiB * MiB;
    const path = makeFile(dir, size);
    const baseline = await plainWsStream(path, size);
    const ours = await switchboardTransfer(root, path, size);
    const latency = await latencyDuringTransfer(root, path, size, probes);
    return {
      baseline,
      transfer: { mibPerSecond: ours.mibPerSecond, cpuMsPerMiB: ours.cpuMsPerMiB },
      uploadMibPerSecond: ours.uploadMibPerSecond,
      rss: ours.rss,
      latencyIdle: percentiles(latency.idle),
      latencyDuringTransfer: { ...percentiles(latency.during), count: latency.during.length },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
