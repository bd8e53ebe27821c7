/**
 * What a stranger can make the relay hold or wait for, one limit per test, against an
 * in-process relay on 127.0.0.1 with real ws clients and a real SQLite file. Every count is
 * bounded and every wait has a deadline; assertions are on counts, codes and order, never time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { RELAY_MAX_FRAME_BYTES, RELAY_REFUSAL_HEADER, RelayCloseCodes } from '../../protocol/relay';
import { relayDbPath, prepareDataDir } from '../../relay/data-dir';
import { migrate } from '../../relay/migrations';
import type { RelayServer, RelayServerOptions } from '../../relay/server';
import { RelayStore } from '../../relay/store';
import { addTestUser, killAllRelays, makeTempDir, RawRelayClient, revokeTestUser, startTestRelay, TestRelay, type CloseInfo } from '../support/relay';
import { deriveScrypt, generateToken } from '../../relay/tokens';
import type { CoreStatus } from '../../protocol/rpc';
import { RelayLink } from '../../server/sync/relay-link';
import { kill9, runOk, startCore, tempHome } from '../support/cli';
import { withTimeout } from '../../lib/node/with-timeout';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A relay in a fresh data dir with `users` added; everything is closed and removed after the test. */
async function relayWith(users: string[], options: Partial<RelayServerOptions> = {}): Promise<{ relay: RelayServer; dataDir: string; tokens: Record<string, string> }> {
  const dir = makeTempDir('relay-limits-');
  const dataDir = join(dir.path, 'data');
  const tokens: Record<string, string> = {};
  for (const user of users) tokens[user] = await addTestUser(dataDir, user);
  const relay = await startTestRelay({ dataDir, ...options });
  cleanups.push(() => dir.remove());
  cleanups.push(() => relay.close());
  return { relay, dataDir, tokens };
}

function track<T extends RawRelayClient>(client: T): T {
  cleanups.push(() => void client.closeAndWait().catch(() => undefined));
  return client;
}

/** Writes `user`'s row as a relay before SHA-256 tokens did: scrypt hash and salt, kind scrypt. */
async function makeScryptRow(dataDir: string, user: string): Promise<string> {
  const token = generateToken();
  const salt = randomBytes(16);
  const hash = await deriveScrypt(token, salt);
  const db = new Database(relayDbPath(dataDir));
  try {
    db.prepare("INSERT INTO users (name, token_hash, salt, hash_kind, created_at) VALUES (?, ?, ?, 'scrypt', ?)").run(user, hash, salt, new Date().toISOString());
  } finally {
    db.close();
  }
  return token;
}

function credentialRow(dataDir: string, user: string): { hash_kind: string; token_hash: Buffer; salt: Buffer } {
  const db = new Database(relayDbPath(dataDir), { readonly: true });
  try {
    return db.prepare('SELECT hash_kind, token_hash, salt FROM users WHERE name = ? AND revoked_at IS NULL').get(user) as { hash_kind: string; token_hash: Buffer; salt: Buffer };
  } finally {
    db.close();
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Opens `count` connections, each saying hello as `user` with `token`; counts their closes by code. */
async function hellos(url: string, count: number, user: string, token: (i: number) => string): Promise<{ clients: RawRelayClient[]; closes: CloseInfo[] }> {
  const clients = await Promise.all(Array.from({ length: count }, () => RawRelayClient.open(url).then(track)));
  const closes: CloseInfo[] = [];
  for (const client of clients) void client.closed.then((info) => closes.push(info));
  clients.forEach((client, i) => client.send({ type: 'hello', v: 1, user, token: token(i), device: `stranger-${i}`, cursor: 0 }));
  return { clients, closes };
}

/** An upgrade attempt with a plain ws client: the HTTP status and refusal reason, or 101. */
function tryUpgrade(url: string, localAddress = '127.0.0.1'): Promise<{ status: number; reason: string | undefined; socket?: WebSocket }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { localAddress });
      socket.on('error', () => {});
      socket.once('open', () => {
        cleanups.push(() => socket.terminate());
        resolve({ status: 101, reason: undefined, socket });
      });
      socket.once('unexpected-response', (_req, res) => {
        const reason = res.headers[RELAY_REFUSAL_HEADER];
        socket.terminate();
        resolve({ status: res.statusCode ?? 0, reason: typeof reason === 'string' ? reason : undefined });
      });
      socket.once('error', reject);
    }),
    5000,
    'an upgrade answer',
  );
}

describe('relay tokens', () => {
  test('a bad hello for a SHA-256 row is refused without scrypt: 200 of them, and a user still sends', async () => {
    const { relay, tokens } = await relayWith(['alice', 'bob'], { maxConnectionsPerAddress: 1000, maxLogins: 1000 });
    const alice = track(await RawRelayClient.login(relay.url, 'alice', tokens.alice!, 'a1'));
    const { closes } = await hellos(relay.url, 200, 'bob', (i) => `sbr_wrong_${i}`);
    alice.sendMessage('bob', 'through the storm', 'storm-1');
    assert.equal((await alice.next('verdict', 20_000)).result, 'accepted');
    await until('200 refusals', () => closes.length === 200, 20_000);
    assert.ok(closes.every((c) => c.code === RelayCloseCodes.Unauthorized));
    assert.equal(relay.stats().scryptChecks, 0, 'no scrypt for a SHA-256 row');
  });

  test("scrypt checks for an older relay's row leave the pool to commits: a send is answered while they are still pending", async () => {
    const { relay, dataDir, tokens } = await relayWith(['alice', 'bob'], { maxConnectionsPerAddress: 1000, maxLogins: 1000 });
    // Written after the relay opened the store: an old row as an older relay left it.
    await makeScryptRow(dataDir, 'olga');
    const alice = track(await RawRelayClient.login(relay.url, 'alice', tokens.alice!, 'a1'));
    const bad = 16;
    const { closes } = await hellos(relay.url, bad, 'olga', (i) => `sbr_wrong_${i}`);
    await until('every bad hello to be in its token check', () => relay.stats().loginsInProgress === bad);
    alice.sendMessage('bob', 'not behind the scrypt queue', 'pool-1');
    assert.equal((await alice.next('verdict', 60_000)).result, 'accepted');
    const refusedBeforeVerdict = closes.length;
    assert.ok(refusedBeforeVerdict < bad / 2, `the verdict waited for ${refusedBeforeVerdict} of ${bad} scrypt checks`);
    await until('every bad hello refused', () => closes.length === bad, 60_000);
    assert.ok(closes.every((c) => c.code === RelayCloseCodes.Unauthorized));
  });

  test('revocation while a token is being checked: the hello is refused, not welcomed', async () => {
    const { relay, dataDir } = await relayWith(['alice'], { maxConnectionsPerAddress: 1000, maxLogins: 1000 });
    await makeScryptRow(dataDir, 'olga');
    const ritaToken = await makeScryptRow(dataDir, 'rita');
    // Checks run in arrival order, two at a time: rita's waits behind olga's.
    const ahead = 8;
    await hellos(relay.url, ahead, 'olga', (i) => `sbr_wrong_${i}`);
    await until('the bad hellos to be in their checks', () => relay.stats().loginsInProgress === ahead);
    const rita = track(await RawRelayClient.open(relay.url));
    rita.send({ type: 'hello', v: 1, user: 'rita', token: ritaToken, device: 'r1', cursor: 0 });
    await until("rita's hello to be in line", () => relay.stats().loginsInProgress === ahead + 1);
    assert.equal(await revokeTestUser(dataDir, 'rita'), true);
    assert.ok(relay.stats().scryptChecks <= ahead, "rita's check had not started when she was revoked");
    const error = await rita.next('error', 60_000);
    assert.equal(error.code, 'unauthorized');
    assert.equal((await withTimeout(rita.closed, 10_000, 'the close')).code, RelayCloseCodes.Unauthorized);
    assert.ok(!rita.frames.some((f) => f.type === 'welcome'));
  });

  test("an older relay's scrypt row still logs in, and is rewritten as SHA-256", async () => {
    const dir = makeTempDir('relay-limits-');
    cleanups.push(() => dir.remove());
    const dataDir = join(dir.path, 'data');
    // A database exactly as the relay before token hash kinds left it: schema 1, scrypt row.
    const token = generateToken();
    const salt = randomBytes(16);
    const old = new Database(prepareDataDir(dataDir));
    try {
      migrate(old, 1);
      old.prepare('INSERT INTO users (name, token_hash, salt, created_at) VALUES (?, ?, ?, ?)').run('olga', await deriveScrypt(token, salt), salt, new Date().toISOString());
    } finally {
      old.close();
    }
    await addTestUser(dataDir, 'bob');
    assert.equal(credentialRow(dataDir, 'olga').hash_kind, 'scrypt');
    const relay = await startTestRelay({ dataDir });
    cleanups.push(() => relay.close());

    const first = await RawRelayClient.login(relay.url, 'olga', token, 'o1');
    await first.closeAndWait();
    const row = credentialRow(dataDir, 'olga');
    assert.equal(row.hash_kind, 'sha256');
    assert.deepEqual(row.token_hash, createHash('sha256').update(token).digest());
    assert.equal(row.salt.length, 0);
    assert.deepEqual({ scrypt: relay.stats().scryptChecks, upgraded: relay.stats().tokensUpgraded }, { scrypt: 1, upgraded: 1 });

    const again = track(await RawRelayClient.login(relay.url, 'olga', token, 'o2'));
    again.sendMessage('bob', 'still me', 'after-upgrade');
    assert.equal((await again.next('verdict')).result, 'accepted');
    assert.equal(relay.stats().scryptChecks, 1, 'the second login checked SHA-256');
    const wrong = track(await RawRelayClient.open(relay.url));
    wrong.send({ type: 'hello', v: 1, user: 'olga', token: `${token}x`, device: 'o3', cursor: 0 });
    assert.equal((await wrong.next('error')).code, 'unauthorized');
  });
});

describe('relay connection limits', () => {
  test('the (N+1)th connection from one address is refused with 429 and a reason; the core shows it', async () => {
    const { relay, tokens } = await relayWith(['alice'], { maxConnectionsPerAddress: 3 });
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await tryUpgrade(relay.url));
    assert.deepEqual(open.map((o) => o.status), [101, 101, 101]);
    const refused = await tryUpgrade(relay.url);
    assert.equal(refused.status, 429);
    assert.match(refused.reason ?? '', /too many connections from 127\.0\.0\.1 \(limit 3\)/);
    // Another address is not affected.
    assert.equal((await tryUpgrade(relay.url, '127.0.0.2')).status, 101);

    const link = new RelayLink();
    const result = await link.connect({ url: relay.url, user: 'alice', token: tokens.alice!, device: 'core', cursor: 0, handshakeTimeoutMs: 5000 });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.close.reason : '', /relay refused the connection \(HTTP 429\): too many connections/);
    assert.equal(!result.ok && result.close.unauthorized, false, 'a limit is retryable');

    open[0]!.socket!.terminate();
    await until('the relay to forget the closed connection', () => relay.connectionCount === 3);
    assert.equal((await tryUpgrade(relay.url)).status, 101, 'a freed slot is usable again');
  });

  test('beyond max connections in total, an upgrade is refused with 503 and a reason', async () => {
    const { relay } = await relayWith([], { maxConnections: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await tryUpgrade(relay.url, `127.0.0.${10 + i}`)).status, 101);
    const refused = await tryUpgrade(relay.url, '127.0.0.20');
    assert.equal(refused.status, 503);
    assert.match(refused.reason ?? '', /relay at its connection limit \(3\)/);
  });

  test('beyond max logins in progress, a hello is closed with 1013 "relay busy"', async () => {
    const { relay, dataDir } = await relayWith([], { maxConnectionsPerAddress: 1000, maxLogins: 10 });
    await makeScryptRow(dataDir, 'olga');
    // Sent in one turn: the first ten are still in their scrypt checks when the last arrive.
    const { closes } = await hellos(relay.url, 14, 'olga', (i) => `sbr_wrong_${i}`);
    await until('every hello answered', () => closes.length === 14, 60_000);
    const busy = closes.filter((c) => c.code === RelayCloseCodes.TryAgainLater);
    assert.ok(busy.length >= 1, 'some hellos found the login limit reached');
    assert.match(busy[0]!.reason, /relay busy: 10 logins in progress/);
    assert.ok(closes.every((c) => c.code === RelayCloseCodes.TryAgainLater || c.code === RelayCloseCodes.Unauthorized));
    assert.equal(relay.stats().refusedLogins, busy.length);
  });

  test('a connection that says nothing is closed after the hello deadline (1008)', async () => {
    const { relay } = await relayWith([], { helloTimeoutMs: 300 });
    const silent = track(await RawRelayClient.open(relay.url));
    // The heartbeat (15 s default, dropped after 45 s) would close it far outside this wait.
    const closed = await withTimeout(silent.closed, 10_000, 'the hello deadline');
    assert.equal(closed.code, RelayCloseCodes.Policy);
    assert.equal(closed.reason, 'no hello within 300 ms');
    assert.equal(relay.stats().helloTimeouts, 1);
  });

  test('a slow upgrade request is cut', async () => {
    const { relay } = await relayWith([], { upgradeTimeoutMs: 500 });
    const socket: Socket = connect(relay.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    // Headers begun and never finished: Node would hold this for a minute or more.
    socket.write('GET / HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n');
    await withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), 10_000, 'the relay to cut the upgrade');
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  test('a TLS handshake that never starts is cut by the same deadline', async () => {
    const dir = makeTempDir('relay-limits-tls-');
    cleanups.push(() => dir.remove());
    const keyFile = join(dir.path, 'key.pem');
    const certFile = join(dir.path, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const { relay } = await relayWith([], { upgradeTimeoutMs: 500, tls: { certFile, keyFile } });
    assert.match(relay.url, /^wss:/);
    const socket: Socket = connect(relay.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.on('error', () => {});
    socket.resume();
    // A TLS server waits 120 s for a ClientHello by default.
    await withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), 10_000, 'the relay to cut the silent TLS connection');
  });

  test('a TCP connection that sends nothing at all is cut by the same deadline', async () => {
    const { relay } = await relayWith([], { upgradeTimeoutMs: 500 });
    const socket: Socket = connect(relay.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.on('error', () => {});
    socket.resume();
    await withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), 10_000, 'the relay to cut the idle connection');
  });
});

describe('relay buffering limits', () => {
  test('bytes beyond the pre-login cap close the connection (1009) before the frame completes', async () => {
    const { relay, tokens } = await relayWith(['alice'], { maxPreloginBytes: 8192 });
    const flooder = track(await RawRelayClient.open(relay.url));
    // One frame far over the cap, well under the frame limit: ws would buffer it all, then
    // the relay would answer "expected hello first" (4002) — only if it got that far.
    flooder.sendText(JSON.stringify({ type: 'ping', t: 1, pad: 'x'.repeat(100_000) }));
    const closed = await withTimeout(flooder.closed, 10_000, 'the pre-login cap');
    assert.equal(closed.code, RelayCloseCodes.TooBig);
    assert.equal(closed.reason, 'more than 8192 bytes before welcome');
    assert.equal(relay.stats().preloginOverflows, 1);
    // After welcome the cap no longer applies: frames up to the frame limit are fine.
    const alice = track(await RawRelayClient.login(relay.url, 'alice', tokens.alice!, 'a1'));
    alice.sendText(JSON.stringify({ type: 'ping', t: 2, pad: 'x'.repeat(100_000) }));
    assert.equal((await alice.next('pong')).t, 2);
  });

  test('exactly RELAY_MAX_FRAME_BYTES is accepted, one byte more is refused (1009)', async () => {
    const { relay, tokens } = await relayWith(['alice']);
    const frameOf = (bytes: number, t: number): string => {
      const empty = JSON.stringify({ type: 'ping', t, pad: '' });
      return JSON.stringify({ type: 'ping', t, pad: 'x'.repeat(bytes - empty.length) });
    };
    assert.equal(Buffer.byteLength(frameOf(RELAY_MAX_FRAME_BYTES, 1)), RELAY_MAX_FRAME_BYTES);
    const client = track(await RawRelayClient.login(relay.url, 'alice', tokens.alice!, 'a1'));
    client.sendText(frameOf(RELAY_MAX_FRAME_BYTES, 1));
    assert.equal((await client.next('pong')).t, 1);
    client.sendText(frameOf(RELAY_MAX_FRAME_BYTES + 1, 2));
    assert.equal((await withTimeout(client.closed, 10_000, 'the oversize close')).code, RelayCloseCodes.TooBig);
  });

  test('a peer that stops reading is dropped once its unsent bytes pass the cap', async () => {
    const maxPendingBytes = 1024 * 1024;
    const { relay, tokens } = await relayWith(['alice'], { maxPendingBytes, ratePerSecond: 0 });
    const socket = new WebSocket(relay.url, { perMessageDeflate: false });
    cleanups.push(() => socket.terminate());
    let transport: Socket | undefined;
    socket.on('upgrade', (response) => (transport = response.socket));
    socket.on('error', () => {});
    await withTimeout(new Promise<void>((resolve) => socket.once('open', () => resolve())), 5000, 'open');
    socket.send(JSON.stringify({ type: 'hello', v: 1, user: 'alice', token: tokens.alice, device: 'a1', cursor: 0 }));
    await withTimeout(new Promise<void>((resolve) => socket.once('message', () => resolve())), 5000, 'welcome');
    transport!.pause();
    // Pongs are answers it asked for; it never reads them. Bounded: 400k pings at most.
    const ping = JSON.stringify({ type: 'ping', t: 1 });
    for (let sent = 0; sent < 400_000 && relay.stats().slowConsumers === 0; sent += 5000) {
      for (let i = 0; i < 5000; i++) socket.send(ping);
      // Pacing the flood (the loop stops at the first slow-consumer drop), not synchronisation.
      await new Promise((r) => setTimeout(r, 5));
    }
    await until('the relay to drop the slow consumer', () => relay.stats().slowConsumers === 1, 20_000);
    await until('the relay to forget it', () => relay.connectionCount === 0, 10_000);
    // Others are unaffected.
    const other = track(await RawRelayClient.login(relay.url, 'alice', tokens.alice!, 'a2'));
    other.send({ type: 'ping', t: 7 });
    assert.equal((await other.next('pong')).t, 7);
  });

  test('a slow reader of a large backlog is paced, not dropped', async () => {
    const maxPendingBytes = 1024 * 1024;
    const { relay, tokens } = await relayWith(['alice', 'bob'], { maxPendingBytes, ratePerSecond: 0 });
    const alice = track(await RawRelayClient.login(relay.url, 'alice', tokens.alice!, 'a1'));
    const count = 60;
    const body = 'b'.repeat(60_000);
    for (let i = 0; i < count; i++) alice.sendMessage('bob', body, `big-${i}`);
    const verdicts = await alice.take('verdict', count, 30_000);
    assert.ok(verdicts.every((v) => v.result === 'accepted'));
    // 60 × 60 KB is over three times the cap: sent at once, it would be a slow consumer.
    const bob = new WebSocket(relay.url, { perMessageDeflate: false });
    cleanups.push(() => bob.terminate());
    let transport: Socket | undefined;
    const seqs: number[] = [];
    bob.on('upgrade', (response) => (transport = response.socket));
    bob.on('error', () => {});
    bob.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; seq?: number };
      if (frame.type === 'deliver') seqs.push(frame.seq!);
    });
    await withTimeout(new Promise<void>((resolve) => bob.once('open', () => resolve())), 5000, 'open');
    bob.send(JSON.stringify({ type: 'hello', v: 1, user: 'bob', token: tokens.bob, device: 'b1', cursor: 0 }));
    transport!.pause();
    // Not synchronisation: this is the slow reader, not reading for a while (the relay has no
    // event for "I paced it"); what is checked is that the whole backlog still comes, in order.
    await new Promise((r) => setTimeout(r, 300));
    transport!.resume();
    await until('the whole backlog', () => seqs.length === count, 30_000);
    assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i + 1));
    assert.equal(relay.stats().slowConsumers, 0);
  });
});

describe('relay store', () => {
  test('RelayStore opens a schema-1 database and keeps its rows as scrypt', async () => {
    const dir = makeTempDir('relay-limits-');
    cleanups.push(() => dir.remove());
    const dataDir = join(dir.path, 'data');
    const old = new Database(prepareDataDir(dataDir));
    migrate(old, 1);
    old.prepare('INSERT INTO users (name, token_hash, salt, created_at) VALUES (?, ?, ?, ?)').run('olga', Buffer.alloc(32), Buffer.alloc(16), new Date().toISOString());
    old.close();
    const store = RelayStore.open(dataDir);
    try {
      assert.equal(store.activeCredential('olga')?.kind, 'scrypt');
    } finally {
      store.close();
    }
  });
});

describe('a refused core', () => {
  after(async () => {
    await killAllRelays();
  });

  test("a core refused at a real relay's per-address limit shows why in its status, and gets in once a slot frees", async () => {
    // The squatter never says hello: a long hello deadline keeps it in its slot until the test
    // lets go, however slowly the core gets to its first attempt on a loaded machine.
    const relay = new TestRelay({ extraArgs: ['--max-connections-per-address', '1', '--hello-timeout-ms', '300000'] });
    cleanups.push(() => relay.dispose());
    await relay.start();
    const { home, cleanup } = tempHome('sb-limits-');
    cleanups.push(cleanup);
    // Configured first: init's own hello must not spend the squatter's time, which ends at the relay's hello deadline.
    await relay.configureHome(home, 'alice');
    const squatter = await tryUpgrade(relay.url);
    assert.equal(squatter.status, 101);
    const core = await startCore(home);
    cleanups.push(() => kill9(core));
    const statusOf = async (): Promise<CoreStatus> => JSON.parse(await runOk(home, ['status', '--json'])) as CoreStatus;
    const deadline = Date.now() + 30_000;
    let status = await statusOf();
    while (!/too many connections/.test(status.sync.last_error ?? '') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = await statusOf();
    }
    // Between attempts it is offline, during one connecting; never online while the slot is taken.
    assert.ok(['offline', 'connecting'].includes(status.sync.state), status.sync.state);
    assert.match(status.sync.last_error ?? '', /relay refused the connection \(HTTP 429\): too many connections from 127\.0\.0\.1 \(limit 1\); retry later/);
    squatter.socket!.terminate();
    const online = Date.now() + 60_000;
    while (status.sync.state !== 'online' && Date.now() < online) {
      await new Promise((r) => setTimeout(r, 200));
      status = await statusOf();
    }
    assert.equal(status.sync.state, 'online', 'the core retried with backoff and got in');
  });
});
