/** The tools' output shapes (zod), and how core results map to them. Peer text is wrapped (untrusted.ts). */
import { z } from 'zod';
import type { Conversation, CoreStatus, Group, OutboxItem, SendResult } from '../../protocol/rpc';
import { OUTBOX_STATES } from '../../protocol/rpc';
import { messageSchema, toMcpMessage, untrusted, untrustedTextSchema } from './untrusted';

export const sendResultShape = {
  status: z.enum(['sent', 'duplicate', 'queued', 'failed']).describe('sent: durable at the relay; duplicate: an identical earlier send took; queued: stored, retried until the relay takes it; failed: see reason'),
  id: z.string().describe('the message id (reply_to, read_message)'),
  client_message_id: z.string().describe('pass it again as client_id to retry without sending twice'),
  to: z.string(),
  server_id: z.string().nullable(),
  reason: z.string().nullable().describe('why queued or failed, and what fixes it'),
  reason_code: z.string().nullable(),
};
export const sendResultSchema = z.object(sendResultShape);

export function toSendResult(r: SendResult): z.infer<typeof sendResultSchema> {
  return { status: r.status, id: r.id, client_message_id: r.client_message_id, to: r.to, server_id: r.server_id, reason: r.reason, reason_code: r.reason_code };
}

/** One line for a verdict, in the tool's voice (the reason is the core's or the relay's, not a peer's). */
export function verdictLine(r: SendResult): string {
  const ids = `id ${r.id}, client_id ${r.client_message_id}`;
  switch (r.status) {
    case 'sent':
      return `sent to ${r.to} (${ids})`;
    case 'duplicate':
      return `duplicate: an identical earlier send to ${r.to} already took (${ids}); nothing was sent twice`;
    case 'queued':
      return `queued for ${r.to}, not yet at the relay: ${r.reason ?? 'waiting'} (${ids}); it is retried, check outbox_status`;
    case 'failed':
      return `failed to send to ${r.to}: ${r.reason ?? 'refused'} (${ids})`;
  }
}

export const conversationSchema = z.object({
  peer: z.string().describe('a user, or #group'),
  kind: z.enum(['user', 'group']),
  unread: z.number().int(),
  unread_mentions: z.number().int(),
  total: z.number().int(),
  members: z.number().int().nullable(),
  owner: z.string().optional().describe('for an agent identity: the person who owns it'),
  last: messageSchema.nullable(),
});

export function toConversation(c: Conversation): z.infer<typeof conversationSchema> {
  return { peer: c.peer, kind: c.kind, unread: c.unread, unread_mentions: c.unread_mentions, total: c.total, members: c.members, ...(c.owner === undefined ? {} : { owner: c.owner }), last: c.last ? toMcpMessage(c.last) : null };
}

export const groupSchema = z.object({
  group_id: z.string(),
  name: z.string().describe('without #; address it as #name'),
  role: z.enum(['owner', 'admin', 'member']).nullable().describe("this account's role; null once it left or was removed"),
  members: z.array(z.object({ user: z.string(), role: z.enum(['owner', 'admin', 'member']), owner: z.string().optional().describe('for an agent identity: the person who owns it') })),
  created_by: z.string().nullable(),
  created_at: z.string().nullable(),
  unread: z.number().int(),
  unread_mentions: z.number().int(),
});

export function toGroup(g: Group): z.infer<typeof groupSchema> {
  return { group_id: g.group_id, name: g.name, role: g.role, members: g.members.map((m) => ({ user: m.user, role: m.role, ...(m.owner === undefined ? {} : { owner: m.owner }) })), created_by: g.created_by, created_at: g.created_at, unread: g.unread, unread_mentions: g.unread_mentions };
}

export const outboxItemSchema = z.object({
  id: z.string(),
  client_message_id: z.string(),
  to: z.string(),
  body: untrustedTextSchema,
  state: z.enum(OUTBOX_STATES),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function toOutboxItem(i: OutboxItem): z.infer<typeof outboxItemSchema> {
  // Our own text, but it may quote a peer's: wrapped alike.
  return { ...i, body: untrusted(i.body, 'message from this account') };
}

export const statusShape = {
  version: z.string(),
  user: z.string().nullable().describe('who this server sends as'),
  relay: z.string().nullable(),
  sync: z.enum(['disabled', 'offline', 'connecting', 'online', 'unauthorized', 'error']),
  last_error: z.string().nullable(),
  last_inbound_at: z.string().nullable(),
  last_ack_at: z.string().nullable(),
  queued: z.number().int(),
  messages: z.number().int(),
  unread: z.number().int(),
  outbox: z.record(z.string(), z.number().int()),
  home: z.string(),
  core_pid: z.number().int(),
  cursor: z.number().int().nullable().describe('where the next wait_for_messages without a cursor resumes'),
};

export function toStatus(s: CoreStatus, cursor: number | undefined): z.infer<z.ZodObject<typeof statusShape>> {
  return {
    version: s.version,
    user: s.sync.user,
    relay: s.sync.relay,
    sync: s.sync.state,
    last_error: s.sync.last_error,
    last_inbound_at: s.sync.last_inbound_at,
    last_ack_at: s.sync.last_ack_at,
    queued: s.sync.queued,
    messages: s.messages,
    unread: s.unread,
    outbox: { ...s.outbox },
    home: s.home,
    core_pid: s.pid,
    cursor: cursor ?? null,
  };
}
