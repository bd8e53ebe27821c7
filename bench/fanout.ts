/**
 * Relay fan-out (issue #12): one group of N members, each a lightweight real client over its
 * own socket (fanout-client.ts: hello v2, a cumulative ack per turn, nothing else), and one
 * sender posting group messages. Figure: deliveries per second, from the first send of the
 * measured round to the last member's last delivery, with every member's every message
 * counted: a missing or duplicated delivery fails the bench. A relay round also waits for the
 * sender to hold every member's delivered receipt (one per member per message), in its time.
 *
 * The relay runs as shipped (`node dist/relay.js serve`) with its durability as in production:
 * every batch of writes is committed and its WAL fsynced (group commit, off the event loop)
 * before a verdict or a delivery leaves. Only caps that a one-machine bench hits are raised,
 * by their serve flags (RELAY_FLAGS). The baseline is the storage-free forwarder
 * (forwarder.ts) in its own process, sent the same frames and broadcasting them to the same N
 * sockets, measured in the same run by the same clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GroupVerdictFrame, VerdictFrame } from '../protocol/relay';
import { addUser } from '../relay/accounts';
import { sqliteAccounts } from '../relay/storage/sqlite/storage';
import { RelayStore } from '../relay/store';
import { makeTempDir } from '../test/support/relay';
import { reapWithThisProcess } from '../test/support/reap';
import { withTimeout } from '../lib/node/with-timeout';
import { FanoutClient } from './fanout-client';
import { FanoutLedger, memberName } from './fanout-ledger';

/**
 * What the bench changes from `relay serve`'s defaults, and why: nothing about durability.
 * - `--rate 0/s`: one sender posts thousands of messages a second (default 1000/s per user);
 * - `--max-group-members 100000`: the flag's maximum (default 256; the bench's group is N + 1);
 * - `--max-connections-per-address 4096`: every member connects from 127.0.0.1 (default 64).
 * Members log in 100 at a time, under `--max-logins` (256), which stays at its default, as do
 * the quotas (no member falls behind by more than the sender's window).
 */
export const RELAY_FLAGS = ['--rate', '0/s', '--max-group-members', '100000', '--max-connections-per-address', '4096'];

/** Deliveries kept in flight: messages not yet received by every member, times N. */
const WINDOW_DELIVERIES = 4096;
const LOGIN_BATCH = 100;
const GROUP = 'fanout';
/** A body of a realistic size (about a sentence and a half). */
const BODY = 'The build on main is green again; I pushed the fix for the flaky relay test, please rebase before you merge.';

export interface FanoutLoad {
  /** Deliveries to aim for in each measured round (messages = this ÷ members, at least 5). */
  deliveries: number;
  /** The sender stops posting after this long in a round; what it posted must still all arrive. */
  budgetMs: number;
  /** Measured rounds after the warm-up; the median is reported. */
  rounds: number;
}

export interface FanoutRun {
  members: number;
  messages: number;
  deliveries: number;
  elapsedMs: number;
  perSecond: number;
  /** CPU µs per delivery: the server process, and this process (every client). */
  serverCpuUs: number;
  clientCpuUs: number;
  /** Delivered receipts the sender got for every message sent (warm-up and rounds), of `receiptsExpected` (the relay only). */
  receipts?: number;
  receiptsExpected?: number;
  loadBefore: number;
  loadAfter: number;
  /** Every measured round's deliveries/s, in order (this run is the median one). */
  roundRates: number[];
}

interface Server {
  url: string;
  pid: number;
  tokens: Map<string, string>;
  /** What the server logged that reads as a failure (an ack or a send that did not commit, …). */
  complaints(): string[];
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..');
/** `SWITCHBOARD_BENCH_PROFILE=<dir>` writes a CPU profile of the relay and of the forwarder there (as in end-to-end.ts). */
const profile = process.env.SWITCHBOARD_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.SWITCHBOARD_BENCH_PROFILE] : [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** user + system CPU time of a process in ms, from /proc (0 where there is none). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

async function startRelayServer(members: string[]): Promise<Server> {
  const dir = makeTempDir('sb-bench-fanout-');
  const dataDir = join(dir.path, 'relay');
  const tokens = new Map<string, string>();
  // All accounts in one transaction: a thousand fsyncs would be most of the setup.
  const store = RelayStore.open(dataDir);
  try {
    store.db.exec('BEGIN');
    for (const user of ['sender', ...members]) tokens.set(user, await addUser(sqliteAccounts(store), user));
    store.db.exec('COMMIT');
  } finally {
    store.close();
  }
  let relay: ChildProcess;
  let url: string;
  let log: () => string;
  try {
    ({ child: relay, url, log } = await spawnListening('relay', [...profile, join(ROOT, 'dist', 'relay.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, ...RELAY_FLAGS]));
  } catch (error) {
    dir.remove();
    throw error;
  }
  return {
    url,
    pid: relay.pid!,
    tokens,
    complaints: () => log().split('\n').filter((line) => /fail|error|refused|dropping/i.test(line)),
    stop: async () => {
      await stopChild(relay);
      dir.remove();
    },
  };
}

/** Starts `node <args>` and resolves with its URL once it prints `<what> listening on ws://…`; bounded, killed by PID on failure. */
async function spawnListening(what: string, args: string[]): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = reapWithThisProcess(spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  // Its log (stderr), the last 64 KiB of it: read for complaints once the rounds are done.
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-65_536)));
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const match = new RegExp(`${what} listening on (ws://\\S+)`).exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`${what} exited ${code} before listening`)));
    }),
    30_000,
    `the ${what} to listen`,
  ).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return { child, url, log: () => log };
}

async function startForwarderServer(members: string[]): Promise<Server> {
  const { child, url, log } = await spawnListening('forwarder', ['--import', 'tsx', ...profile, join(__dirname, 'forwarder-process.ts')]);
  return {
    url,
    pid: child.pid!,
    tokens: new Map(['sender', ...members].map((u) => [u, 'forwarder-ignores-tokens'])),
    // It logs nothing when all is well.
    complaints: () => log().split('\n').filter((line) => line.trim() !== ''),
    stop: () => stopChild(child),
  };
}

/** SIGTERM by PID, SIGKILL if it is still there after 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([gone, sleep(5000)]);
  }
}

/** Resolves when `check` holds, polling; rejects after `ms` with `what`. */
async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A round's measurement before the median is picked. */
type Round = Omit<FanoutRun, 'roundRates' | 'receipts' | 'receiptsExpected'>;

/**
 * One server and one group of `n` members on it: everyone logged in, the group created, every
 * member holding its `created` event. `round()` posts messages keeping a window of deliveries
 * in flight and resolves when every member has every one; `finish()` checks the whole tally.
 */
class FanoutGroup {
  private sent = 0;
  private inFlight = 0;
  private stopAt = 0;
  private roundEnd = 0;
  private roundDone: () => void = () => {};
  private readonly rejected: string[] = [];
  private readonly ledger: FanoutLedger;
  private readonly window: number;
  readonly rounds: Round[] = [];

  private constructor(
    readonly kind: 'relay' | 'forwarder',
    readonly n: number,
    private readonly server: Server,
    private readonly sender: FanoutClient,
    private readonly members: FanoutClient[],
    capacity: number,
  ) {
    this.window = Math.max(2, Math.ceil(WINDOW_DELIVERIES / n));
    this.ledger = new FanoutLedger(n, capacity, () => {
      this.inFlight--;
      this.post();
    });
    members.forEach((member, i) => (member.handlers.onMessage = (clientMessageId) => this.ledger.delivered(i, clientMessageId, this.sent)));
    sender.handlers.onVerdict = (v: VerdictFrame) => {
      if (v.result !== 'accepted') this.rejected.push(`${v.client_message_id}: ${v.result}${v.result === 'rejected' ? ` (${v.code ?? ''} ${v.reason})` : ''}`);
    };
  }

  /** Starts the server, logs the sender and `n` members in and creates the group; `capacity` bounds the messages of all rounds. */
  static async open(kind: 'relay' | 'forwarder', n: number, capacity: number): Promise<FanoutGroup> {
    const names = Array.from({ length: n }, (_, i) => memberName(i));
    const server = kind === 'relay' ? await startRelayServer(names) : await startForwarderServer(names);
    const clients: FanoutClient[] = [];
    try {
      const sender = await FanoutClient.connect(server.url, 'sender', server.tokens.get('sender')!, 'sender-bench');
      clients.push(sender);
      const members: FanoutClient[] = [];
      for (let start = 0; start < n; start += LOGIN_BATCH) {
        const batch = names.slice(start, start + LOGIN_BATCH);
        members.push(...(await Promise.all(batch.map((user) => FanoutClient.connect(server.url, user, server.tokens.get(user)!, `${user}-bench`)))));
        clients.push(...members.slice(start));
      }
      const created = new Promise<GroupVerdictFrame>((resolve) => (sender.handlers.onGroupVerdict = resolve));
      sender.send({ type: 'group_create', request_id: 'bench-create', group: GROUP, members: names });
      const verdict = await withTimeout(created, 60_000, 'the group_create verdict');
      if (verdict.result !== 'ok') throw new Error(`group_create refused: ${verdict.code}: ${verdict.reason}`);
      if (verdict.members.length !== n + 1) throw new Error(`the group has ${verdict.members.length} members, expected ${n + 1}`);
      await until("every member's created event", 60_000, () => members.every((m) => m.groupEvents > 0));
      return new FanoutGroup(kind, n, server, sender, members, capacity);
    } catch (error) {
      for (const client of clients) client.close();
      await server.stop();
      throw error;
    }
  }

  /** Posts `count` more messages (or as many as `budgetMs` allows) and resolves when every member has every one. */
  async round(count: number, budgetMs: number, measured: boolean): Promise<void> {
    const before = this.sent;
    const loadBefore = loadavg()[0]!;
    const cpuBefore = [cpuMs(this.server.pid), cpuMs(process.pid)];
    const started = performance.now();
    this.roundEnd = before + count;
    this.stopAt = started + budgetMs;
    const done = new Promise<void>((resolve) => (this.roundDone = resolve));
    this.post();
    // Bounded: what was posted must arrive within a minute of the budget's end.
    await withTimeout(done, budgetMs + 60_000, `every member's deliveries (${this.kind}, ${this.n} members)`).catch((error: unknown) => {
      throw new Error(`${String(error)}; missing: ${this.ledger.missing(this.sent).slice(0, 5).join('; ')}`);
    });
    // The relay's round ends when the sender also holds every member's delivered receipt: they
    // are part of what a delivery costs it, and none may spill into the forwarder's next round.
    if (this.kind === 'relay') {
      await until('the delivered receipts', budgetMs + 60_000, () => this.sender.receipts >= this.sent * this.n);
    }
    const elapsedMs = performance.now() - started;
    const cpuAfter = [cpuMs(this.server.pid), cpuMs(process.pid)];
    if (this.rejected.length > 0) throw new Error(`${this.rejected.length} sends not accepted, first: ${this.rejected[0]}`);
    if (this.ledger.failures.length > 0) throw new Error(`${this.ledger.failures.length} bad deliveries, first: ${this.ledger.failures[0]}`);
    if (!measured) return;
    const deliveries = (this.sent - before) * this.n;
    this.rounds.push({
      members: this.n,
      messages: this.sent - before,
      deliveries,
      elapsedMs,
      perSecond: deliveries / (elapsedMs / 1000),
      serverCpuUs: ((cpuAfter[0]! - cpuBefore[0]!) * 1000) / deliveries,
      clientCpuUs: ((cpuAfter[1]! - cpuBefore[1]!) * 1000) / deliveries,
      loadBefore,
      loadAfter: loadavg()[0]!,
    });
  }

  /**
   * Checks every member got every message exactly once, nothing more arrives in a short quiet
   * spell and (the relay) the sender got one delivered receipt per member per message; returns
   * the median round.
   */
  async finish(): Promise<FanoutRun> {
    const { n, members, ledger, sent } = this;
    const counted = members.reduce((sum, m) => sum + m.messages, 0);
    await sleep(300);
    const after = members.reduce((sum, m) => sum + m.messages, 0);
    if (after !== counted || ledger.failures.length > 0) throw new Error(`deliveries after the last round: ${after - counted}; ${ledger.failures[0] ?? ''}`);
    if (counted !== sent * n) throw new Error(`${counted} deliveries counted, ${sent * n} expected`);
    const missing = ledger.missing(sent);
    if (missing.length > 0) throw new Error(`missing deliveries: ${missing.slice(0, 5).join('; ')}`);
    const problems = [...[this.sender, ...members].flatMap((c) => c.problems), ...this.server.complaints().map((line) => `${this.kind} logged: ${line}`)];
    if (problems.length > 0) throw new Error(`${problems.length} client problems, first: ${problems[0]}`);
    const median = [...this.rounds].sort((x, y) => x.perSecond - y.perSecond)[Math.floor(this.rounds.length / 2)]!;
    const run: FanoutRun = { ...median, roundRates: this.rounds.map((r) => r.perSecond) };
    if (this.kind === 'relay') {
      run.receiptsExpected = sent * n;
      run.receipts = this.sender.receipts;
      if (run.receipts !== run.receiptsExpected) throw new Error(`${run.receipts} delivered receipts, ${run.receiptsExpected} expected`);
    }
    return run;
  }

  async close(): Promise<void> {
    for (const client of [this.sender, ...this.members]) client.close();
    await this.server.stop();
  }

  private post(): void {
    while (this.inFlight < this.window && this.sent < this.roundEnd && performance.now() < this.stopAt) {
      const id = `fo-${this.kind}-${this.n}-${this.sent++}`;
      this.inFlight++;
      this.sender.send({ type: 'send', message: { id, client_message_id: id, to: `#${GROUP}`, body: BODY, reply_to: null, request_id: null, created_at: new Date().toISOString() } });
    }
    if (this.inFlight === 0) this.roundDone();
  }
}

export interface FanoutFigures {
  relay: FanoutRun;
  forwarder: FanoutRun;
}

/**
 * One group size on both servers, set up side by side; after a warm-up of a tenth of a round
 * on each, their measured rounds alternate (forwarder, relay, forwarder, …), so a change in the
 * machine's load weighs on both figures alike.
 */
export async function fanoutBench(n: number, load: FanoutLoad): Promise<FanoutFigures> {
  const messages = Math.max(5, Math.ceil(load.deliveries / n));
  const warmup = Math.max(2, Math.ceil(messages / 10));
  const capacity = warmup + load.rounds * messages;
  const forwarder = await FanoutGroup.open('forwarder', n, capacity);
  try {
    const relay = await FanoutGroup.open('relay', n, capacity);
    try {
      for (const group of [forwarder, relay]) await group.round(warmup, load.budgetMs, false);
      for (let r = 0; r < load.rounds; r++) for (const group of [forwarder, relay]) await group.round(messages, load.budgetMs, true);
      return { forwarder: await forwarder.finish(), relay: await relay.finish() };
    } finally {
      await relay.close();
    }
  } finally {
    await forwarder.close();
  }
}
