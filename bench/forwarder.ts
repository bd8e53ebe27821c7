/**
 * A storage-free WebSocket forwarder speaking the relay protocol: the baseline `npm run bench`
 * compares the real relay against. Hello by name (no token check), every send is "accepted"
 * and forwarded as a deliver to the named user's live connections. No durability, no acks,
 * no receipts: the cheapest thing a relay could be.
 */
import type { AddressInfo } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import { WebSocketServer, type WebSocket } from 'ws';
import { RELAY_MAX_FRAME_BYTES, RELAY_PROTOCOL_VERSION, type RelayToCoreFrame } from '../protocol/relay';
import { parseCoreFrame } from '../protocol/relay-schemas';

export interface Forwarder {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startForwarder(options: { heartbeatMs?: number; maxBodyBytes?: number } = {}): Promise<Forwarder> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: RELAY_MAX_FRAME_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const byUser = new Map<string, Set<WebSocket>>();
  const sequences = new Map<string, number>();
  const send = (socket: WebSocket, frame: RelayToCoreFrame): void => socket.send(JSON.stringify(frame));

  wss.on('connection', (socket) => {
    let user: string | undefined;
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      if (user) byUser.get(user)?.delete(socket);
    });
    socket.on('message', (data) => {
      const parsed = parseCoreFrame(data.toString());
      if (!parsed.ok) return socket.close(4002, 'protocol');
      const frame = parsed.frame;
      if (frame.type === 'hello') {
        user = frame.user;
        let peers = byUser.get(user);
        if (!peers) byUser.set(user, (peers = new Set()));
        peers.add(socket);
        send(socket, {
          type: 'welcome',
          v: RELAY_PROTOCOL_VERSION,
          user: frame.user,
          device: frame.device,
          heartbeat_ms: options.heartbeatMs ?? 15_000,
          max_body_bytes: options.maxBodyBytes ?? 64 * 1024,
        });
      } else if (frame.type === 'send' && user) {
        const { message } = frame;
        const seq = (sequences.get(message.to) ?? 0) + 1;
        sequences.set(message.to, seq);
        const serverId = uuidv7();
        send(socket, { type: 'verdict', result: 'accepted', client_message_id: message.client_message_id, id: message.id, server_id: serverId, seq });
        for (const peer of byUser.get(message.to) ?? []) {
          send(peer, { type: 'deliver', seq, item: { kind: 'message', server_id: serverId, message: { ...message, from: user } } });
        }
      } else if (frame.type === 'ping') {
        send(socket, { type: 'pong', t: frame.t });
      }
    });
  });

  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
