/**
 * Test support for the relay, in one place: temp data dirs and test users, relays in the
 * test's own process, relay child processes (`relay serve`, one-shot verbs, and `TestRelay`,
 * which restarts on the same port), and a raw frame-level client. Every child is tracked and
 * killed by its PID (`killAllRelays`), and every wait is bounded, so a broken relay fails a
 * test instead of hanging it. Used only by test/ and bench/; never bundled.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RELAY_PROTOCOL_V6, RELAY_PROTOCOL_VERSION, type KeysResultFrame, type CoreToRelayFrameV5 as CoreToRelayFrameV2, type RelayToCoreFrameV5 as RelayToCoreFrame, type SendFrameV3 as SendFrame } from '../../protocol/relay';
import { parseRelayFrameV5 } from '../../protocol/relay-schemas';
import { decodeBlobChunk, type BlobChunk } from '../../protocol/files';
import { errorMessage } from '../../lib/error-message';
import { withTimeout } from '../../lib/node/with-timeout';
import { addUser, revokeUser } from '../../relay/accounts';
import { RelayServer, type RelayServerOptions } from '../../relay/server';
import { DEFAULT_STORAGE_LIMITS } from '../../relay/storage/limits';
import { SqliteRelayStorage } from '../../relay/storage/sqlite/storage';
import type { RelayStorage, RelayStorageKind } from '../../relay/storage/types';
import { ROOT, runOk } from './cli';
import { loadConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { loadOrCreateIdentity } from '../../lib/node/e2e/identity';
import { reapWithThisProcess } from './reap';

/** Generous: on a loaded machine a token check (scrypt) alone can take seconds. A deadline, not a delay. */
const DEFAULT_WAIT_MS = 20_000;

export function makeTempDir(prefix = 'relay-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---- relays in the test's own process ----------------------------------------------------

/** The variable that picks the storage the relay suites run on. */
export const TEST_RELAY_STORAGE_ENV = 'SWITCHBOARD_TEST_RELAY_STORAGE';

/**
 * Which storage the in-process relays of the suites run on: `$SWITCHBOARD_TEST_RELAY_STORAGE`,
 * `sqlite` by default. Anything else is refused by name rather than quietly run on SQLite.
 */
export function testRelayStorageKind(env: NodeJS.ProcessEnv = process.env): RelayStorageKind {
  const kind = env[TEST_RELAY_STORAGE_ENV] ?? 'sqlite';
  if (kind === 'sqlite') return kind;
  if (kind === 'jetstream') throw new Error(`${TEST_RELAY_STORAGE_ENV}=jetstream: the JetStream storage is not in this build yet`);
  throw new Error(`${TEST_RELAY_STORAGE_ENV}=${kind}: expected sqlite or jetstream`);
}

/** The chosen storage for `dataDir`, opened apart from any relay, as `relay add-user` opens it. */
export function openTestStorage(dataDir: string, options: Partial<RelayServerOptions> = {}): RelayStorage {
  testRelayStorageKind();
  return SqliteRelayStorage.open(dataDir, { ...DEFAULT_STORAGE_LIMITS, ...storageLimitsOf(options) });
}

function storageLimitsOf(options: Partial<RelayServerOptions>): Partial<typeof DEFAULT_STORAGE_LIMITS> {
  const { maxBodyBytes, quotaMessages, quotaBytes, retentionMs, dedupeWindowMs, maxGroupMembers, maxGroupsPerUser, maxFileBytes, maxAgentsPerOwner } = options;
  const all = { maxBodyBytes, quotaMessages, quotaBytes, retentionMs, dedupeWindowMs, maxGroupMembers, maxGroupsPerUser, maxFileBytes, maxAgentsPerOwner };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** Adds a user through a storage of its own, as `relay add-user` would. */
export async function addTestUser(dataDir: string, name: string): Promise<string> {
  const storage = openTestStorage(dataDir);
  try {
    return await addUser(storage.accounts, name);
  } finally {
    await storage.close();
  }
}

export async function revokeTestUser(dataDir: string, name: string): Promise<boolean> {
  const storage = openTestStorage(dataDir);
  try {
    return await revokeUser(storage.accounts, name);
  } finally {
    await storage.close();
  }
}

/** A relay in this process on a free loopback port, on the storage `testRelayStorageKind` picks. */
export async function startTestRelay(options: Partial<RelayServerOptions> & { dataDir: string }): Promise<RelayServer> {
  // The JetStream kind will pass its own `storage` here; SQLite is the server's default.
  testRelayStorageKind();
  return RelayServer.start({ host: '127.0.0.1', port: 0, revocationPollMs: 100, ...options });
}

/** The SQLite file under an in-process relay, for the tests that act on it directly (a disk filled on purpose). */
export function relaySqlite(relay: RelayServer): SqliteRelayStorage {
  if (!(relay.storage instanceof SqliteRelayStorage)) throw new Error(`this test needs the SQLite storage; the relay runs on ${relay.storage.description}`);
  return relay.storage;
}

// ---- relay child processes ---------------------------------------------------------------

const RELAY_BUNDLE = join(ROOT, 'dist', 'relay.js');

/**
 * Which relay a child runs: the built bundle (`node dist/relay.js`, what ships; needs
 * `npm run build`), or the source through tsx (`relay/main.ts`, for tests that run before a build).
 */
export type RelayEntry = 'dist' | 'source';

function relayNodeArgs(entry: RelayEntry, args: string[]): string[] {
  return entry === 'dist' ? [RELAY_BUNDLE, ...args] : ['--import', 'tsx', join(ROOT, 'relay', 'main.ts'), ...args];
}

export interface RelayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `relay serve` process. `stderr()` is everything it logged so far (its log goes to stderr). */
export interface RelayProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  stderr(): string;
  exited: Promise<RelayExit>;
  kill(signal: NodeJS.Signals): void;
}

export interface RelayRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every relay child started here that has not exited yet. */
const liveChildren = new Set<ChildProcess>();

function spawnTracked(entry: RelayEntry, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = reapWithThisProcess(spawn(process.execPath, relayNodeArgs(entry, args), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILL by PID, then wait (bounded) until the process is gone. */
async function killByPid(child: ChildProcess): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return;
  const gone = new Promise<void>((resolveGone) => child.once('exit', () => resolveGone()));
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  await withTimeout(gone, DEFAULT_WAIT_MS, `relay process ${child.pid} to die`);
}

/** Kills, by PID, every relay process started here that is still running, and waits until they are gone. */
export async function killAllRelays(): Promise<void> {
  await Promise.all([...liveChildren].map((child) => killByPid(child)));
}

/** Runs a one-shot relay verb (`relay <args>`) to completion; killed by PID if it outlives `timeoutMs`. */
export async function runRelay(args: string[], options: { entry?: RelayEntry; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RelayRun> {
  const child = spawnTracked(options.entry ?? 'dist', args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<RelayRun>((resolveRun, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
  try {
    return await withTimeout(closed, options.timeoutMs ?? DEFAULT_WAIT_MS, `relay ${args.join(' ')}`);
  } catch (error) {
    await killByPid(child);
    throw new Error(`${errorMessage(error)}; stderr: ${stderr}`);
  }
}

const LISTENING = /relay listening on (wss?:\/\/\S+)/;

/**
 * Starts `relay serve --host 127.0.0.1 --port <port> <args>` (port 0: any free one) and waits for
 * its listening line; a relay that exits first or never listens is killed and reported with its stderr.
 */
export async function spawnRelay(args: string[], options: { entry?: RelayEntry; port?: number; timeoutMs?: number } = {}): Promise<RelayProcess> {
  const child = spawnTracked(options.entry ?? 'dist', ['serve', '--host', '127.0.0.1', '--port', String(options.port ?? 0), ...args]);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the relay process has no pid');
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<RelayExit>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  const listening = new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once('error', reject);
    // 'close', not 'exit': by then all of stderr is read, so the reason (EADDRINUSE, ...) is in it.
    child.once('close', (code, signal) => reject(new Error(`relay exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  let url: string;
  try {
    url = await withTimeout(listening, options.timeoutMs ?? DEFAULT_WAIT_MS, 'the relay process to listen');
  } catch (error) {
    const hung = isRunning(child);
    await killByPid(child);
    throw hung ? new Error(`${errorMessage(error)}; stderr: ${stderr}`) : error;
  }
  return {
    child,
    pid,
    port: Number(new URL(url).port),
    url,
    stderr: () => stderr,
    exited,
    kill: (signal) => process.kill(pid, signal),
  };
}

/** A built relay (`dist/relay.js`) in its own temp data dir that comes back on the same port after a kill -9. */
export class TestRelay {
  private readonly data = makeTempDir('sb-relay-');
  readonly dataDir = this.data.path;
  /** Fixed after the first start, so restarts come back on the same port. */
  port = 0;
  current: RelayProcess | undefined;
  /** Every serve process ever started here, for log inspection. */
  readonly runs: RelayProcess[] = [];
  private readonly extraArgs: string[];

  constructor(options: { extraArgs?: string[] } = {}) {
    this.extraArgs = options.extraArgs ?? [];
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Starts `relay serve` (port 0 the first time, the same port afterwards) and waits for its listening line. */
  async start(timeoutMs = DEFAULT_WAIT_MS): Promise<RelayProcess> {
    if (this.current && isRunning(this.current.child)) throw new Error('relay already running');
    // A port freed by kill -9 can take a moment to be bindable again; retry EADDRINUSE briefly.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const proc = await spawnRelay(['--data', this.dataDir, ...this.extraArgs], { port: this.port, timeoutMs: Math.max(1000, deadline - Date.now()) });
        this.port = proc.port;
        this.current = proc;
        this.runs.push(proc);
        return proc;
      } catch (error) {
        if (!/EADDRINUSE/.test(errorMessage(error)) || Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** kill -9 the running relay and wait until it is gone. */
  async kill9(): Promise<void> {
    const proc = this.current;
    this.current = undefined;
    if (proc) await killByPid(proc.child);
  }

  async restart(): Promise<RelayProcess> {
    await this.kill9();
    return this.start();
  }

  async addUser(name: string): Promise<string> {
    const r = await runRelay(['add-user', name, '--data', this.dataDir, '--json']);
    if (r.code !== 0) throw new Error(`relay add-user ${name} exited ${r.code}: ${r.stderr}`);
    const parsed = JSON.parse(r.stdout) as { user: string; token: string };
    if (parsed.user !== name || !parsed.token) throw new Error(`relay add-user printed ${r.stdout}`);
    return parsed.token;
  }

  async revoke(name: string): Promise<void> {
    const r = await runRelay(['revoke', name, '--data', this.dataDir]);
    if (r.code !== 0) throw new Error(`relay revoke ${name} exited ${r.code}: ${r.stderr}`);
  }

  /**
   * Adds `user` to the relay and runs `switchboard init` in `home` (direct, or through its core
   * when one runs). With the relay up, the home's device keys are then published, as its core
   * would on its first connect: direct messages are sent only end-to-end encrypted, to published
   * keys, so a user whose core has not run yet can still be written to (docs/security.md).
   */
  async configureHome(home: string, user: string, options: { publishKeys?: boolean } = {}): Promise<string> {
    const token = await this.addUser(user);
    await runOk(home, ['init', '--relay', this.url, '--user', user, '--token', token]);
    if ((options.publishKeys ?? true) && this.current && isRunning(this.current.child)) {
      await publishHomeKeys(this.url, user, token, home, loadConfig(homePaths(home)).config.device);
    }
    return token;
  }

  /** Kills the relay and removes its data dir. */
  async dispose(): Promise<void> {
    await this.kill9();
    this.data.remove();
  }
}

// ---- a raw frame-level client ------------------------------------------------------------

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Speaks frames directly, so tests can also send what a well-behaved core never would. */
export class RawRelayClient {
  readonly frames: RelayToCoreFrame[] = [];
  /** Binary frames (protocol v3 blob chunks), decoded, in arrival order; `order` interleaves them with the text frames. */
  readonly chunks: BlobChunk[] = [];
  /** Every frame's kind in arrival order (`chunk` for a binary one): for ordering assertions. */
  readonly order: string[] = [];
  /** Called on every binary chunk as it arrives (a test writing a download to disk, pausing mid-download). */
  onChunk: (chunk: BlobChunk) => void = () => {};
  readonly closed: Promise<CloseInfo>;
  private waiters: (() => boolean)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        const chunk = decodeBlobChunk(data as Buffer);
        if (typeof chunk === 'string') throw new Error(`relay sent an invalid binary frame: ${chunk}`);
        this.order.push('chunk');
        this.chunks.push(chunk);
        this.onChunk(chunk);
        this.wake();
        return;
      }
      // The v5 schemas are a superset of v4 to v1: one parser reads what any version is sent.
      const parsed = parseRelayFrameV5(data.toString());
      if (!parsed.ok) throw new Error(`relay sent an invalid frame: ${parsed.error}`);
      this.order.push(parsed.frame.type === 'deliver' ? `deliver:${parsed.frame.item.kind}` : parsed.frame.type);
      this.frames.push(parsed.frame);
      this.wake();
    });
    this.closed = new Promise((resolveClose) => socket.once('close', (code, reason) => resolveClose({ code, reason: reason.toString() })));
    socket.on('error', () => {});
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawRelayClient> {
    const socket = new WebSocket(url, options);
    const client = new RawRelayClient(socket);
    await withTimeout(
      new Promise<void>((resolveOpen, reject) => {
        socket.once('open', () => resolveOpen());
        socket.once('error', reject);
      }),
      DEFAULT_WAIT_MS,
      `a connection to ${url}`,
    );
    return client;
  }

  /** Opens, says hello and waits for welcome. */
  static async login(url: string, user: string, token: string, device: string, cursor = 0, version = RELAY_PROTOCOL_VERSION): Promise<RawRelayClient> {
    const client = await RawRelayClient.open(url);
    client.send({ type: 'hello', v: version, user, token, device, cursor });
    await client.next('welcome');
    return client;
  }

  send(frame: CoreToRelayFrameV2): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendText(text: string): void {
    this.socket.send(text);
  }

  sendBinary(data: Uint8Array): void {
    this.socket.send(data, { binary: true });
  }

  sendMessage(to: string, body: string, clientMessageId: string, extra: Partial<SendFrame['message']> = {}): void {
    this.send({
      type: 'send',
      message: { id: `id-${clientMessageId}`, client_message_id: clientMessageId, to, body, reply_to: null, request_id: null, created_at: new Date().toISOString(), ...extra },
    });
  }

  /** Removes and returns the first buffered frame of `type` (waiting for one if needed). */
  next<T extends RelayToCoreFrame['type']>(type: T, timeoutMs = DEFAULT_WAIT_MS): Promise<Extract<RelayToCoreFrame, { type: T }>> {
    return new Promise((resolveFrame, reject) => {
      const tryTake = (): boolean => {
        const index = this.frames.findIndex((frame) => frame.type === type);
        if (index < 0) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== tryTake);
        resolveFrame(this.frames.splice(index, 1)[0] as Extract<RelayToCoreFrame, { type: T }>);
        return true;
      };
      const timer = setTimeout(() => {
        // Unregister first, so a frame arriving later is left for the next caller.
        this.waiters = this.waiters.filter((waiter) => waiter !== tryTake);
        reject(new Error(`timed out after ${timeoutMs}ms waiting for a ${type} frame`));
      }, timeoutMs);
      if (!tryTake()) this.waiters.push(tryTake);
    });
  }

  /** Waits for `count` frames of `type`, in arrival order. */
  async take<T extends RelayToCoreFrame['type']>(type: T, count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Extract<RelayToCoreFrame, { type: T }>[]> {
    const taken: Extract<RelayToCoreFrame, { type: T }>[] = [];
    const deadline = Date.now() + timeoutMs;
    while (taken.length < count) taken.push(await this.next(type, Math.max(1, deadline - Date.now())));
    return taken;
  }

  /** True when no frame of `type` arrives within `ms` (for "nothing more is delivered" checks). */
  async quietFor(type: RelayToCoreFrame['type'], ms: number): Promise<boolean> {
    try {
      await this.next(type, ms);
      return false;
    } catch {
      return true;
    }
  }

  closeAndWait(): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close();
    return withTimeout(this.closed, DEFAULT_WAIT_MS, 'the socket to close');
  }

  /** Resolves once `ready()` is true, re-checked on every frame that arrives (text or binary). */
  until(ready: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return new Promise((resolveReady, reject) => {
      const check = (): boolean => {
        if (!ready()) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolveReady();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

// ---- worlds: an in-process relay with users, and the raw clients logged in to it ---------

/** A relay started by `RelayWorlds.world`: where it listens, each user's token, its data dir. */
export interface RelayWorld {
  url: string;
  tokens: Record<string, string>;
  dataDir: string;
}

/**
 * What the raw frame-level relay tests each set up the same way: a temp data dir with users, an
 * in-process relay on it, raw clients logged in, all tracked so `closeAll` (afterEach) and
 * `removeDirs` (after) leave nothing behind. `dirs` and `clients` are open for what a test makes
 * by hand (a relay child's data dir, a client logged in with a special hello).
 */
export class RelayWorlds {
  readonly dirs: ReturnType<typeof makeTempDir>[] = [];
  readonly clients: RawRelayClient[] = [];
  readonly relays: RelayServer[] = [];

  /** A fresh data dir with `users` added, and a relay started on it. */
  readonly world = async (users: string[], options: Partial<Parameters<typeof startTestRelay>[0]> = {}): Promise<RelayWorld> => {
    const dir = makeTempDir();
    this.dirs.push(dir);
    const tokens: Record<string, string> = {};
    for (const user of users) tokens[user] = await addTestUser(dir.path, user);
    const relay = await startTestRelay({ ...options, dataDir: dir.path });
    this.relays.push(relay);
    return { url: relay.url, tokens, dataDir: dir.path };
  };

  /** `user` logged in to `w` with its token, as `device`, from `cursor`, speaking `version`; closed by `closeAll`. */
  async login(w: { url: string; tokens: Record<string, string> }, user: string, device: string, cursor: number, version: number): Promise<RawRelayClient> {
    const client = await RawRelayClient.login(w.url, user, w.tokens[user]!, device, cursor, version);
    this.clients.push(client);
    return client;
  }

  /** Closes every client and in-process relay of the test, and kills every relay child. */
  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((client) => client.closeAndWait().catch(() => undefined)));
    await Promise.all(this.relays.splice(0).map((relay) => relay.close()));
    await killAllRelays();
  }

  removeDirs(): void {
    for (const dir of this.dirs) dir.remove();
  }
}

/**
 * Publishes the device record of `home`'s identity (made now if it has none) as `user`'s device
 * `device`. Direct messages are sent only end-to-end encrypted, to the device keys a recipient
 * published (docs/security.md): a test whose recipient has no core running yet publishes them
 * for it, from the home its core will use later, so that core opens what was sealed for it.
 */
export async function publishHomeKeys(url: string, user: string, token: string, home: string, device: string): Promise<void> {
  const record = signDeviceRecord(loadOrCreateIdentity(home), user, device, Date.now());
  const client = await RawRelayClient.login(url, user, token, device, 0, RELAY_PROTOCOL_V6);
  try {
    client.sendText(JSON.stringify({ type: 'keys_publish', request_id: 'publish', record }));
    const answer = (await client.next('keys_result' as never)) as unknown as KeysResultFrame;
    assert.equal(answer.result, 'ok', JSON.stringify(answer));
  } finally {
    await client.closeAndWait().catch(() => undefined);
  }
}
