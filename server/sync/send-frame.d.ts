/** The send frame a message travels in, and its size on the wire. */
import type { Message } from '../../protocol/rpc';
import type { SendFrame } from '../../protocol/relay';
export type SendContent = SendFrame['message'];
export declare function sendFrameOf(m: Pick<Message, 'id' | 'client_message_id' | 'to' | 'body' | 'reply_to' | 'request_id' | 'created_at'>): SendContent;
/** Bytes of the frame as the relay receives it: what its frame limit is measured against. */
export declare function sendFrameBytes(message: SendContent): number;
