/**
 * "The same send", for idempotency: everything the sender chose about a message's content and
 * destination — `to`, `body`, `reply_to`, `request_id`. The message `id` and `created_at` are
 * left out on purpose: a retry after a crash may mint them again, and it is still the same send;
 * an absent `reply_to` or `request_id` is the same as null.
 *
 * The core (its outbox, keyed by `client_message_id`) and the relay (its dedupe table, keyed by
 * sender and `client_message_id`) each store this fingerprint and compare a new send's with it
 * byte for byte: equal is a duplicate, different is a conflict. They hash the same four fields
 * but were first written with two encodings, and both are stored: in every core's `outbox` and
 * at every relay. Moving either side to the other's encoding would make a retry of a send stored
 * before the change look like a different message. So there is one idea and two encodings,
 * named for the side that stores each; the two are never compared with each other.
 */
import { createHash } from 'node:crypto';

export interface SendContent {
  to: string;
  body: string;
  reply_to?: string | null;
  request_id?: string | null;
}

/** The core's (`outbox.fingerprint`): SHA-256 of the canonical JSON object of the four fields (keys sorted). */
export function coreSendFingerprint(content: SendContent): string {
  // Keys in sorted order and every value a string or null: this is canonical JSON (keys
  // sorted at every depth), which the fingerprint tests check against a generic encoder.
  const canonical = JSON.stringify({
    body: content.body,
    reply_to: content.reply_to ?? null,
    request_id: content.request_id ?? null,
    to: content.to,
  });
  return sha256(canonical);
}

/** The relay's (`dedupe.fingerprint`): SHA-256 of the JSON array `[to, body, reply_to, request_id]`. */
export function relaySendFingerprint(content: SendContent): string {
  return sha256(JSON.stringify([content.to, content.body, content.reply_to ?? null, content.request_id ?? null]));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
