/**
 * What one stranger can do to a relay before logging in, against the same relay left alone in
 * the same run: a user's send verdicts while 200 bad hellos arrive, and the relay's RSS with
 * thousands of idle pre-login connections and with 4 connections flooding before login.
 *
 * The relay runs as a real process (`node dist/relay.js serve`, or `--relay=<file>` to measure
 * another build). Strangers connect from many loopback addresses (127.0.1.x): the per-address
 * limit would otherwise refuse them at the door, and this measures what gets past it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RELAY_PROTOCOL_VERSION } from '../protocol/relay';

export interface LimitsFigure {
  figure: string;
  value: number;
  unit: string;
  baselineName: string;
  baseline: number;
  note?: string;
}

interface RunningRelay {
  child: ChildProcess;
  url: string;
  dataDir: string;
  relayJs: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Loopback addresses the strangers connect from: each stays under the per-address limit. */
const strangerAddress = (i: number) => `127.0.1.${1 + (i % 200)}`;

async function startRelay(relayJs: string): Promise<RunningRelay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-limits-'));
  const child = spawn(process.execPath, [relayJs, 'serve', '--port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('relay did not start within 20 s')), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /relay listening on (ws:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`relay exited ${code} before listening`)));
  });
  return { child, url, dataDir, relayJs };
}

async function stopRelay(relay: RunningRelay): Promise<void> {
  const { child } = relay;
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  rmSync(relay.dataDir, { recursive: true, force: true });
}

function addUser(relay: RunningRelay, name: string): string {
  const r = spawnSync(process.execPath, [relay.relayJs, 'add-user', name, '--data', relay.dataDir, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`add-user ${name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function hello(user: string, token: string, device: string): string {
  return JSON.stringify({ type: 'hello', v: RELAY_PROTOCOL_VERSION, user, token, device, cursor: 0 });
}

/** A logged-in user that sends one message at a time and times each verdict. */
async function login(url: string, user: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${user} got no welcome within 30 s`)), 30_000);
    ws.once('error', reject);
    ws.once('open', () => ws.send(hello(user, token, `${user}-bench`)));
    ws.once('message', (data) => {
      clearTimeout(timer);
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type === 'welcome') resolve();
      else reject(new Error(`${user}: expected welcome, got ${data.toString()}`));
    });
  });
  return ws;
}

let sendCounter = 0;
/** Resolves with the verdict's latency in ms, or `undefined` when none came within `timeoutMs`. */
function timedSend(ws: WebSocket, to: string, timeoutMs = 60_000): Promise<number | undefined> {
  const id = `bench-${process.pid}-${sendCounter++}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      resolve(undefined);
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as { type: string; id?: string };
      if (frame.type !== 'verdict' || frame.id !== id) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(performance.now() - started);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'send', message: { id, client_message_id: id, to, body: 'bench', reply_to: null, request_id: null, created_at: new Date().toISOString() } }));
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Keeps `concurrency` strangers saying hello with a wrong token, each reconnecting as soon as
 * it is refused, until stopped. Counts the refusals.
 */
function badHelloStorm(url: string, user: string, concurrency: number): { stop(): Promise<number>; refused(): number } {
  let running = true;
  let refused = 0;
  let serial = 0;
  const open = new Set<WebSocket>();
  const one = (slot: number): void => {
    if (!running) return;
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: strangerAddress(slot) });
    open.add(ws);
    ws.on('error', () => {});
    ws.once('open', () => ws.send(hello(user, `sbr_wrong_${serial++}`, `stranger-${slot}`)));
    ws.once('close', () => {
      open.delete(ws);
      refused++;
      setImmediate(() => one(slot));
    });
  };
  for (let i = 0; i < concurrency; i++) one(i);
  return {
    refused: () => refused,
    async stop() {
      running = false;
      for (const ws of open) ws.terminate();
      return refused;
    },
  };
}

async function verdictsUnderHellos(relayJs: string, sends: number): Promise<LimitsFigure[]> {
  const relay = await startRelay(relayJs);
  try {
    const aliceToken = addUser(relay, 'alice');
    addUser(relay, 'bob');
    const alice = await login(relay.url, 'alice', aliceToken);
    for (let i = 0; i < 20; i++) await timedSend(alice, 'bob');
    const quiet: number[] = [];
    for (let i = 0; i < sends; i++) quiet.push((await timedSend(alice, 'bob')) ?? NaN);
    console.log(`  ${sends} sends answered with no strangers; now 200 strangers keep saying hello with bad tokens`);
    const storm = badHelloStorm(relay.url, 'bob', 200);
    // Let the first wave of hellos reach the token check before timing.
    await sleep(200);
    // Bounded: at most `sends` sends or 30 s; a verdict still missing then counts as the wait so far.
    const loud: number[] = [];
    const deadline = performance.now() + 30_000;
    let timedOut = false;
    let budgetSpent = false;
    while (loud.length < sends && !timedOut && !budgetSpent) {
      const started = performance.now();
      const latency = await timedSend(alice, 'bob', Math.max(1, deadline - started));
      const waited = performance.now() - started;
      // A send cut short by the budget counts only when it had waited long: then it is the figure.
      if (latency === undefined && waited < 5000) budgetSpent = true;
      else {
        timedOut = latency === undefined;
        loud.push(latency ?? waited);
      }
    }
    console.log(`  ${loud.length} sends answered during the storm`);
    const refused = await storm.stop();
    alice.terminate();
    const note = `${refused} bad hellos refused while ${loud.length} sends were answered${timedOut ? '; stopped at 30 s with a verdict still missing (a lower bound)' : budgetSpent ? ' (the 30 s budget ran out)' : ''}`;
    return [
      { figure: 'send verdict p50 while 200 bad hellos arrive', value: percentile(loud, 50), unit: 'ms', baselineName: 'no bad hellos', baseline: percentile(quiet, 50), note },
      { figure: 'send verdict p99 while 200 bad hellos arrive', value: percentile(loud, 99), unit: 'ms', baselineName: 'no bad hellos', baseline: percentile(quiet, 99), note },
    ];
  } finally {
    await stopRelay(relay);
  }
}

async function idleConnections(relayJs: string, count: number): Promise<LimitsFigure> {
  const relay = await startRelay(relayJs);
  const sockets: WebSocket[] = [];
  try {
    await sleep(500);
    const idle = rssMiB(relay.child.pid!);
    let opened = 0;
    let refused = 0;
    let openNow = 0;
    let maxOpen = 0;
    let peak = idle;
    const batch = 250;
    console.log(`  opening ${count} idle connections from 200 addresses`);
    for (let start = 0; start < count; start += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, count - start) }, (_, i) => {
          const ws = new WebSocket(relay.url, { perMessageDeflate: false, localAddress: strangerAddress(start + i) });
          sockets.push(ws);
          ws.once('close', () => openNow--);
          return new Promise<void>((resolve) => {
            const timer = setTimeout(() => resolve(), 10_000);
            ws.once('open', () => {
              opened++;
              maxOpen = Math.max(maxOpen, ++openNow);
              clearTimeout(timer);
              resolve();
            });
            ws.once('error', () => {
              refused++;
              clearTimeout(timer);
              resolve();
            });
          });
        }),
      );
      peak = Math.max(peak, rssMiB(relay.child.pid!));
    }
    await sleep(200);
    peak = Math.max(peak, rssMiB(relay.child.pid!));
    console.log(`  ${opened} idle connections accepted, ${refused} refused`);
    return {
      figure: `relay peak RSS, ${count} idle pre-login connections`,
      value: peak,
      unit: 'MiB',
      baselineName: 'idle relay',
      baseline: idle,
      note: `${opened} accepted, ${refused} refused, at most ${maxOpen} open at once`,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stopRelay(relay);
  }
}

/**
 * Four strangers each say hello (a wrong token for a real user) and pipe 255 KiB frames behind
 * it for `seconds`, reconnecting when cut off. The relay's peak RSS is sampled throughout.
 */
async function preLoginFlood(relayJs: string, seconds: number): Promise<LimitsFigure> {
  const relay = await startRelay(relayJs);
  const sockets = new Set<WebSocket>();
  let running = true;
  let bytesSent = 0;
  try {
    addUser(relay, 'bob');
    await sleep(500);
    const idle = rssMiB(relay.child.pid!);
    const filler = JSON.stringify({ type: 'ping', t: 0, pad: 'x'.repeat(255 * 1024 - 40) });
    const flooder = (slot: number): void => {
      if (!running) return;
      const ws = new WebSocket(relay.url, { perMessageDeflate: false, localAddress: strangerAddress(slot) });
      sockets.add(ws);
      ws.on('error', () => {});
      const pump = (): void => {
        // At most 16 frames a turn: a socket the relay cut still reads as open (and empty)
        // until its close event, which an unbounded loop here would never let run.
        for (let i = 0; i < 16 && running && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 4 * 1024 * 1024; i++) {
          ws.send(filler);
          bytesSent += filler.length;
        }
        if (running && ws.readyState === WebSocket.OPEN) setTimeout(pump, 1);
      };
      ws.once('open', () => {
        ws.send(hello('bob', 'sbr_wrong', `flooder-${slot}`));
        pump();
      });
      ws.once('close', () => {
        sockets.delete(ws);
        setTimeout(() => flooder(slot), 10);
      });
    };
    for (let i = 0; i < 4; i++) flooder(i);
    let peak = idle;
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      peak = Math.max(peak, rssMiB(relay.child.pid!));
      await sleep(50);
    }
    running = false;
    return {
      figure: '4 connections flooding before login: relay peak RSS',
      value: peak,
      unit: 'MiB',
      baselineName: 'idle relay',
      baseline: idle,
      note: `${(bytesSent / 1024 / 1024).toFixed(0)} MiB offered in ${seconds} s`,
    };
  } finally {
    running = false;
    for (const ws of sockets) ws.terminate();
    await stopRelay(relay);
  }
}

export async function relayLimitsBench(relayJs: string, quick: boolean): Promise<LimitsFigure[]> {
  const figures: LimitsFigure[] = [];
  figures.push(...(await verdictsUnderHellos(relayJs, quick ? 100 : 300)));
  figures.push(await idleConnections(relayJs, 5000));
  figures.push(await preLoginFlood(relayJs, quick ? 3 : 5));
  return figures;
}
