/** The send frame a message travels in, and its size on the wire. */
import type { Message } from '../../protocol/rpc';
import type { SendFrameV3, WireAttachment } from '../../protocol/relay';

/**
 * A message as a send frame carries it: the send's content (lib/node/send-fingerprint.ts
 * `SendContent`) with its id, client id, time and the mentions computed from its body (v2;
 * a v1 relay strips the field, and is never sent a group message).
 */
export type SendFrameMessage = SendFrameV3['message'];

export function sendFrameOf(
  m: Pick<Message, 'id' | 'client_message_id' | 'to' | 'body' | 'reply_to' | 'request_id' | 'created_at'> & { mentions?: readonly string[]; attachments?: readonly WireAttachment[] },
): SendFrameMessage {
  const frame: SendFrameMessage = { id: m.id, client_message_id: m.client_message_id, to: m.to, body: m.body, reply_to: m.reply_to, request_id: m.request_id, created_at: m.created_at };
  if (m.mentions !== undefined && m.mentions.length > 0) frame.mentions = [...m.mentions];
  // v3: only a message with files names any (a v1 or v2 relay is never sent one).
  if (m.attachments !== undefined && m.attachments.length > 0) frame.attachments = m.attachments.map((a) => ({ sha256: a.sha256, size: a.size, name: a.name, mime: a.mime }));
  return frame;
}

/** Bytes of the frame as the relay receives it: what its frame limit is measured against. */
export function sendFrameBytes(message: SendFrameMessage): number {
  return Buffer.byteLength(JSON.stringify({ type: 'send', message } satisfies SendFrameV3));
}
