/**
 * Test support for the relay: temp data dirs, in-process relays, relay child processes
 * (tracked and killed by PID), and a raw frame-level client. Every wait has a timeout so a
 * broken relay fails a test instead of hanging it. Used only by test/; never bundled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { RELAY_PROTOCOL_VERSION, type CoreToRelayFrame, type RelayToCoreFrame, type SendFrame, type WelcomeFrame } from '../../protocol/relay';
import { parseRelayFrame } from '../../protocol/relay-schemas';
import { addUser, revokeUser } from '../../relay/accounts';
import { RelayServer, type RelayServerOptions } from '../../relay/server';
import { RelayStore } from '../../relay/store';
import { reapWithThisProcess } from './reap';
import { withTimeout } from '../../lib/node/with-timeout';

export const REPO_ROOT = resolve(__dirname, '..', '..');
/** Generous: on a loaded machine a token check (scrypt) alone can take seconds. A deadline, not a delay. */
export const DEFAULT_WAIT_MS = 20_000;


export function makeTempDir(prefix = 'relay-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Adds a user through a separate store connection, as `relay add-user` would. */
export async function addTestUser(dataDir: string, name: string): Promise<string> {
  const store = RelayStore.open(dataDir);
  try {
    return await addUser(store, name);
  } finally {
    store.close();
  }
}

export function revokeTestUser(dataDir: string, name: string): boolean {
  const store = RelayStore.open(dataDir);
  try {
    return revokeUser(store, name);
  } finally {
    store.close();
  }
}

export async function startTestRelay(options: Partial<RelayServerOptions> & { dataDir: string }): Promise<RelayServer> {
  return RelayServer.start({ host: '127.0.0.1', port: 0, revocationPollMs: 100, ...options });
}

// ---- relay child processes ---------------------------------------------------------------

export interface RelayProcess {
  pid: number;
  url: string;
  port: number;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

const liveChildren = new Set<ChildProcess>();

/** Kills (by PID, SIGKILL) every relay process a test started and did not stop. */
export function killAllRelayProcesses(): void {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }
  liveChildren.clear();
}

/** Runs `relay <args>` from source through tsx, exactly as `node dist/relay.js` would. */
export function relayCliArgs(args: string[]): string[] {
  return ['--import', 'tsx', join(REPO_ROOT, 'relay', 'main.ts'), ...args];
}

export async function spawnRelay(args: string[], timeoutMs = 15_000): Promise<RelayProcess> {
  const child = reapWithThisProcess(spawn(process.execPath, relayCliArgs(['serve', '--port', '0', ...args]), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  liveChildren.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolveExit({ code, signal });
    });
  });
  const url = await withTimeout(
    new Promise<string>((resolveUrl, reject) => {
      let stdout = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /relay listening on (wss?:\/\/\S+)/.exec(stdout);
        if (match?.[1]) resolveUrl(match[1]);
      });
      void exited.then(({ code, signal }) => reject(new Error(`relay exited (${code ?? signal}) before listening: ${stderr}`)));
    }),
    timeoutMs,
    'the relay process to listen',
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('relay process has no pid');
  return {
    pid,
    url,
    port: Number(new URL(url).port),
    child,
    stderr: () => stderr,
    exited,
    kill: (signal) => process.kill(pid, signal),
  };
}

/** Runs a one-shot relay CLI verb and collects its output. */
export function runRelayCliProcess(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000) {
  return withTimeout(
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = reapWithThisProcess(spawn(process.execPath, relayCliArgs(args), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
      liveChildren.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('close', (code) => {
        liveChildren.delete(child);
        resolveRun({ code, stdout, stderr });
      });
    }),
    timeoutMs,
    `relay ${args.join(' ')}`,
  );
}

// ---- a raw frame-level client ------------------------------------------------------------

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Speaks frames directly, so tests can also send what a well-behaved core never would. */
export class RawRelayClient {
  readonly frames: RelayToCoreFrame[] = [];
  readonly closed: Promise<CloseInfo>;
  private waiters: (() => boolean)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const parsed = parseRelayFrame(data.toString());
      if (!parsed.ok) throw new Error(`relay sent an invalid frame: ${parsed.error}`);
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
  static async login(url: string, user: string, token: string, device: string, cursor = 0): Promise<RawRelayClient> {
    const client = await RawRelayClient.open(url);
    client.send({ type: 'hello', v: RELAY_PROTOCOL_VERSION, user, token, device, cursor });
    await client.next('welcome');
    return client;
  }

  send(frame: CoreToRelayFrame): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendText(text: string): void {
    this.socket.send(text);
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

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export type { WelcomeFrame };
