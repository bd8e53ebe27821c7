/**
 * End to end A → B: messages per second and latency from A's send to B's notification,
 * durable at every hop (A's core, the relay, B's core), against a plain `ws` forwarder with
 * no storage measured in the same run.
 */
import WebSocket from 'ws';
import { type MessageEvent } from '../protocol/rpc';
import { RELAY_PROTOCOL_VERSION } from '../protocol/relay';
import { startForwarder } from './forwarder';
import { cpuMeter, startLive } from './live';
import { medianBy } from './peers/compare';

/** Messages per measured round, rounds (the median is reported), messages sent first to warm up, and messages kept in flight. */
export interface EndToEndLoad {
  count: number;
  repeats: number;
  warmup: number;
  window: number;
}

export interface EndToEndFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU microseconds per message by process, while the messages flowed (Linux only; empty elsewhere). */
  cpuUsPerMessage: Record<string, number>;
}


function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function figures(latencies: number[], elapsedMs: number, cpuUsPerMessage: Record<string, number>): EndToEndFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { perSecond: (latencies.length / elapsedMs) * 1000, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), cpuUsPerMessage };
}

/** Sends `count` messages keeping `window` in flight; `sendOne` resolves when the sender has its verdict. */
async function pump(count: number, window: number, sendOne: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < count) await sendOne(next++);
    }),
  );
}

/**
 * Times rounds of messages from send to arrival. The receiving end calls `arrived` with each
 * message's send time (carried in its body). The first round warms both systems up (JIT,
 * caches, pools) and is not reported, so the figures compare steady states. The peer brokers'
 * drivers (bench/peers/) measure with it too, so every system sees the same load shape.
 */
export class Rounds {
  private latencies: number[] = [];
  private expected = 0;
  private complete: () => void = () => {};

  constructor(private readonly processes: () => Record<string, number>) {}

  arrived(sentAt: number): void {
    this.latencies.push(performance.now() - sentAt);
    if (this.latencies.length === this.expected) this.complete();
  }

  /** The round with the median throughput, of `load.repeats`: one noisy moment on a shared machine does not decide the figure. */
  async measure(load: EndToEndLoad, sendOne: (i: number) => Promise<void>): Promise<EndToEndFigures> {
    await this.round(load.warmup, load.window, sendOne);
    const rounds: EndToEndFigures[] = [];
    for (let i = 0; i < load.repeats; i++) rounds.push(await this.round(load.count, load.window, sendOne));
    return medianBy(rounds, (r) => r.perSecond);
  }

  private async round(count: number, window: number, sendOne: (i: number) => Promise<void>): Promise<EndToEndFigures> {
    this.latencies = [];
    this.expected = count;
    const done = new Promise<void>((resolve) => (this.complete = resolve));
    const started = performance.now();
    const cpu = cpuMeter(this.processes());
    // Bounded: a system that loses a message or never acks fails the round instead of hanging
    // the bench (a minute, plus 10 ms a message: far above any rate measured here).
    const limitMs = 60_000 + count * 10;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`round of ${count} timed out after ${limitMs / 1000} s: ${this.latencies.length} arrived`)), limitMs);
    });
    try {
      await Promise.race([Promise.all([pump(count, window, sendOne), done]), deadline]);
    } finally {
      clearTimeout(timer);
    }
    return figures(this.latencies, performance.now() - started, Object.fromEntries(Object.entries(cpu(count)).map(([k, ms]) => [k, ms * 1000])));
  }
}

export async function forwarderBaseline(load: EndToEndLoad): Promise<EndToEndFigures> {
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
  const rounds = new Rounds(() => ({ 'bench (forwarder and both ends)': process.pid }));
  b.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; item?: { message: { body: string } } };
    if (frame.type === 'deliver') rounds.arrived(Number(frame.item!.message.body.split(' ')[0]));
  });
  const verdicts = new Map<string, () => void>();
  a.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; id?: string };
    if (frame.type === 'verdict') verdicts.get(frame.id!)?.();
  });
  let sent = 0;
  const result = await rounds.measure(load, (i) => {
    const id = `m${sent++}`;
    const verdict = new Promise<void>((resolve) => verdicts.set(id, resolve));
    a.send(JSON.stringify({ type: 'send', message: { id, client_message_id: id, to: 'bob', body: `${performance.now()} message ${i}`, reply_to: null, request_id: null, created_at: new Date().toISOString() } }));
    return verdict.then(() => void verdicts.delete(id));
  });
  a.close();
  b.close();
  await forwarder.close();
  return result;
}

/** `plaintext`: direct bodies unsealed, through the bench-only switch (the e2ee phase's baseline); never so in the product. */
export async function switchboardEndToEnd(load: EndToEndLoad, root: string, options: { plaintext?: boolean } = {}): Promise<EndToEndFigures> {
  const live = await startLive(root, ['alice', 'bob'] as const, [], options.plaintext ? { SWITCHBOARD_BENCH_PLAINTEXT: '1' } : {});
  try {
    const a = live.cores.alice.client;
    const b = live.cores.bob.client;
    // Direct messages go only to published keys: wait until bob's core has published his.
    const deadline = Date.now() + 30_000;
    while (!(await a.call('trust/show', { user: 'bob' }).then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error("bob's device keys never reached the relay's directory");
      await new Promise((r) => setTimeout(r, 100));
    }
    const rounds = new Rounds(() => ({ relay: live.relay.pid!, "alice's core": live.cores.alice.child.pid!, "bob's core": live.cores.bob.child.pid!, 'bench (both ends)': process.pid }));
    b.onNotification((method, params) => {
      if (method === 'message/received') rounds.arrived(Number((params as MessageEvent).message.body.split(' ')[0]));
    });
    await b.call('events/subscribe', {});
    const verdictMs: number[] = [];
    const result = await rounds.measure(load, async (i) => {
      const t0 = performance.now();
      const r = (await a.call('message/send', { to: 'bob', body: `${t0} message ${i}`, wait_ms: 30_000 })) as { status: string };
      verdictMs.push(performance.now() - t0);
      if (r.status !== 'sent') throw new Error(`send ${i} answered ${r.status}`);
    });
    if (process.env.SWITCHBOARD_BENCH_PROFILE) console.log(`  (sender's verdict p50 ${percentile([...verdictMs].sort((x, y) => x - y), 50).toFixed(1)} ms)`);
    return result;
  } finally {
    await live.close();
  }
}
