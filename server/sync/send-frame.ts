/** The send frame a message travels in, and its size on the wire. */
import type { Message } from '../../protocol/rpc';
import type { SendFrameV2 } from '../../protocol/relay';

/**
 * A message as a send frame carries it: the send's content (lib/node/send-fingerprint.ts
 * `SendContent`) with its id, client id, time and the mentions computed from its body (v2;
 * a v1 relay strips the field, and is never sent a group message).
 */
export type SendFrameMessage = SendFrameV2['message'];

export function sendFrameOf(m: Pick<Message, 'id' | 'client_message_id' | 'to' | 'body' | 'reply_to' | 'request_id' | 'created_at'> & { mentions?: readonly string[] }): SendFrameMessage {
  const frame: SendFrameMessage = { id: m.id, client_message_id: m.client_message_id, to: m.to, body: m.body, reply_to: m.reply_to, request_id: m.request_id, created_at: m.created_at };
  if (m.mentions !== undefined && m.mentions.length > 0) frame.mentions = [...m.mentions];
  return frame;
}

/** Bytes of the frame as the relay receives it: what its frame limit is measured against. */
export function sendFrameBytes(message: SendFrameMessage): number {
  return Buffer.byteLength(JSON.stringify({ type: 'send', message } satisfies SendFrameV2));
}
