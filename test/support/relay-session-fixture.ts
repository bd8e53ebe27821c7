/**
 * One relay connection (relay/session.ts) under test: a real WebSocket pair over 127.0.0.1,
 * a real SQLite relay storage with alice and bob, and the frames the client received.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { SendFrame } from '../../protocol/relay';
import { addUser } from '../../relay/accounts';
import { RelayLedger } from '../../relay/ledger';
import { RelaySession, type SessionOptions } from '../../relay/session';
import type { RelayStore } from '../../relay/store';
import { DEFAULT_STORAGE_LIMITS } from '../../relay/storage/limits';
import { SqliteRelayStorage } from '../../relay/storage/sqlite/storage';
import { makeTempDir } from './relay';
import { waitFor } from './wait';

export interface Fixture {
  session: RelaySession;
  store: RelayStore;
  storage: SqliteRelayStorage;
  ledger: RelayLedger;
  client: WebSocket;
  /** Every frame the client received, parsed. */
  frames: { type: string; seq?: number; [key: string]: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  paused: () => boolean;
  close: () => Promise<void>;
}

export async function fixture(options: Partial<SessionOptions> = {}): Promise<Fixture> {
  const dir = makeTempDir();
  const storage = SqliteRelayStorage.open(join(dir.path, 'data'), DEFAULT_STORAGE_LIMITS);
  const store = storage.store;
  await addUser(storage.accounts, 'alice');
  await addUser(storage.accounts, 'bob');
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
  const session = new RelaySession(socket, storage.deliveries, {
    transport: { remoteAddress: raw.remoteAddress, remotePort: raw.remotePort, pause: () => (paused = true) },
    ...options,
  });
  return {
    session,
    store,
    storage,
    ledger: new RelayLedger(store, 1024 * 1024),
    client,
    frames,
    closed,
    paused: () => paused,
    close: async () => {
      client.terminate();
      socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await storage.close();
      dir.remove();
    },
  };
}

export function message(cmid: string, body = 'hi'): SendFrame['message'] {
  return { id: `id-${cmid}`, client_message_id: cmid, to: 'bob', body, reply_to: null, request_id: null, created_at: '2026-01-01T00:00:00.000Z' };
}

/** Stores `n` messages for bob; returns the stored items by seq. */
let sent = 0;
export function storeDeliveries(f: Fixture, n: number, body = 'hi'): Map<number, string> {
  const items = new Map<number, string>();
  f.store.transaction(() => {
    for (let i = 0; i < n; i++) for (const d of f.ledger.recordSend('alice', message(`c${sent++}`, body), new Date()).deliveries) items.set(d.seq, d.item);
  });
  return items;
}

export function ready(f: Fixture): void {
  f.session.identity = { user: 'bob', device: 'd1', credentialId: 1 };
  f.session.state = 'ready';
}

/** Frames arrive in the order they were sent: once this one is in, nothing sent before it is still on its way. */
export async function sentinel(f: Fixture): Promise<void> {
  const before = f.frames.length;
  f.session.send({ type: 'error', code: 'internal', message: 'sentinel' });
  await waitFor('the sentinel', () => (f.frames.some((frame, i) => i >= before && frame.message === 'sentinel') ? true : undefined), 5000, 5);
  f.frames.splice(f.frames.findIndex((frame) => frame.message === 'sentinel'), 1);
}
