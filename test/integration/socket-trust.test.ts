/**
 * A socket another user controls is never connected to: the CLI (delegated verbs, init,
 * daemon, doctor), the extension's dial and the core itself refuse it before sending a byte,
 * with one line that says what is wrong and what to do. Runs as root (chown to a free uid).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dial, DialError } from '../../extension/spawn';
import { homePaths, socketPath } from '../../lib/node/paths';
import { DAEMON, run, runDaemon } from '../support/cli';

const STRANGER_UID = 54321;
const isRoot = process.getuid?.() === 0;

/** A listener posing as the core: counts every connection and byte, answers nothing. */
class FakeCore {
  connections = 0;
  bytes = 0;
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  constructor() {
    this.server = createServer((socket) => {
      this.connections++;
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
      socket.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        // Hang up so old code fails fast instead of waiting for an answer.
        socket.destroy();
      });
      socket.on('error', () => {});
    });
  }
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => resolve());
    });
  }
  close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Scenario {
  name: string;
  /** Builds the home and plants the fake core; returns the env the clients run with. */
  plant(root: string, fake: FakeCore): Promise<{ home: string; env: NodeJS.ProcessEnv; reason: RegExp }>;
}

/** A home too long for `<home>/core.sock`, so the socket moves to a fallback directory. */
function longHome(root: string): string {
  const home = join(root, 'h'.repeat(60), 'i'.repeat(60));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

const scenarios: Scenario[] = [
  {
    name: 'the shared temp directory, pre-created by another uid',
    async plant(root, fake) {
      const home = longHome(root);
      const tmp = join(root, 'tmp');
      mkdirSync(tmp, { mode: 0o1777 });
      chmodSync(tmp, 0o1777);
      // No XDG_RUNTIME_DIR and an OS home too long to hold the socket: the temp dir it is.
      const env = { XDG_RUNTIME_DIR: undefined, TMPDIR: tmp, HOME: longHome(join(root, 'os-home')) };
      const socket = withTmpdir(tmp, () => socketPath(home, { ...process.env, ...env }));
      assert.equal(dirname(socket), join(tmp, `switchboard-${process.getuid!()}`), 'the socket falls back to the temp dir');
      mkdirSync(dirname(socket), { mode: 0o700 });
      await fake.listen(socket);
      chownSync(socket, STRANGER_UID, STRANGER_UID);
      chownSync(dirname(socket), STRANGER_UID, STRANGER_UID);
      return { home, env, reason: new RegExp(`directory .* belongs to uid ${STRANGER_UID}, not to you`) };
    },
  },
  {
    name: 'a socket directory open to everyone (0777)',
    async plant(root, fake) {
      const home = longHome(root);
      const xdg = join(root, 'xdg');
      mkdirSync(xdg, { mode: 0o700 });
      const env = { XDG_RUNTIME_DIR: xdg };
      const socket = socketPath(home, { ...process.env, ...env });
      assert.equal(dirname(socket), join(xdg, 'switchboard'));
      mkdirSync(dirname(socket));
      chmodSync(dirname(socket), 0o777);
      await fake.listen(socket);
      chmodSync(socket, 0o600);
      return { home, env, reason: /is writable by others \(mode 777\)/ };
    },
  },
  {
    name: 'a symlinked socket in the home',
    async plant(root, fake) {
      const home = join(root, 'home');
      mkdirSync(home, { mode: 0o700 });
      const elsewhere = join(root, 'elsewhere');
      mkdirSync(elsewhere, { mode: 0o700 });
      await fake.listen(join(elsewhere, 'real.sock'));
      const socket = homePaths(home).socket;
      assert.equal(socket, join(home, 'core.sock'));
      symlinkSync(join(elsewhere, 'real.sock'), socket);
      return { home, env: {}, reason: /core\.sock: it is a symlink; remove it/ };
    },
  },
];

/** os.tmpdir() reads this process's TMPDIR: point it where the children's is, for one call. */
function withTmpdir<T>(dir: string, fn: () => T): T {
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line of error, got: ${stderr}`);
  return lines[0]!;
}

describe('a socket that is not ours alone', { skip: !isRoot && 'needs root to chown to another uid' }, () => {
  for (const scenario of scenarios) {
    describe(scenario.name, () => {
      let root: string;
      let fake: FakeCore;
      let planted: Awaited<ReturnType<Scenario['plant']>>;
      before(async () => {
        root = mkdtempSync(join(tmpdir(), 'sb-trust-'));
        fake = new FakeCore();
        planted = await scenario.plant(root, fake);
      });
      after(async () => {
        await fake.close();
        rmSync(root, { recursive: true, force: true });
      });

      const cliCases: [string, string[]][] = [
        ['send', ['send', '--to', 'bob', '-m', 'secret body']],
        ['status', ['status']],
        ['init', ['init', '--relay', 'ws://127.0.0.1:9', '--user', 'alice', '--token', 'secret-token']],
        ['daemon start', ['daemon', 'start']],
      ];
      for (const [name, args] of cliCases) {
        it(`\`switchboard ${name}\` refuses it and sends nothing`, async () => {
          const r = await run(planted.home, args, { env: planted.env, timeoutMs: 30_000 });
          const line = oneLine(r.stderr);
          assert.match(line, /^switchboard: refusing to use the core's socket /);
          assert.match(line, planted.reason);
          assert.equal(r.code, 1, line);
          assert.equal(fake.bytes, 0, 'no byte reached the listener');
          assert.equal(fake.connections, 0, 'no connection reached the listener');
        });
      }

      it('`switchboard doctor` reports it as a failure and sends nothing', async () => {
        const r = await run(planted.home, ['doctor'], { env: planted.env, timeoutMs: 30_000 });
        assert.equal(r.code, 1, r.stderr + r.stdout);
        assert.match(r.stdout, /^fail {2}socket: refusing to use the core's socket /m);
        assert.equal(fake.connections, 0);
      });

      it("the extension's dial refuses it without connecting", async () => {
        const socket = withTmpdir(planted.env.TMPDIR ?? tmpdir(), () => socketPath(planted.home, { ...process.env, ...planted.env }));
        await assert.rejects(dial(socket, 2000), (e: unknown) => e instanceof DialError && !e.noCore && planted.reason.test(e.message));
        assert.equal(fake.connections, 0);
      });

      it('the core refuses to serve there', async () => {
        const r = await runDaemon(planted.home, planted.env);
        assert.equal(r.code, 1, r.stderr);
        assert.match(oneLine(r.stderr), /cannot start a core: refusing to use the core's socket /);
        assert.equal(fake.connections, 0);
      });
    });
  }
});

describe('the fallback socket directory in the OS home', () => {
  it('serves a core whose home is too long for <home>/core.sock, and the CLI delegates to it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sb-trust-'));
    const osHome = join(root, 'u');
    mkdirSync(osHome, { mode: 0o700 });
    const env: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: undefined, HOME: osHome };
    const home = longHome(root);
    const socket = socketPath(home, { ...process.env, ...env });
    assert.equal(dirname(socket), join(osHome, '.switchboard', 'run'));
    const core = spawn(process.execPath, [DAEMON, '--home', home], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    core.stderr!.on('data', (d) => (stderr += d));
    try {
      const deadline = Date.now() + 20_000;
      let status: { socket?: string; delegated?: boolean } = {};
      for (;;) {
        const r = await run(home, ['status', '--json'], { env, timeoutMs: 20_000 });
        if (r.code === 0) status = JSON.parse(r.stdout) as typeof status;
        if (status.delegated === true) break;
        assert.equal(core.exitCode, null, `the core exited: ${stderr}`);
        assert.ok(Date.now() < deadline, `the CLI never delegated: ${r.stderr}${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(status.socket, socket);
    } finally {
      core.kill('SIGTERM');
      // bounded: a core that does not stop on SIGTERM within 10 s is killed, and the test goes on
      const stopped = await new Promise<boolean>((resolve) => {
        if (core.exitCode !== null) return resolve(true);
        const timer = setTimeout(() => resolve(false), 10_000);
        core.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!stopped) core.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
});


