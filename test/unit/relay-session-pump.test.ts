/**
 * The delivery pump of one relay connection (relay/session.ts) against a peer that stops
 * reading: it stays within its byte window, resumes as the peer reads again, and every
 * delivery still arrives once, in order. Also the close grace and the pump's ready check.
 * Real WebSocket pair over 127.0.0.1, real relay store.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { RelayCloseCodes, type SendFrame } from '../../protocol/relay';
import { addUser } from '../../relay/accounts';
import { RelayLedger } from '../../relay/ledger';
import { RelaySession, type SessionOptions } from '../../relay/session';
import { RelayStore } from '../../relay/store';
import { makeTempDir } from '../../relay/testing/harness';
import { waitFor } from '../support/wait';

interface Fixture {
  session: RelaySession;
  store: RelayStore;
  ledger: RelayLedger;
  client: WebSocket;
  /** Every frame the client received, parsed. */
  frames: { type: string; seq?: number; [key: string]: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  paused: () => boolean;
  close: () => Promise<void>;
}

async function fixture(options: Partial<SessionOptions> = {}): Promise<Fixture> {
  const dir = makeTempDir();
  const store = RelayStore.open(join(dir.path, 'data'));
  await addUser(store, 'alice');
  await addUser(store, 'bob');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const frames: Fixture['frames'] = [];
  client.on('message', (data) => frames.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => client.once('open', resolve).once('error', reject));
  const socket = await accepted;
  let paused = false;
  const raw = (socket as unknown as { _socket: { remoteAddress?: string; remotePort?: number } })._socket;
  const session = new RelaySession(socket, store, {
    transport: { remoteAddress: raw.remoteAddress, remotePort: raw.remotePort, pause: () => (paused = true) },
    ...options,
  });
  return {
    session,
    store,
    ledger: new RelayLedger(store, 1024 * 1024),
    client,
    frames,
    closed,
    paused: () => paused,
    close: async () => {
      client.terminate();
      socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      store.close();
      dir.remove();
    },
  };
}

function message(cmid: string, body = 'hi'): SendFrame['message'] {
  return { id: `id-${cmid}`, client_message_id: cmid, to: 'bob', body, reply_to: null, request_id: null, created_at: '2026-01-01T00:00:00.000Z' };
}

/** Stores `n` messages for bob; returns the stored items by seq. */
let sent = 0;
function storeDeliveries(f: Fixture, n: number, body = 'hi'): Map<number, string> {
  const items = new Map<number, string>();
  f.store.transaction(() => {
    for (let i = 0; i < n; i++) for (const d of f.ledger.recordSend('alice', message(`c${sent++}`, body), new Date()).deliveries) items.set(d.seq, d.item);
  });
  return items;
}

function ready(f: Fixture): void {
  f.session.identity = { user: 'bob', device: 'd1', credentialId: 1 };
  f.session.state = 'ready';
}

/** Frames arrive in the order they were sent: once this one is in, nothing sent before it is still on its way. */
async function sentinel(f: Fixture): Promise<void> {
  const before = f.frames.length;
  f.session.send({ type: 'error', code: 'internal', message: 'sentinel' });
  await waitFor('the sentinel', () => (f.frames.some((frame, i) => i >= before && frame.message === 'sentinel') ? true : undefined), 5000, 5);
  f.frames.splice(f.frames.findIndex((frame) => frame.message === 'sentinel'), 1);
}



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
