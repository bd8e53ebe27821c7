/**
 * Settings a person types, or leaves in config.json, never crash anything, and `init` says
 * what they lead to: a malformed relay URL is refused before anything is written; well-formed
 * settings are saved and tried with a hello (a real relay on loopback, a closed port, a plain
 * HTTP server that is not a relay, TLS to a server that has none). A core started on a bad
 * stored URL keeps running and says why it does not sync.
 *
 * Every process is a real child process killed by its PID; every wait is bounded.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CoreStatus } from '../../protocol/rpc';
import { homePaths } from '../../lib/node/paths';
import { kill9, run, startCore, tempHome } from '../support/cli';
import { killAllRelays, TestRelay } from '../support/relay';
import { withClient } from '../support/wait';

const cleanups: (() => void | Promise<void>)[] = [];
const cores = new Set<ChildProcess>();

after(async () => {
  for (const core of cores) await kill9(core);
  await killAllRelays();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(): string {
  const h = tempHome('sb-settings-');
  cleanups.push(h.cleanup);
  return h.home;
}

async function core(h: string): Promise<ChildProcess> {
  const child = await startCore(h);
  cores.add(child);
  return child;
}

/** stderr as one line: it must be exactly one. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${stderr}`);
  return lines[0]!;
}

const savedRelay = (h: string) => (JSON.parse(readFileSync(homePaths(h).config, 'utf8')) as { relay: string }).relay;
const savedToken = (h: string) => readFileSync(homePaths(h).token, 'utf8').trim();
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let relay: TestRelay;
let bobToken: string;
let web: Server;
let webUrl: string;

before(async () => {
  relay = new TestRelay();
  cleanups.push(() => relay.dispose());
  await relay.start();
  bobToken = await relay.addUser('bob');
  // A web server that is not a relay: it answers every request, upgrade or not, with a page.
  web = createServer((_req, res) => res.end('<html>hello</html>'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', () => resolve()));
  webUrl = `ws://127.0.0.1:${(web.address() as { port: number }).port}`;
  cleanups.push(() => new Promise<void>((resolve) => web.close(() => resolve())));
});

describe('init refuses a malformed relay URL', () => {
  for (const url of ['ws://%%%', 'ws://127.0.0.1:8787/#top', 'ws://[::1', 'ws://127.0.0.1:99999']) {
    it(`${url}: exit 2, one line saying what a relay URL looks like, nothing written`, async () => {
      const h = home();
      const r = await run(h, ['init', '--relay', url, '--user', 'bob', '--token', 'secret']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLine(r.stderr), /^switchboard: init: ".*" (is not a URL|has a #fragment).*; a relay URL looks like wss:\/\/relay\.example\.com or ws:\/\/127\.0\.0\.1:8787$/);
      assert.equal(existsSync(homePaths(h).config), false, 'no config written');
      assert.equal(existsSync(homePaths(h).token), false, 'no token written');
    });
  }

  it('through a running core too (config/set refuses it the same way), and the core keeps running', async () => {
    const h = home();
    const child = await core(h);
    const r = await run(h, ['init', '--relay', 'ws://%%%', '--user', 'bob', '--token', 'secret']);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /a relay URL looks like/);
    const status = await withClient(h, 'settings-test', (c) => c.call('status/get', {}) as Promise<CoreStatus>);
    assert.equal(status.pid, child.pid);
  });
});

for (const mode of ['direct', 'delegated'] as const) {
  describe(`init tries the settings with a hello (${mode})`, () => {
    const prepare = async () => {
      const h = home();
      if (mode === 'delegated') await core(h);
      return h;
    };

    it('a real relay and a good token: "connected as bob", exit 0', async () => {
      const h = await prepare();
      const r = await run(h, ['init', '--relay', relay.url, '--user', 'bob', '--token', bobToken]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^connected as bob to ${escape(relay.url)}$`, 'm'));
      assert.equal(r.stderr, '');
      assert.equal(savedRelay(h), relay.url);
    });

    it('a refused token: says so and what to do, exit 1; the settings are saved and it says so', async () => {
      const h = await prepare();
      const r = await run(h, ['init', '--relay', relay.url, '--user', 'bob', '--token', 'not-the-token']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`^switchboard: the relay at ${escape(relay.url)} refused the token for bob; get a new one with .*relay add-user bob.*; the settings are saved`));
      assert.equal(savedToken(h), 'not-the-token');
    });

    it('a closed port: "relay unreachable at <url>", the settings saved (said so), exit 0', async () => {
      const h = await prepare();
      const url = `ws://127.0.0.1:${await closedPort()}`;
      const r = await run(h, ['init', '--relay', url, '--user', 'bob', '--token', bobToken]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`^switchboard: relay unreachable at ${escape(url)}: connection refused .*; the settings are saved and `));
      assert.equal(savedRelay(h), url);
    });

    it('a plain HTTP server: "not a Switchboard relay", exit 1', async () => {
      const h = await prepare();
      const r = await run(h, ['init', '--relay', webUrl, '--user', 'bob', '--token', bobToken]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`^switchboard: ${escape(webUrl)} is not a Switchboard relay: it answered HTTP 200 OK instead of accepting a WebSocket; the settings are saved`));
    });

    it('a server that accepts and never answers: init gives up after its deadline, says so, keeps the settings, exit 0', async () => {
      const h = await prepare();
      const silent = createTcpServer((socket) => socket.on('error', () => {}));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      try {
        const url = `ws://127.0.0.1:${(silent.address() as { port: number }).port}`;
        const r = await run(h, ['init', '--relay', url, '--user', 'bob', '--token', bobToken], { timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.match(oneLine(r.stderr), new RegExp(`^switchboard: (relay unreachable at ${escape(url)}: no answer|no answer from the relay at ${escape(url)} within 10 s).*; the settings are saved`));
        assert.equal(savedRelay(h), url);
      } finally {
        silent.close();
      }
    });

    it('wss:// to a relay without TLS: a TLS error, exit 1', async () => {
      const h = await prepare();
      const url = relay.url.replace('ws://', 'wss://');
      const r = await run(h, ['init', '--relay', url, '--user', 'bob', '--token', bobToken]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`^switchboard: TLS error talking to ${escape(url)}: the server there does not speak TLS`));
    });
  });
}

describe('a bad relay URL stored in config.json never crashes anything', () => {
  // Each of these made the WebSocket client throw, or failed to parse, inside the core.
  const urls = ['ws://127.0.0.1:8787/#top', 'ftp://127.0.0.1:8787', 'ws://%%%', 'http://127.0.0.1:8787'];

  const plant = (url: string) => {
    const h = home();
    mkdirSync(h, { recursive: true });
    writeFileSync(homePaths(h).config, JSON.stringify({ relay: url, user: 'bob', device: 'dev-1' }), { mode: 0o600 });
    writeFileSync(homePaths(h).token, 'secret\n', { mode: 0o600 });
    return h;
  };

  for (const url of urls) {
    it(`${url}: the core keeps running and reports a sync error with the reason; a direct send prints one line`, async () => {
      const h = plant(url);
      const child = await core(h);
      const status = await withClient(h, 'settings-test', (c) => c.call('status/get', {}) as Promise<CoreStatus>);
      assert.equal(status.sync.state, 'error');
      assert.match(status.sync.last_error ?? '', new RegExp(`^refusing to connect: the relay URL in ${escape(homePaths(h).config)} is unusable: .*a relay URL looks like .*switchboard init`));
      const human = await run(h, ['status']);
      assert.equal(human.code, 0);
      assert.match(human.stdout, /sync: +error/);
      assert.equal(child.exitCode, null, 'the core is still running');
      await kill9(child);
      cores.delete(child);

      const sent = await run(h, ['send', '--to', 'alice', '-m', 'hi', '--wait', '1']);
      assert.equal(sent.code, 3, sent.stderr + sent.stdout);
      assert.equal(sent.stdout.trim().split('\n').length, 1);
      assert.match(sent.stdout, /^queued /);
      assert.doesNotMatch(sent.stderr, /\bat .*\.js:\d+|SyntaxError|TypeError/);
    });
  }
});

describe('a config.json a person broke never stops a core', () => {
  const broken: [string, string, RegExp][] = [
    ['not JSON', '{"relay": "ws://127.0.0.1:8787",', /is not valid JSON \(.*\); fix it, or run `switchboard init` to write it afresh$/],
    ['not an object', '["ws://127.0.0.1:8787"]', /does not hold a JSON object; run `switchboard init`/],
    ['a relay that is not a string', '{"relay": 8787, "user": "bob", "device": "dev-1"}', /"relay" in .* is not a string; fix it with `switchboard init`$/],
    ['a user that breaks the name rule', '{"relay": "ws://127.0.0.1:8787", "user": "bob smith", "device": "dev-1"}', /the user in .* is unusable: invalid user name "bob smith": .*; fix it with `switchboard init`$/],
  ];
  for (const [what, text, reason] of broken) {
    it(`${what}: the core starts, reports sync error with the reason, and init (through it) writes the file afresh`, async () => {
      const h = home();
      mkdirSync(h, { recursive: true });
      writeFileSync(homePaths(h).config, text, { mode: 0o600 });
      writeFileSync(homePaths(h).token, 'secret\n', { mode: 0o600 });
      const child = await core(h);
      const status = await withClient(h, 'settings-test', (c) => c.call('status/get', {}) as Promise<CoreStatus>);
      assert.equal(status.sync.state, 'error');
      assert.match(status.sync.last_error ?? '', new RegExp(`^refusing to connect: `));
      assert.match(status.sync.last_error ?? '', reason);
      assert.equal(readFileSync(homePaths(h).config, 'utf8'), text, 'the file is left for the person to fix');
      const r = await run(h, ['init', '--relay', relay.url, '--user', 'bob', '--token', bobToken]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^connected as bob to /m);
      assert.equal(savedRelay(h), relay.url);
      assert.equal(child.exitCode, null, 'the core is still running');
    });
  }
});
