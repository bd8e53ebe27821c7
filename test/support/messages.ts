/**
 * The group, mention and receipt fields of a direct message (issue #12), for tests that build
 * messages by hand: a Message as clients see it, or a row as the store takes it.
 */
import type { Message } from '../../protocol/rpc';

type Direction = Message['direction'];

/** A direct message's `group`, `mentions`, `mentions_me`, `receipts` and (no) `attachments`, as the core maps them. */
export function directFields(direction: Direction): Pick<Message, 'group' | 'mentions' | 'mentions_me' | 'receipts' | 'attachments'> {
  return { group: null, mentions: [], mentions_me: direction === 'in', receipts: direction === 'out' ? { total: 1, delivered: 0, read: 0 } : null, attachments: [] };
}

/** What Repository.insertMessage takes beyond a v7 row for a direct message. */
export function directStoreFields(direction: Direction): { group_id: null; mentions: string[]; mentions_me: boolean } {
  return { group_id: null, mentions: [], mentions_me: direction === 'in' };
}

/** What Outbox.create takes beyond a v7 message for a direct message to `to`. */
export function directOutboundFields(to: string): { group_id: null; mentions: string[]; recipients: string[] } {
  return { group_id: null, mentions: [], recipients: [to] };
}

/**
 * A direct message from bob to me as clients see it (received, unread, ids m1/c1/s1, direct
 * fields for 'in'), with `p` laid over it: the one Message literal the format tests share, so a
 * new Message field is added here once. The direct fields stay those of an incoming message
 * whatever `p.direction` says; callers that need outgoing ones pass them.
 */
export function messageFixture(p: Partial<Message> = {}): Message {
  return {
    id: 'm1',
    client_message_id: 'c1',
    server_id: 's1',
    conversation: 'bob',
    direction: 'in',
    from: 'bob',
    to: 'me',
    body: '',
    reply_to: null,
    request_id: null,
    created_at: '2026-11-24T11:58:00Z',
    state: 'received',
    read: false,
    ...directFields('in'),
    ...p,
  };
}
