/** A canonical fingerprint of a send's content: key order and absent-vs-null never change it. */
import { createHash } from 'node:crypto';

export interface SendContent {
  to: string;
  body: string;
  reply_to?: string | null;
  request_id?: string | null;
}

export function fingerprint(content: SendContent): string {
  // Keys already in sorted order and every value a string or null: exactly canonicalJson's
  // output (the fingerprint tests hold the two equal), without its generic sort.
  const canonical = JSON.stringify({
    body: content.body,
    reply_to: content.reply_to ?? null,
    request_id: content.request_id ?? null,
    to: content.to,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** JSON with object keys sorted at every depth, so equal values always serialise equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
