/** RelayLink, the core's typed client, against an in-process relay and against misbehaving fakes. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { RelayCloseCodes, type DeliverFrame, type VerdictFrame } from '../../protocol/relay';
import type { RelayServer } from '../../relay/server';
import { addTestUser, makeTempDir, startTestRelay } from '../support/relay';
import { RelayLink, type RelayLinkClose } from '../../server/sync/relay-link';
import { withTimeout } from '../../lib/node/with-timeout';

const dir = makeTempDir();
const dataDir = join(dir.path, 'data');
let relay: RelayServer;
const tokens: Record<string, string> = {};
const links: RelayLink[] = [];
const fakes: WebSocketServer[] = [];

before(async () => {
  tokens.alice = await addTestUser(dataDir, 'alice');
  tokens.bob = await addTestUser(dataDir, 'bob');
  relay = await startTestRelay({ dataDir, heartbeatMs: 1000 });
});
afterEach(async () => {
  for (const link of links.splice(0)) link.close();
  await Promise.all(fakes.splice(0).map((fake) => new Promise((resolve) => { for (const c of fake.clients) c.terminate(); fake.close(resolve); })));
});
after(async () => {
  await relay.close();
  dir.remove();
});

function newLink(): RelayLink {
  const link = new RelayLink();
  links.push(link);
  return link;
}
function once<T>(link: RelayLink, event: 'verdict' | 'deliver' | 'close', what: string): Promise<T> {
  return withTimeout(new Promise<T>((resolve) => link.once(event, (value: unknown) => resolve(value as T))), 5000, what);
}
function token(name: string): string {
  return tokens[name] ?? assert.fail(`no token for ${name}`);
}

/** A fake relay that answers hello with the given frames, then does nothing more. */
async function fakeRelay(reply: (send: (text: string) => void) => void): Promise<string> {
  const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  fakes.push(fake);
  await new Promise((resolve) => fake.once('listening', resolve));
  fake.on('connection', (socket) => socket.once('message', () => reply((text) => socket.send(text))));
  return `ws://127.0.0.1:${(fake.address() as AddressInfo).port}`;
}
const fakeWelcome = (heartbeatMs: number) => JSON.stringify({ type: 'welcome', v: 1, user: 'alice', device: 'd', heartbeat_ms: heartbeatMs, max_body_bytes: 1000 });

test('connect, send, deliver, ack and close: typed events end to end', async () => {
  const alice = newLink();
  const bob = newLink();
  const welcomed = await alice.connect({ url: relay.url, user: 'alice', token: token('alice'), device: 'a1', cursor: 0 });
  assert.ok(welcomed.ok && welcomed.welcome.heartbeat_ms === 1000);
  assert.equal(alice.state, 'open');
  assert.ok((await bob.connect({ url: relay.url, user: 'bob', token: token('bob'), device: 'b1', cursor: 0 })).ok);

  const verdict = once<VerdictFrame>(alice, 'verdict', 'verdict');
  const delivered = once<DeliverFrame>(bob, 'deliver', 'deliver');
  assert.equal(alice.send({ id: 'm1', client_message_id: 'c1', to: 'bob', body: 'hi bob', reply_to: null, request_id: null, created_at: new Date().toISOString() }), true);
  assert.equal((await verdict).result, 'accepted');
  const deliver = await delivered;
  assert.ok(deliver.item.kind === 'message' && deliver.item.message.from === 'alice' && deliver.item.message.body === 'hi bob');

  const receipt = once<DeliverFrame>(alice, 'deliver', 'receipt');
  assert.equal(bob.ack(deliver.seq), true);
  const receiptFrame = await receipt;
  assert.ok(receiptFrame.item.kind === 'receipt' && receiptFrame.item.id === 'm1' && receiptFrame.item.by === 'bob');

  const closed = once<RelayLinkClose>(bob, 'close', 'close');
  bob.close();
  assert.deepEqual(await closed, { code: 1000, reason: 'closing', unauthorized: false });
  assert.equal(bob.send({ id: 'x', client_message_id: 'x', to: 'alice', body: '', reply_to: null, request_id: null, created_at: 'now' }), false, 'no sends on a closed link');
});

test('the link sends its own pings every heartbeat, so the relay always hears from an idle core', async () => {
  const pings: number[] = [];
  let gotThree: () => void = () => {};
  const three = new Promise<void>((resolve) => (gotThree = resolve));
  const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  fakes.push(fake);
  await new Promise((resolve) => fake.once('listening', resolve));
  fake.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; t?: number };
      if (frame.type === 'hello') socket.send(fakeWelcome(50));
      if (frame.type === 'ping' && typeof frame.t === 'number') {
        pings.push(frame.t);
        // Answer so the link's own watchdog stays satisfied.
        socket.send(JSON.stringify({ type: 'pong', t: frame.t }));
        if (pings.length >= 3) gotThree();
      }
    });
  });
  const link = newLink();
  const url = `ws://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  assert.ok((await link.connect({ url, user: 'alice', token: 't', device: 'd', cursor: 0 })).ok);
  await withTimeout(three, 5000, 'three pings from an idle link');
  assert.deepEqual(pings, [...pings].sort((a, b) => a - b));
});

test('a bad token resolves connect with unauthorized: true and close code 4001', async () => {
  const link = newLink();
  const errors: string[] = [];
  link.on('error', (err) => errors.push(err.relayCode ?? 'transport'));
  const result = await withTimeout(link.connect({ url: relay.url, user: 'alice', token: 'sbr_wrong', device: 'x', cursor: 0 }), 5000, 'connect');
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.equal(result.close.code, RelayCloseCodes.Unauthorized);
    assert.equal(result.close.unauthorized, true);
  }
  assert.deepEqual(errors, ['unauthorized']);
});

test('an unreachable relay resolves connect with a close, not a throw', async () => {
  const fake = await fakeRelay(() => {});
  const port = new URL(fake).port;
  await new Promise((resolve) => fakes.splice(0).forEach((f) => f.close(resolve)));
  const link = newLink();
  const result = await withTimeout(link.connect({ url: `ws://127.0.0.1:${port}`, user: 'a', token: 't', device: 'd', cursor: 0 }), 5000, 'connect');
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.close.unauthorized, false);
});

test('heartbeat timeout: a relay that goes silent after welcome is declared dead', async () => {
  const url = await fakeRelay((send) => send(fakeWelcome(50)));
  const link = newLink();
  assert.ok((await link.connect({ url, user: 'alice', token: 't', device: 'd', cursor: 0 })).ok);
  const closed = await once<RelayLinkClose>(link, 'close', 'heartbeat close');
  assert.equal(closed.code, 1006);
  assert.match(closed.reason, /heartbeat timeout/);
  assert.equal(closed.unauthorized, false);
});

test('a relay that never welcomes is given up on after the handshake timeout', async () => {
  const url = await fakeRelay(() => {});
  const link = newLink();
  const result = await withTimeout(link.connect({ url, user: 'alice', token: 't', device: 'd', cursor: 0, handshakeTimeoutMs: 200 }), 5000, 'connect');
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.close.reason : '', /no welcome/);
});

test('an invalid frame from the relay closes the link with 4002 and says why', async () => {
  const url = await fakeRelay((send) => {
    send(fakeWelcome(10_000));
    send(JSON.stringify({ type: 'deliver', seq: -1, item: {} }));
  });
  const link = newLink();
  const closed = once<RelayLinkClose>(link, 'close', 'protocol close');
  assert.ok((await link.connect({ url, user: 'alice', token: 't', device: 'd', cursor: 0 })).ok);
  const info = await closed;
  assert.equal(info.code, RelayCloseCodes.Protocol);
  assert.match(info.reason, /invalid frame from relay/);
});

test('a relay shutdown reaches the link as 1001, retryable', async () => {
  const shortDir = makeTempDir();
  const shortData = join(shortDir.path, 'data');
  const shortToken = await addTestUser(shortData, 'alice');
  const shortRelay = await startTestRelay({ dataDir: shortData });
  const link = newLink();
  assert.ok((await link.connect({ url: shortRelay.url, user: 'alice', token: shortToken, device: 'd', cursor: 0 })).ok);
  const closed = once<RelayLinkClose>(link, 'close', 'going away');
  await shortRelay.close();
  assert.deepEqual(await closed, { code: RelayCloseCodes.GoingAway, reason: 'relay shutting down', unauthorized: false });
  shortDir.remove();
});

test('a URL the WebSocket client cannot dial ends the attempt with failure "bad_url": connect never throws, close still comes once', async () => {
  for (const url of ['ws://127.0.0.1:1/#fragment', 'ftp://127.0.0.1:1', 'not a url']) {
    const link = newLink();
    const closes: RelayLinkClose[] = [];
    link.on('close', (info) => closes.push(info));
    const result = await withTimeout(link.connect({ url, user: 'alice', token: 't', device: 'd', cursor: 0 }), 5000, `connect ${url}`);
    assert.equal(result.ok, false, url);
    assert.equal(!result.ok && result.close.failure, 'bad_url', url);
    assert.match(!result.ok ? result.close.reason : '', new RegExp(`^cannot dial ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    assert.equal(closes.length, 1, url);
    assert.equal(link.state, 'closed');
  }
});

test('a fake that upgrades but never welcomes is "not a relay, or too busy" (failure timeout); one that sends garbage is not_relay', async () => {
  const silent = await fakeRelay(() => {});
  const quiet = await newLink().connect({ url: silent, user: 'alice', token: 't', device: 'd', cursor: 0, handshakeTimeoutMs: 300 });
  assert.equal(!quiet.ok && quiet.close.failure, 'timeout');
  assert.match(!quiet.ok ? quiet.close.reason : '', /^no welcome from relay for \d+ms at ws:\/\/127\.0\.0\.1:\d+ \(not a Switchboard relay/);
  const garbage = await fakeRelay((send) => send('{"hello":"i am not a relay"}'));
  const bad = await newLink().connect({ url: garbage, user: 'alice', token: 't', device: 'd', cursor: 0 });
  assert.equal(!bad.ok && bad.close.failure, 'not_relay');
  assert.match(!bad.ok ? bad.close.reason : '', /^ws:\/\/127\.0\.0\.1:\d+ is not a Switchboard relay: invalid frame from relay/);
});
