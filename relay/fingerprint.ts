/**
 * What makes two sends "the same message" for idempotency: everything the sender chose about
 * its content and destination. The message `id` and `created_at` are left out on purpose: a
 * retry after a crash may mint them again, and it is still the same send.
 */
import { createHash } from 'node:crypto';
import type { SendFrame } from '../protocol/relay';

export function sendFingerprint(message: SendFrame['message']): string {
  const canonical = JSON.stringify([message.to, message.body, message.reply_to, message.request_id]);
  return createHash('sha256').update(canonical).digest('hex');
}
