/**
 * One relay connection (relay/session.ts) on a real WebSocket pair over 127.0.0.1 and a real
 * relay store: its close paths, the order of its verdicts, and the delivery pump's paging.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { RelayCloseCodes, type VerdictFrame } from '../../protocol/relay';
import { normalizeAddress, RelaySession, sessionKey } from '../../relay/session';
import { waitFor } from '../support/wait';
import { fixture, message, ready, sentinel, storeDeliveries } from '../support/relay-session-fixture';


const verdict = (cmid: string): VerdictFrame => ({ type: 'verdict', result: 'accepted', client_message_id: cmid, id: `id-${cmid}`, server_id: `s-${cmid}`, seq: 1 });

test('addresses: IPv4 peers of a dual-stack socket count as IPv4; the key joins user and device', async () => {
  assert.equal(normalizeAddress('::ffff:10.0.0.7'), '10.0.0.7');
  assert.equal(normalizeAddress('::1'), '::1');
  assert.equal(normalizeAddress(undefined), '?');
  assert.equal(normalizeAddress(''), '?');
  assert.equal(sessionKey('bob', 'd1'), 'bob\u0000d1');
  const f = await fixture();
  try {
    assert.equal(f.session.address, '127.0.0.1');
    assert.match(f.session.remote, /^127\.0\.0\.1:\d+$/);
    assert.equal(f.session.key, '', 'no identity before welcome');
    ready(f);
    assert.equal(f.session.key, 'bob\u0000d1');
    const portless = new RelaySession(f.client, f.storage.deliveries, { transport: { pause: () => {} } });
    assert.equal(portless.remote, '?:?');
  } finally {
    await f.close();
  }
});

test('fail sends the error frame, closes with the code and a reason cut to 123 bytes, and only once', async () => {
  const f = await fixture();
  try {
    const reason = `${'é'.repeat(70)}`; // 140 bytes: cut on a character boundary
    f.session.fail(RelayCloseCodes.Policy, reason, { type: 'error', code: 'internal', message: 'why' });
    f.session.fail(1011, 'again', { type: 'error', code: 'internal', message: 'twice' });
    const { code, reason: got } = await f.closed;
    assert.equal(code, RelayCloseCodes.Policy);
    assert.equal(got, 'é'.repeat(61));
    assert.deepEqual(f.frames, [{ type: 'error', code: 'internal', message: 'why' }]);
    assert.equal(f.session.state, 'closed');
    assert.equal(f.session.isOpen(), false);
    f.session.send(verdict('late'));
    f.session.drop(1011, 'after close', { stopReading: true });
    assert.equal(f.paused(), false, 'a closed session is not touched again');
  } finally {
    await f.close();
  }
});

test('drop closes like fail and, when flooded, stops reading', async () => {
  const f = await fixture();
  try {
    f.session.drop(RelayCloseCodes.TryAgainLater, 'busy', { stopReading: true });
    assert.equal(f.paused(), true);
    assert.deepEqual(await f.closed, { code: RelayCloseCodes.TryAgainLater, reason: 'busy' });
    assert.deepEqual(f.frames, []);
  } finally {
    await f.close();
  }
  const g = await fixture();
  try {
    g.session.drop(RelayCloseCodes.TryAgainLater, 'busy');
    assert.equal(g.paused(), false, 'only a flood stops the reading');
    assert.equal((await g.closed).code, RelayCloseCodes.TryAgainLater);
  } finally {
    await g.close();
  }
});

test('verdicts leave in the order their sends arrived, whichever resolves first; none after close', async () => {
  const f = await fixture();
  try {
    const first = f.session.reserveVerdict();
    const second = f.session.reserveVerdict();
    const third = f.session.reserveVerdict();
    second(verdict('b'));
    third(verdict('c'));
    await sentinel(f);
    assert.equal(f.frames.length, 0, 'the first is still pending: nothing overtakes it');
    first(verdict('a'));
    await waitFor('three verdicts', () => (f.frames.length === 3 ? true : undefined), 5000, 5);
    assert.deepEqual(f.frames.map((v) => v.client_message_id), ['a', 'b', 'c']);
    const late = f.session.reserveVerdict();
    f.session.fail(1000, 'bye');
    late(verdict('d'));
    await f.closed;
    assert.equal(f.frames.length, 3);
  } finally {
    await f.close();
  }
});

test('deliveries stream from the cursor in seq order, across pages and send windows, each once', async () => {
  const f = await fixture();
  try {
    const items = storeDeliveries(f, 600);
    ready(f);
    f.session.startDeliveries(100);
    await waitFor('500 deliveries', () => (f.frames.length >= 500 ? true : undefined), 20_000, 10);
    // A committed delivery the pump already sent is not sent again; a later one is.
    f.session.notifyDelivery(600, items.get(600)!);
    f.session.notifyDelivery(42, items.get(42)!);
    const more = storeDeliveries(f, 1);
    const [seq, item] = [...more][0]!;
    f.session.notifyDelivery(seq, item);
    await waitFor('the new delivery', () => (f.frames.length >= 501 ? true : undefined), 5000, 5);
    await sentinel(f);
    assert.deepEqual(
      f.frames.map((d) => d.seq),
      Array.from({ length: 501 }, (_, i) => 101 + i),
    );
    assert.ok(f.frames.every((d) => d.type === 'deliver'));
    assert.deepEqual(f.frames[0]!.item, JSON.parse(items.get(101)!));
  } finally {
    await f.close();
  }
});

test('a delivery is sent only to a ready session, and one out of line waits for the pump', async () => {
  const f = await fixture();
  try {
    const items = storeDeliveries(f, 3);
    f.session.notifyDelivery(1, items.get(1)!);
    f.session.startDeliveries(0);
    await sentinel(f);
    assert.equal(f.frames.length, 0, 'not ready: nothing sent');
    ready(f);
    f.session.startDeliveries(1);
    await waitFor('two deliveries', () => (f.frames.length === 2 ? true : undefined), 5000, 5);
    // seq 5 is ahead of the line (4 is next): the pump reads the store, which has neither yet.
    const more = [...storeDeliveries(f, 2)];
    f.session.notifyDelivery(more[1]![0], more[1]![1]);
    await waitFor('both new deliveries, in order', () => (f.frames.length === 4 ? true : undefined), 5000, 5);
    assert.deepEqual(f.frames.map((d) => d.seq), [2, 3, 4, 5]);
  } finally {
    await f.close();
  }
});

test('a peer that stops reading is dropped once its unsent bytes pass the limit, and told why', async () => {
  const f = await fixture({ maxPendingBytes: 64 * 1024 });
  try {
    const slow: number[] = [];
    f.session.onSlowConsumer = (bytes) => slow.push(bytes);
    ready(f);
    // Verdicts are frames the peer asked for: they may push it over the limit, deliveries may not.
    for (let i = 0; slow.length === 0 && i < 10_000; i++) f.session.send({ ...verdict(`v${i}`), client_message_id: `${i}:${'x'.repeat(1000)}` } as VerdictFrame);
    assert.equal(slow.length, 1);
    assert.ok(slow[0]! > 64 * 1024, String(slow[0]));
    assert.equal(f.paused(), true, 'nothing more is read from it');
    const { code, reason } = await f.closed;
    assert.equal(code, RelayCloseCodes.Policy);
    assert.match(reason, /^slow consumer: \d+ bytes unsent \(limit 65536\)$/);
  } finally {
    await f.close();
  }
});

test('writes are announced to the turn-write holder before each frame', async () => {
  let holds = 0;
  const f = await fixture({ holdWrites: () => holds++ });
  try {
    f.session.send(verdict('a'));
    f.session.send(verdict('b'));
    assert.equal(holds, 2);
  } finally {
    await f.close();
  }
});
