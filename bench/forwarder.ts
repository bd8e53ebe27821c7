/**
 * A storage-free WebSocket forwarder speaking the relay protocol: the baseline `npm run bench`
 * compares the real relay against. Hello by name (no token check), every send is "accepted"
 * and forwarded as a deliver to the named user's live connections. No durability, no acks,
 * no receipts: the cheapest thing a relay could be.
 *
 * Groups (protocol v2), for the fan-out baseline: `group_create` remembers the members and
 * tells each of them (a `created` event, as the relay does), and a send to `#name` is one
 * deliver per member, each with that member's own seq. Like the relay, it builds the item's
 * JSON once and splices it into every member's frame. No membership checks beyond "is a member".
 */
import type { AddressInfo } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import { WebSocketServer, type WebSocket } from 'ws';
import { GROUP_PREFIX, RELAY_MAX_FRAME_BYTES, type DeliveryItemV2, type GroupMember, type RelayToCoreFrameV2, type WireMessageV2 } from '../protocol/relay';
import { parseCoreFrameV2 } from '../protocol/relay-schemas';

export interface Forwarder {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface ForwardedGroup {
  id: string;
  members: GroupMember[];
  lastPos: number;
}

export async function startForwarder(options: { heartbeatMs?: number; maxBodyBytes?: number } = {}): Promise<Forwarder> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: RELAY_MAX_FRAME_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const byUser = new Map<string, Set<WebSocket>>();
  /** Each recipient's delivery sequence (a user, or a group member). */
  const sequences = new Map<string, number>();
  const groups = new Map<string, ForwardedGroup>();
  const send = (socket: WebSocket, frame: RelayToCoreFrameV2): void => socket.send(JSON.stringify(frame));
  const nextSeq = (user: string): number => {
    const seq = (sequences.get(user) ?? 0) + 1;
    sequences.set(user, seq);
    return seq;
  };
  /** One deliver per recipient, the item encoded once: what the relay's session does with a stored item. */
  const deliverTo = (users: Iterable<string>, item: string): void => {
    for (const user of users) {
      const peers = byUser.get(user);
      const seq = nextSeq(user);
      if (peers) for (const peer of peers) peer.send(`{"type":"deliver","seq":${seq},"item":${item}}`);
    }
  };

  wss.on('connection', (socket) => {
    let user: string | undefined;
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      if (user) byUser.get(user)?.delete(socket);
    });
    socket.on('message', (data) => {
      const parsed = parseCoreFrameV2(data.toString());
      if (!parsed.ok) return socket.close(4002, 'protocol');
      const frame = parsed.frame;
      if (frame.type === 'hello') {
        user = frame.user;
        let peers = byUser.get(user);
        if (!peers) byUser.set(user, (peers = new Set()));
        peers.add(socket);
        send(socket, {
          type: 'welcome',
          v: frame.v,
          user: frame.user,
          device: frame.device,
          heartbeat_ms: options.heartbeatMs ?? 15_000,
          max_body_bytes: options.maxBodyBytes ?? 64 * 1024,
        });
      } else if (frame.type === 'send' && user) {
        const { message } = frame;
        const serverId = uuidv7();
        if (message.to.startsWith(GROUP_PREFIX)) {
          const group = groups.get(message.to.slice(GROUP_PREFIX.length));
          if (!group || !group.members.some((m) => m.user === user)) {
            send(socket, { type: 'verdict', result: 'rejected', client_message_id: message.client_message_id, id: message.id, reason: 'not a member', retryable: false, code: 'not_member' });
            return;
          }
          const pos = ++group.lastPos;
          send(socket, { type: 'verdict', result: 'accepted', client_message_id: message.client_message_id, id: message.id, server_id: serverId, seq: pos });
          const wire: WireMessageV2 = { ...message, from: user };
          const item = JSON.stringify({ kind: 'message', server_id: serverId, message: wire, group_id: group.id, pos } satisfies DeliveryItemV2);
          const sender = user;
          deliverTo(
            group.members.filter((m) => m.user !== sender).map((m) => m.user),
            item,
          );
          return;
        }
        const seq = nextSeq(message.to);
        send(socket, { type: 'verdict', result: 'accepted', client_message_id: message.client_message_id, id: message.id, server_id: serverId, seq });
        for (const peer of byUser.get(message.to) ?? []) {
          send(peer, { type: 'deliver', seq, item: { kind: 'message', server_id: serverId, message: { ...message, from: user } } });
        }
      } else if (frame.type === 'group_create' && user) {
        const name = frame.group.startsWith(GROUP_PREFIX) ? frame.group.slice(GROUP_PREFIX.length) : frame.group;
        const members: GroupMember[] = [{ user, role: 'owner' }, ...[...new Set(frame.members)].filter((m) => m !== user).map((m) => ({ user: m, role: 'member' as const }))];
        const group: ForwardedGroup = { id: `g${groups.size + 1}`, members, lastPos: 1 };
        groups.set(name, group);
        send(socket, { type: 'group_verdict', request_id: frame.request_id, result: 'ok', group_id: group.id, group: name, pos: 1, members });
        const created = JSON.stringify({
          kind: 'group',
          server_id: uuidv7(),
          group_id: group.id,
          group: name,
          pos: 1,
          event: 'created',
          by: user,
          at: new Date().toISOString(),
          users: [],
          members,
        } satisfies DeliveryItemV2);
        deliverTo(
          members.map((m) => m.user),
          created,
        );
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
