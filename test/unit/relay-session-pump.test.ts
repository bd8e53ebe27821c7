/**
 * The delivery pump of one relay connection (relay/session.ts) against a peer that stops
 * reading: it stays within its byte window, resumes as the peer reads again, and every
 * delivery still arrives once, in order. Also the close grace and the pump's ready check.
 * Real WebSocket pair over 127.0.0.1, real relay store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { RelayCloseCodes } from '../../protocol/relay';
import { waitFor } from '../support/wait';
import { fixture, ready, sentinel, storeDeliveries } from '../support/relay-session-fixture';




test('a peer that stops reading holds the pump within its window; reading again, it gets every delivery once, in order', async () => {
  const f = await fixture({ maxPendingBytes: 1024 * 1024 });
  try {
    const slow: number[] = [];
    f.session.onSlowConsumer = (bytes) => slow.push(bytes);
    storeDeliveries(f, 600, 'x'.repeat(8 * 1024));
    const peer = (f.client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    peer.pause();
    ready(f);
    f.session.startDeliveries(0);
    // 4.8 MB waits in the store; at most half the 1 MiB limit may sit unflushed meanwhile.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(slow, [], 'deliveries alone never make a slow consumer');
    peer.resume();
    await waitFor('600 deliveries', () => (f.frames.length >= 600 ? true : undefined), 30_000, 10);
    await sentinel(f);
    assert.deepEqual(f.frames.map((d) => d.seq), Array.from({ length: 600 }, (_, i) => i + 1));
    assert.deepEqual(slow, []);
    assert.equal(f.session.isOpen(), true);
  } finally {
    await f.close();
  }
});

test('a session with an identity but not yet welcomed sends no deliveries', async () => {
  const f = await fixture();
  try {
    storeDeliveries(f, 2);
    f.session.identity = { user: 'bob', device: 'd1', credentialId: 1 };
    f.session.state = 'authenticating';
    f.session.startDeliveries(0);
    await sentinel(f);
    assert.equal(f.frames.length, 0);
  } finally {
    await f.close();
  }
});

test('a dropped peer that never answers the close is cut after the grace, not ws\'s 30 s', async () => {
  const f = await fixture();
  try {
    (f.client as unknown as { _socket: { pause(): void } })._socket.pause();
    f.session.drop(RelayCloseCodes.Policy, 'bye');
    await waitFor('the server side to be cut', () => (f.session.socket.readyState === WebSocket.CLOSED ? true : undefined), 10_000, 20);
  } finally {
    await f.close();
  }
});

test('a long close reason is cut to exactly 123 bytes', async () => {
  const f = await fixture();
  try {
    f.session.fail(RelayCloseCodes.Policy, 'r'.repeat(200));
    assert.equal((await f.closed).reason, 'r'.repeat(123));
  } finally {
    await f.close();
  }
});
