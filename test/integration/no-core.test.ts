/**
 * Without a core (issue 10, items 1, 7, 8, 11): direct-mode `inbox`, `read` and `status` pull
 * what the relay holds first, and say why when they cannot; `status` tells the truth; a
 * queued send says why and what fixes it; `doctor` really dials the relay; a direct `send`
 * leaves nothing behind that delays its exit. A real relay on 127.0.0.1, real homes, the
 * built CLI as child processes; every wait is bounded and nothing asserts on timing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { CoreStatus, Message, PullResult, SendResult } from '../../protocol/rpc';
import { readConfig, writeConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';
import { CLI, ROOT, kill9, nobodyCannotRunCli, run, runOk, startCore, tempHome, type RunResult } from '../support/cli';
import { reapWithThisProcess } from '../support/reap';
import { killAllRelays, TestRelay } from '../support/relay';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAllRelays();
});

function home(prefix: string): string {
  const made = tempHome(prefix);
  cleanups.push(made.cleanup);
  return made.home;
}

async function relayWith(...users: string[]): Promise<{ relay: TestRelay; homes: Record<string, string> }> {
  const relay = new TestRelay();
  cleanups.push(() => relay.dispose());
  await relay.start();
  const homes: Record<string, string> = {};
  for (const user of users) {
    homes[user] = home(`sb-${user}-`);
    await relay.configureHome(homes[user]!, user);
  }
  return { relay, homes };
}

/** The lines a command wrote to stderr, without blank ones. */
function stderrLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((line) => line.length > 0);
}

function noStackTrace(r: RunResult): void {
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at .+:\d+:\d+/, 'no stack trace');
}

type StatusJson = Omit<CoreStatus, 'pid' | 'since'> & { pid: number | null; since: string | null; core_running: boolean; delegated: boolean; pull: PullResult | null };

describe('no core, new mail anyway', () => {
  test('bob has no core; alice sends; `bob inbox` fetches it, stores it and acks it, and `bob read` fetches too', async () => {
    const { homes } = await relayWith('alice', 'bob');
    const first = JSON.parse(await runOk(homes.alice!, ['send', '--to', 'bob', '-m', 'first, while bob has no core', '--json'])) as SendResult;
    assert.equal(first.status, 'sent');

    const inbox = await run(homes.bob!, ['inbox']);
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.match(inbox.stdout, new RegExp(`^\\* ${first.id} .* alice: first, while bob has no core$`, 'm'));
    assert.equal(inbox.stderr, '', 'nothing to explain when the pull caught up');

    // Acked as a core acks, before that command ended (not only by the next hello's cursor):
    // the relay tells alice (her own pull) that bob's device took it.
    const delivered = JSON.parse(await runOk(homes.alice!, ['read', first.id, '--json'])) as Message;
    assert.equal(delivered.state, 'delivered', 'the receipt for bob’s ack reached alice');

    // Stored once: asking again fetches nothing new and shows it once.
    const again = JSON.parse(await runOk(homes.bob!, ['inbox', '--json'])) as { messages: Message[] };
    assert.deepEqual(again.messages.map((m) => m.id), [first.id]);

    // `read` of a message that only the relay has yet: fetched first, then shown.
    const second = JSON.parse(await runOk(homes.alice!, ['send', '--to', 'bob', '-m', 'second', '--json'])) as SendResult;
    const read = await run(homes.bob!, ['read', second.id]);
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /^from: +alice$/m);
    assert.match(read.stdout, /\n\nsecond\n$/);
  });

  test('a backlog larger than one burst is fetched whole: the pull waits for the end of the relay’s backlog, not for a quiet moment', async () => {
    const { homes } = await relayWith('alice', 'bob');
    const alice = await startCore(homes.alice!);
    cleanups.push(() => kill9(alice));
    const count = 600;
    const { SocketClient } = await import('../../server/cli/socket-client');
    const { PROTOCOL_VERSION } = await import('../../protocol/rpc');
    const client = await SocketClient.connect(homePaths(homes.alice!).socket);
    try {
      await client.call('initialize', { client: { name: 'no-core-test', version: '1' }, protocol: PROTOCOL_VERSION });
      const results = (await Promise.all(Array.from({ length: count }, (_, i) => client.call('message/send', { to: 'bob', body: `backlog ${i}`, wait_ms: 30_000 })))) as SendResult[];
      assert.ok(results.every((r) => r.status === 'sent'), 'all at the relay');
    } finally {
      client.close();
    }
    await kill9(alice);
    const status = JSON.parse(await runOk(homes.bob!, ['status', '--json'])) as StatusJson;
    assert.deepEqual(status.pull, { fetched: count, caught_up: true, problem: null });
    assert.equal(status.messages, count);
  });

  test('a second device of bob, after the first took (and the relay dropped) everything: caught up at once, nothing to wait for', async () => {
    const { relay, homes } = await relayWith('alice', 'bob');
    await runOk(homes.alice!, ['send', '--to', 'bob', '-m', 'taken by the first device']);
    await runOk(homes.bob!, ['inbox']);
    const laptop = home('sb-bob-laptop-');
    const token = readFileSync(homePaths(homes.bob!).token, 'utf8').trim();
    await runOk(laptop, ['init', '--relay', relay.url, '--user', 'bob', '--token', token]);
    const status = JSON.parse(await runOk(laptop, ['status', '--json'])) as StatusJson;
    assert.deepEqual(status.pull, { fetched: 0, caught_up: true, problem: null });
  });

  test('relay stopped: `inbox` shows what is stored here and says in one line why nothing was fetched; exit 0', async () => {
    const { relay, homes } = await relayWith('alice', 'bob');
    await runOk(homes.alice!, ['send', '--to', 'bob', '-m', 'before the relay stopped']);
    await runOk(homes.bob!, ['inbox']);
    await relay.kill9();

    const r = await run(homes.bob!, ['inbox']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /alice: before the relay stopped/);
    const lines = stderrLines(r);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^switchboard: nothing new fetched from the relay: relay unreachable at ${relay.url.replace(/[.]/g, '\\.')}.*; showing what is stored here$`));
    noStackTrace(r);
  });

  test('not configured: `inbox` says so in one line and still shows the (empty) store', async () => {
    const fresh = home('sb-fresh-');
    const r = await run(fresh, ['inbox']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'no messages');
    assert.deepEqual(stderrLines(r), ['switchboard: nothing new fetched from the relay: no relay configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`; showing what is stored here']);
  });
});

describe('status tells the truth without a core', () => {
  test('no core running, no pid, what is configured, and what the pull found', async () => {
    const { relay, homes } = await relayWith('alice', 'bob');
    await runOk(homes.alice!, ['send', '--to', 'bob', '-m', 'for the status']);

    const human = await runOk(homes.bob!, ['status']);
    assert.match(human, /^core: +no core running; .*`switchboard daemon start`/m);
    assert.match(human, new RegExp(`^relay: +${relay.url.replace(/[.]/g, '\\.')} as bob \\(configured`, 'm'));
    assert.match(human, /^pull: +1 new message fetched just now; caught up with the relay$/m);
    assert.doesNotMatch(human, /^sync: +disabled/m);
    assert.doesNotMatch(human, /pid/);

    const json = JSON.parse(await runOk(homes.bob!, ['status', '--json'])) as StatusJson;
    assert.equal(json.core_running, false);
    assert.equal(json.pid, null, 'not the CLI’s own pid');
    assert.equal(json.since, null);
    assert.equal(json.sync.relay, relay.url);
    assert.equal(json.sync.user, 'bob');
    assert.deepEqual(json.pull, { fetched: 0, caught_up: true, problem: null });

    await relay.kill9();
    const offline = JSON.parse(await runOk(homes.bob!, ['status', '--json'])) as StatusJson;
    assert.equal(offline.pull?.caught_up, false);
    assert.equal(offline.pull?.problem?.code, 'unreachable');
    assert.match(await runOk(homes.bob!, ['status']), /^pull: +nothing new fetched just now: relay unreachable at /m);
  });

  test('with a core: its pid, and no pull', async () => {
    const { homes } = await relayWith('bob');
    const core = await startCore(homes.bob!);
    try {
      const json = JSON.parse(await runOk(homes.bob!, ['status', '--json'])) as StatusJson;
      assert.equal(json.pid, core.pid);
      assert.equal(json.core_running, true);
      assert.equal(json.pull, null);
    } finally {
      await kill9(core);
    }
  });

  test('not configured: status says so and names the command', async () => {
    const human = await runOk(home('sb-fresh-'), ['status']);
    assert.match(human, /^relay: +not configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`$/m);
    assert.doesNotMatch(human, /^sync:/m);
  });
});

describe('"queued" says why and what fixes it', () => {
  const queued = async (at: string, args: string[] = []): Promise<{ json: SendResult; human: string }> => {
    const r = await run(at, ['send', '--to', 'bob', '-m', 'hello', '--json', ...args]);
    assert.equal(r.code, 3, r.stderr + r.stdout);
    const h = await run(at, ['send', '--to', 'bob', '-m', 'hello again', ...args]);
    assert.equal(h.code, 3, h.stderr + h.stdout);
    return { json: JSON.parse(r.stdout) as SendResult, human: h.stdout.trim() };
  };

  test('before init', async () => {
    const { json, human } = await queued(home('sb-fresh-'));
    assert.equal(json.reason_code, 'not_configured');
    assert.equal(json.reason, 'no relay configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`');
    assert.match(human, /^queued \S+ to bob: no relay configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`$/);
  });

  test('with a token the relay refuses', async () => {
    const { relay, homes } = await relayWith('alice');
    await relay.revoke('alice');
    const { json, human } = await queued(homes.alice!);
    assert.equal(json.reason_code, 'unauthorized');
    assert.match(json.reason ?? '', /^the relay refused the token for alice; get a new token .* and run `switchboard init --relay ws:\/\/127\.0\.0\.1:\d+ --user alice --token <token>`$/);
    assert.match(human, /^queued \S+ to bob: the relay refused the token for alice; /);
  });

  test('relay unreachable and no core: retried once a core runs, and how to start one', async () => {
    const { relay, homes } = await relayWith('alice');
    await relay.kill9();
    const { json, human } = await queued(homes.alice!);
    assert.equal(json.reason_code, 'unreachable');
    assert.match(json.reason ?? '', new RegExp(`^relay unreachable at ${relay.url.replace(/[.]/g, '\\.')}.*; it is retried automatically while a core runs — start one with \`switchboard daemon start\`$`));
    assert.match(human, /^queued \S+ to bob: relay unreachable at .*`switchboard daemon start`$/);
  });

  test('relay unreachable with a core running: the core retries it', async () => {
    const { relay, homes } = await relayWith('alice');
    await relay.kill9();
    const core = await startCore(homes.alice!);
    try {
      const { json } = await queued(homes.alice!);
      assert.equal(json.reason_code, 'unreachable');
      assert.match(json.reason ?? '', /; the core retries it automatically \(see `switchboard outbox`\)$/);
    } finally {
      await kill9(core);
    }
  });

  test('online but --wait 0 without a core: not waited, and what sends it later', async () => {
    const { homes } = await relayWith('alice', 'bob');
    const { json } = await queued(homes.alice!, ['--wait', '0']);
    assert.equal(json.reason_code, 'not_waited');
    assert.match(json.reason ?? '', /--wait 0 .*start one with `switchboard daemon start`$/);
  });
});

describe('doctor dials the relay', () => {
  async function listening(server: Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  }

  /** Points `at` at `relay` as `user`, written as init would, without dialling anything. */
  function configure(at: string, relay: string, user = 'bob', token = 'not-a-real-token'): void {
    const paths = homePaths(at);
    writeConfig(paths, { ...readConfig(paths), relay, user, insecure: false }, token);
  }

  const relayCheck = (r: RunResult) => r.stdout.split('\n').find((line) => /^\S+ +relay: /.test(line));

  test('ok with the real relay and the token: connected as bob, exit 0', async () => {
    const { relay, homes } = await relayWith('bob');
    const r = await run(homes.bob!, ['doctor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(relayCheck(r), `ok    relay: connected to ${relay.url} as bob`);
  });

  test('a refused token, nothing listening, something that is not a relay, a TLS problem: each a failed check, exit 1', async () => {
    const { relay, homes } = await relayWith('bob');
    await relay.revoke('bob');
    const refused = await run(homes.bob!, ['doctor']);
    assert.equal(refused.code, 1);
    assert.match(relayCheck(refused) ?? '', /^fail +relay: the relay refused the token for bob; get a new token/);

    await relay.kill9();
    const down = await run(homes.bob!, ['doctor']);
    assert.equal(down.code, 1);
    assert.match(relayCheck(down) ?? '', new RegExp(`^fail +relay: relay unreachable at ${relay.url.replace(/[.]/g, '\\.')}`));

    const web = home('sb-web-');
    configure(web, `ws://127.0.0.1:${await listening(createHttpServer((_req, res) => res.end('a web page')))}`);
    const wrongPort = await run(web, ['doctor']);
    assert.equal(wrongPort.code, 1);
    assert.match(relayCheck(wrongPort) ?? '', /^fail +relay: ws:\/\/127\.0\.0\.1:\d+ is not a Switchboard relay: .*check the URL and port/);

    const certDir = home('sb-cert-');
    const [key, cert] = [join(certDir, 'key.pem'), join(certDir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const tls = home('sb-tls-');
    configure(tls, `wss://127.0.0.1:${await listening(createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }))}`);
    const untrusted = await run(tls, ['doctor']);
    assert.equal(untrusted.code, 1);
    assert.match(relayCheck(untrusted) ?? '', /^fail +relay: TLS error talking to wss:\/\/127\.0\.0\.1:\d+: /);
    for (const r of [refused, down, wrongPort, untrusted]) noStackTrace(r);
  });

  test('a missing home and a read-only home are failed checks, never a crash; exit 1', async (t) => {
    const parent = home('sb-parent-');
    const missing = await run(join(parent, 'nope'), ['doctor']);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^fail +home: .*nope does not exist; run `switchboard init …`/m);
    noStackTrace(missing);

    // A home that was in use (store, lock, config) and then became read-only. As root a mode
    // alone does not stop writes, so the command then runs as nobody, who owns the home.
    const cannot = nobodyCannotRunCli();
    if (cannot) return t.skip(`the read-only part: ${cannot}`);
    const used = join(parent, 'used');
    mkdirSync(used, { mode: 0o700 });
    await runOk(used, ['status']);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      execFileSync('chown', ['-R', '65534:65534', used]);
      chmodSync(parent, 0o711);
    }
    chmodSync(used, 0o500);
    cleanups.push(() => {
      chmodSync(used, 0o700);
      rmSync(used, { recursive: true, force: true });
    });
    const r = await new Promise<RunResult>((resolve, reject) => {
      const child = reapWithThisProcess(
        spawn(process.execPath, [CLI, 'doctor'], { env: { ...process.env, SWITCHBOARD_HOME: used }, stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}) }),
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^fail +home: .*used is read-only for this user: nothing can be stored; /m);
    assert.equal(r.stderr, '', 'findings go to the report, not to a crash on stderr');
    noStackTrace(r);
  });
});

describe('a direct send exits once its answer is durable', () => {
  test('after printing its verdict nothing keeps the process alive, and it exits without a signal', async () => {
    const { homes } = await relayWith('alice', 'bob');
    const r = await run(homes.alice!, ['send', '--to', 'bob', '-m', 'and then exit'], {
      env: { NODE_OPTIONS: `--require ${join(ROOT, 'test', 'support', 'loop-probe.cjs')}` },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sent \S+ to bob$/m);
    const probe = /^loop-probe (.*)$/m.exec(r.stderr);
    assert.ok(probe, r.stderr);
    // stdout and stderr themselves are pipes here; nothing else (no timer, socket or file) may be left.
    const left = JSON.parse(probe[1]!) as string[];
    assert.ok(left.filter((r) => r === 'PipeWrap').length <= 2, r.stderr);
    assert.deepEqual(left.filter((r) => r !== 'PipeWrap'), [], 'nothing holds the event loop once the verdict is out');
  });
});
