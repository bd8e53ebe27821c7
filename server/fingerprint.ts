/** A canonical fingerprint of a send's content: key order and absent-vs-null never change it. */
import { createHash } from 'node:crypto';

export interface SendContent {
  to: string;
  body: string;
  reply_to?: string | null;
  request_id?: string | null;
}

export function fingerprint(content: SendContent): string {
  // Keys in sorted order and every value a string or null: this is canonical JSON (keys
  // sorted at every depth), which the fingerprint tests check against a generic encoder.
  const canonical = JSON.stringify({
    body: content.body,
    reply_to: content.reply_to ?? null,
    request_id: content.request_id ?? null,
    to: content.to,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
