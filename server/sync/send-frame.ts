/** The send frame a message travels in, and its size on the wire. */
import type { Message } from '../../protocol/rpc';
import type { SendFrame } from '../../protocol/relay';

export type SendContent = SendFrame['message'];

export function sendFrameOf(m: Pick<Message, 'id' | 'client_message_id' | 'to' | 'body' | 'reply_to' | 'request_id' | 'created_at'>): SendContent {
  return { id: m.id, client_message_id: m.client_message_id, to: m.to, body: m.body, reply_to: m.reply_to, request_id: m.request_id, created_at: m.created_at };
}

/** Bytes of the frame as the relay receives it: what its frame limit is measured against. */
export function sendFrameBytes(message: SendContent): number {
  return Buffer.byteLength(JSON.stringify({ type: 'send', message } satisfies SendFrame));
}
