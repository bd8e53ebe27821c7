/**
 * What the relay keeps in JetStream KV, as JSON with a schema each: a value read back from the
 * cluster is checked like any other input (another relay version, or a hand edit with the
 * `nats` tool, may have written it), and a bad one is an error naming the key, never a crash.
 */
import { z } from 'zod';
import type { KvEntry } from '@nats-io/kv';

export const dedupeRecord = z.object({
  server_id: z.string().min(1),
  fingerprint: z.string(),
  /**
   * `pending` from the claim until every delivery of the send is appended; then `committed`.
   * A node that finds a pending claim (its writer died between the two) finishes the appends
   * itself, each under its Nats-Msg-Id, before it answers.
   */
  state: z.enum(['pending', 'committed']),
  at: z.string(),
});
export type DedupeRecord = z.infer<typeof dedupeRecord>;

export const cursorRecord = z.object({ seq: z.number().int().nonnegative() });

const credentialTimes = z.object({ created_at: z.string(), revoked_at: z.string().nullable() });

/**
 * One user name's account: its current credential (token hash, base64) and the credentials it
 * had before (revoked, kept for `relay list`). The credential's id is the KV revision that
 * wrote it, so a token issued again gets a new id.
 */
export const accountRecord = z.object({
  name: z.string().min(1),
  kind: z.enum(['sha256', 'scrypt']),
  hash: z.string(),
  salt: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  past: z.array(credentialTimes).max(1000),
});
export type AccountRecord = z.infer<typeof accountRecord>;

export const memberRecord = z.object({
  role: z.enum(['owner', 'admin', 'member']),
  added_at: z.string(),
});
export type MemberRecord = z.infer<typeof memberRecord>;

export function encodeRecord(value: unknown): string {
  return JSON.stringify(value);
}

/** The entry's value under `schema`; undefined for a deleted or purged key. */
export function decodeEntry<T>(schema: z.ZodType<T>, entry: KvEntry | null, bucket: string): T | undefined {
  if (!entry || entry.operation !== 'PUT') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(entry.string());
  } catch {
    throw new Error(`${bucket}: the value of key ${entry.key} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${bucket}: the value of key ${entry.key} is not a valid record: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
