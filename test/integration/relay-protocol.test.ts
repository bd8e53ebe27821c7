/**
 * The relay protocol against an in-process relay on 127.0.0.1: auth, verdicts, store and
 * forward, receipts, devices, heartbeats and malformed input.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { RELAY_MAX_FRAME_BYTES, RelayCloseCodes, type DeliverFrameV2 as DeliverFrame } from '../../protocol/relay';
import type { RelayServer } from '../../relay/server';
import { RelayStore } from '../../relay/store';
import { addTestUser, makeTempDir, RawRelayClient, revokeTestUser, startTestRelay } from '../support/relay';
import { withTimeout } from '../../lib/node/with-timeout';
import { until } from '../support/wait';

const clients: RawRelayClient[] = [];
async function login(relay: RelayServer, user: string, token: string, device: string, cursor = 0): Promise<RawRelayClient> {
  const client = await RawRelayClient.login(relay.url, user, token, device, cursor);
  clients.push(client);
  return client;
}
async function open(relay: RelayServer): Promise<RawRelayClient> {
  const client = await RawRelayClient.open(relay.url);
  clients.push(client);
  return client;
}
/** The data dir of the relay the tests below share. */
const dataDirOf: { current: string | undefined } = { current: undefined };
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.closeAndWait().catch(() => undefined)));
});

describe('relay protocol', () => {
  const dir = makeTempDir();
  const dataDir = join(dir.path, 'data');
  let relay: RelayServer;
  const tokens: Record<string, string> = {};

  before(async () => {
    dataDirOf.current = dataDir;
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'gina']) tokens[name] = await addTestUser(dataDir, name);
    relay = await startTestRelay({ dataDir, maxBodyBytes: 1000, ratePerSecond: 1000 });
  });
  after(async () => {
    await relay.close();
    dir.remove();
  });
  const token = (name: string): string => tokens[name] ?? assert.fail(`no token for ${name}`);

  test('auth: a good token gets welcome with the relay limits', async () => {
    const client = await open(relay);
    client.send({ type: 'hello', v: 1, user: 'alice', token: token('alice'), device: 'd1', cursor: 0 });
    const welcome = await client.next('welcome');
    assert.deepEqual(welcome, { type: 'welcome', v: 1, user: 'alice', device: 'd1', heartbeat_ms: 15000, max_body_bytes: 1000, backlog_seq: 0 });
  });

  test('auth: a bad token or unknown user gets an unauthorized error and close 4001', async () => {
    for (const [user, secret] of [
      ['alice', `${token('alice')}x`],
      ['nobody', token('alice')],
      ['bob', token('alice')],
    ] as const) {
      const client = await open(relay);
      client.send({ type: 'hello', v: 1, user, token: secret, device: 'd1', cursor: 0 });
      const error = await client.next('error');
      assert.equal(error.code, 'unauthorized');
      assert.equal((await withTimeout(client.closed, 5000, 'close')).code, RelayCloseCodes.Unauthorized);
      assert.equal(client.frames.filter((f) => f.type === 'welcome').length, 0);
    }
  });

  test('auth: hello must come first and carry the protocol version', async () => {
    const early = await open(relay);
    early.send({ type: 'ack', seq: 1 });
    assert.equal((await early.next('error')).code, 'protocol');
    assert.equal((await early.closed).code, RelayCloseCodes.Protocol);

    const versioned = await open(relay);
    versioned.send({ type: 'hello', v: 99, user: 'alice', token: token('alice'), device: 'd1', cursor: 0 });
    const error = await versioned.next('error');
    assert.equal(error.code, 'protocol');
    assert.match(error.message, /version 99/);
    assert.equal((await versioned.closed).code, RelayCloseCodes.Protocol);
  });

  test('auth: revoking closes live connections with 4001 and later hellos fail', async () => {
    const name = 'erin';
    const live = await login(relay, name, token(name), 'laptop');
    assert.equal(await revokeTestUser(dataDir, name), true); // another connection, as `relay revoke` does
    assert.equal((await live.next('error')).code, 'unauthorized');
    assert.equal((await withTimeout(live.closed, 5000, 'revoked close')).code, RelayCloseCodes.Unauthorized);
    const again = await open(relay);
    again.send({ type: 'hello', v: 1, user: name, token: token(name), device: 'laptop', cursor: 0 });
    assert.equal((await again.next('error')).code, 'unauthorized');
    assert.equal((await again.closed).code, RelayCloseCodes.Unauthorized);
  });

  test('verdicts: accepted, duplicate, and rejected for unknown recipient, oversize body, reused id', async () => {
    const alice = await login(relay, 'alice', token('alice'), 'verdicts');
    alice.sendMessage('bob', 'one', 'v-1');
    const accepted = await alice.next('verdict');
    assert.equal(accepted.result, 'accepted');
    assert.equal(accepted.client_message_id, 'v-1');
    assert.ok(accepted.result === 'accepted' && accepted.seq >= 1 && /^[0-9a-f-]{36}$/.test(accepted.server_id));

    alice.sendMessage('bob', 'one', 'v-1', { id: 'retry-id' });
    const duplicate = await alice.next('verdict');
    assert.equal(duplicate.result, 'duplicate');
    if (duplicate.result === 'duplicate' && accepted.result === 'accepted') {
      assert.equal(duplicate.original_id, 'id-v-1');
      assert.equal(duplicate.server_id, accepted.server_id);
    }

    alice.sendMessage('nobody', 'x', 'v-2');
    alice.sendMessage('bob', 'x'.repeat(1001), 'v-3');
    alice.sendMessage('bob', 'changed', 'v-1');
    const [unknown, oversize, reused] = await alice.take('verdict', 3);
    assert.deepEqual([unknown?.result, oversize?.result, reused?.result], ['rejected', 'rejected', 'rejected']);
    assert.match(unknown?.result === 'rejected' ? unknown.reason : '', /unknown recipient "nobody"/);
    assert.match(oversize?.result === 'rejected' ? oversize.reason : '', /1001 bytes/);
    assert.equal(oversize?.result === 'rejected' && oversize.retryable, false);
    assert.match(reused?.result === 'rejected' ? reused.reason : '', /different message/);
  });

  test('verdicts: every send gets exactly one verdict, in order, under a burst', async () => {
    const alice = await login(relay, 'alice', token('alice'), 'burst');
    for (let i = 0; i < 200; i++) alice.sendMessage('carol', `m${i}`, `burst-${i}`);
    const verdicts = await alice.take('verdict', 200, 15_000);
    assert.deepEqual(verdicts.map((v) => v.client_message_id), Array.from({ length: 200 }, (_, i) => `burst-${i}`));
    assert.ok(verdicts.every((v) => v.result === 'accepted'));
    const seqs = verdicts.map((v) => (v.result === 'accepted' ? v.seq : -1));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'seqs increase in send order');
    assert.equal(new Set(seqs).size, 200);
    assert.equal(await alice.quietFor('verdict', 200), true, 'no extra verdicts');
  });

  test('store-and-forward: offline recipient gets everything on connect, again until acked, never after', async () => {
    const alice = await login(relay, 'alice', token('alice'), 'sf');
    for (let i = 1; i <= 5; i++) alice.sendMessage('dave', `hello ${i}`, `sf-${i}`);
    const verdicts = await alice.take('verdict', 5);
    assert.ok(verdicts.every((v) => v.result === 'accepted'));

    const first = await login(relay, 'dave', token('dave'), 'laptop');
    const deliveries = await first.take('deliver', 5);
    assert.deepEqual(deliveries.map((d) => d.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual(deliveries.map((d) => (d.item.kind === 'message' ? d.item.message.body : '')), [1, 2, 3, 4, 5].map((i) => `hello ${i}`));
    assert.ok(deliveries.every((d) => d.item.kind === 'message' && d.item.message.from === 'alice'), 'from is the authenticated sender');
    first.send({ type: 'ack', seq: 2 });
    await first.closeAndWait();

    // Reconnect with the cursor the core committed: 3..5 come again, 1..2 do not.
    const second = await login(relay, 'dave', token('dave'), 'laptop', 2);
    assert.deepEqual((await second.take('deliver', 3)).map((d) => d.seq), [3, 4, 5]);
    second.send({ type: 'ack', seq: 5 });
    // Live delivery follows the backlog.
    alice.sendMessage('dave', 'live', 'sf-6');
    const live = await second.next('deliver');
    assert.equal(live.seq, 6);
    second.send({ type: 'ack', seq: 6 });
    await second.closeAndWait();

    // Even a hello with cursor 0 does not get acked deliveries back.
    const third = await login(relay, 'dave', token('dave'), 'laptop', 0);
    assert.equal(await third.quietFor('deliver', 300), true);
  });

  test('receipts reach the sender once, in its own sequence, even if it was offline', async () => {
    const alice = await login(relay, 'alice', token('alice'), 'receipts');
    alice.sendMessage('gina', 'please read', 'rc-1');
    const verdict = await alice.next('verdict');
    assert.equal(verdict.result, 'accepted');
    await alice.closeAndWait();

    const phone = await login(relay, 'gina', token('gina'), 'phone');
    const tablet = await login(relay, 'gina', token('gina'), 'tablet');
    const onPhone = await phone.next('deliver');
    const onTablet = await tablet.next('deliver');
    assert.equal(onPhone.seq, onTablet.seq);
    assert.equal(onPhone.item.kind === 'message' && onPhone.item.message.body, 'please read');
    phone.send({ type: 'ack', seq: onPhone.seq });
    tablet.send({ type: 'ack', seq: onTablet.seq });
    // Both acks committed (so both had their chance to make a receipt) before alice returns.
    await until('both acks to be committed', () => peek((store) => store.deviceAcked('gina', 'phone') === onPhone.seq && store.deviceAcked('gina', 'tablet') === onTablet.seq));

    const back = await login(relay, 'alice', token('alice'), 'receipts', 0);
    await backlogReceived(back, 'alice', 'receipts');
    const receipts = back.frames.filter((f) => f.type === 'deliver' && f.item.kind === 'receipt' && f.item.id === 'id-rc-1');
    assert.equal(receipts.length, 1, 'exactly one receipt although two devices acked');
    const receipt = receipts[0];
    assert.ok(receipt?.type === 'deliver' && receipt.item.kind === 'receipt');
    if (receipt?.type === 'deliver' && receipt.item.kind === 'receipt' && verdict.result === 'accepted') {
      assert.equal(receipt.item.by, 'gina');
      assert.equal(receipt.item.server_id, verdict.server_id);
    }
  });

  test('two devices of one user each get every delivery; a second connection of a device replaces the first', async () => {
    const bobA = await login(relay, 'bob', token('bob'), 'dev-a', 0);
    const bobB = await login(relay, 'bob', token('bob'), 'dev-b', 0);
    const alice = await login(relay, 'alice', token('alice'), 'two-dev');
    // Earlier tests may have left a backlog for bob; set it aside and count only the new ones.
    await backlogReceived(bobA, 'bob', 'dev-a');
    await backlogReceived(bobB, 'bob', 'dev-b');
    bobA.frames.length = 0;
    bobB.frames.length = 0;
    for (let i = 0; i < 3; i++) alice.sendMessage('bob', `both ${i}`, `two-${i}`);
    const bodies = (frames: DeliverFrame[]) => frames.map((f) => (f.item.kind === 'message' ? f.item.message.body : ''));
    assert.deepEqual(bodies(await bobA.take('deliver', 3)), ['both 0', 'both 1', 'both 2']);
    assert.deepEqual(bodies(await bobB.take('deliver', 3)), ['both 0', 'both 1', 'both 2']);

    const replacement = await login(relay, 'bob', token('bob'), 'dev-a', 0);
    const replaced = await withTimeout(bobA.closed, 5000, 'replaced close');
    assert.equal(replaced.code, RelayCloseCodes.Replaced);
    assert.ok((await replacement.take('deliver', 3)).length === 3, 'the replacement resumes from the stored cursor (nothing acked yet)');
  });

  test('ping gets pong', async () => {
    const alice = await login(relay, 'alice', token('alice'), 'pinger');
    alice.send({ type: 'ping', t: 42 });
    assert.deepEqual(await alice.next('pong'), { type: 'pong', t: 42 });
  });

  test('malformed frames get a protocol error and close; the relay keeps serving others', async () => {
    const bystander = await login(relay, 'alice', token('alice'), 'bystander');
    for (const bad of ['{oops', '{"type":"send","message":{}}', '"just a string"', JSON.stringify({ type: 'hello', v: 1 })]) {
      const client = await login(relay, 'carol', token('carol'), `bad-${bad.length}`);
      client.sendText(bad);
      const error = await client.next('error');
      assert.equal(error.code, 'protocol');
      assert.equal((await client.closed).code, RelayCloseCodes.Protocol);
    }
    const binary = await open(relay);
    binary.socket.send(Buffer.from([1, 2, 3]));
    assert.equal((await binary.closed).code, RelayCloseCodes.Protocol);

    bystander.sendMessage('carol', 'still here', 'after-malformed');
    assert.equal((await bystander.next('verdict')).result, 'accepted');
  });

  test('an oversized frame closes that connection (1009) without a crash', async () => {
    const client = await login(relay, 'alice', token('alice'), 'oversize');
    client.sendText(JSON.stringify({ type: 'ping', t: 1, pad: 'x'.repeat(RELAY_MAX_FRAME_BYTES) }));
    const closed = await withTimeout(client.closed, 5000, 'oversize close');
    assert.equal(closed.code, 1009);
    const other = await login(relay, 'alice', token('alice'), 'after-oversize');
    other.send({ type: 'ping', t: 2 });
    assert.equal((await other.next('pong')).t, 2);
  });

  test('plain HTTP gets 426, not a hang', async () => {
    const response = await withTimeout(fetch(relay.url.replace('ws://', 'http://')), 5000, 'http response');
    assert.equal(response.status, 426);
  });
});

describe('relay rate limit and heartbeat', () => {
  const dir = makeTempDir();
  const dataDir = join(dir.path, 'data');
  let relay: RelayServer;
  let aliceToken = '';

  before(async () => {
    aliceToken = await addTestUser(dataDir, 'alice');
    await addTestUser(dataDir, 'bob');
    // Silence is counted from a connection's last frame, its hello included, so the heartbeat
    // must outlast a token check (scrypt), which takes seconds on a loaded machine.
    relay = await startTestRelay({ dataDir, ratePerSecond: 3, heartbeatMs: 2000 });
  });
  after(async () => {
    await relay.close();
    dir.remove();
  });

  test('sends beyond the per-user rate are rejected as retryable', async () => {
    const alice = await login(relay, 'alice', aliceToken, 'rl');
    for (let i = 0; i < 10; i++) alice.sendMessage('bob', 'x', `rl-${i}`);
    const verdicts = await alice.take('verdict', 10);
    const limited = verdicts.filter((v) => v.result === 'rejected');
    assert.ok(limited.length >= 1, 'at least one send was limited');
    assert.ok(limited.every((v) => v.result === 'rejected' && v.retryable && /rate limit/.test(v.reason)));
    assert.ok(verdicts.some((v) => v.result === 'accepted'));
  });

  test('the relay pings a live connection every heartbeat', async () => {
    const lively = await login(relay, 'alice', aliceToken, 'lively');
    // Keep talking so the relay keeps us; collect its pings meanwhile.
    const keepAlive = setInterval(() => lively.send({ type: 'ping', t: Date.now() }), 40);
    try {
      const pings = await lively.take('ping', 3, 30_000);
      assert.equal(pings.length, 3);
      assert.equal(lively.socket.readyState, lively.socket.OPEN, 'a talking peer is not dropped');
    } finally {
      clearInterval(keepAlive);
    }
  });

  test('the relay drops a connection silent for 3 heartbeats', async () => {
    const silent = await login(relay, 'alice', aliceToken, 'silent');
    // Never send anything: the relay must terminate the socket (no close frame: 1006 here).
    const closed = await withTimeout(silent.closed, 30_000, 'the relay to drop a silent peer');
    assert.equal(closed.code, 1006);
  });

  test('a connection that never says hello is dropped too', async () => {
    const socket = new WebSocket(relay.url);
    const closed = await withTimeout(new Promise<number>((resolve) => socket.once('close', (code) => resolve(code))), 30_000, 'drop');
    // Whichever comes first: the hello deadline (1008, a close frame) or the silence check (1006).
    assert.ok(closed === RelayCloseCodes.Policy || closed === 1006, `closed with ${closed}`);
  });
});

/** Reads the relay's store through a connection of its own, as `relay` CLI verbs do. */
function peek<T>(read: (store: RelayStore) => T): T {
  const store = RelayStore.open(dataDirOf.current!);
  try {
    return read(store);
  } finally {
    store.close();
  }
}

/**
 * Waits until `client` (`user` on `device`, just logged in) has received every delivery stored
 * for it so far, leaving them in `client.frames`: its backlog ends at the last stored seq.
 */
async function backlogReceived(client: RawRelayClient, user: string, device: string): Promise<void> {
  const last = peek((store) => store.deliveriesAfter(user, store.deviceAcked(user, device) ?? 0, 1_000_000).at(-1)?.seq ?? 0);
  await until(`${user}'s backlog up to seq ${last}`, () => last === 0 || client.frames.some((f) => f.type === 'deliver' && f.seq >= last));
}
