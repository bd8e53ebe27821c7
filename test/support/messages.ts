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
