/** Runtime validators for `e2e.ts`: a directory's or a peer's bytes are data, never trusted shapes. */
import { z } from 'zod';
import type { DeviceKeyRecord, EncryptedEnvelope, EnvelopeKey, SealedBody, SealedPayload } from './e2e';
import { MAX_ENVELOPE_RECIPIENTS } from './e2e';
import { MAX_ID_LENGTH } from './limits';

type Equals<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

const id = z.string().min(1).max(MAX_ID_LENGTH);
/** base64url of exactly `bytes` bytes (no padding). */
const b64 = (bytes: number) => z.string().length(Math.ceil((bytes * 4) / 3)).regex(/^[A-Za-z0-9_-]+$/);

export const deviceKeyRecordSchema = z.object({
  v: z.literal(1),
  user: id,
  device: id,
  sign: b64(32),
  dh: b64(32),
  created_at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sig: b64(64),
});

export const envelopeKeySchema = z.object({ user: id, device: id, k: b64(48) });

export const encryptedEnvelopeSchema = z.object({
  v: z.literal(1),
  from: z.object({ user: id, device: id }),
  epk: b64(32),
  nonce: b64(24),
  // Bounded by the frame limit that carries it; here only its alphabet.
  ct: z.string().min(22).regex(/^[A-Za-z0-9_-]+$/),
  keys: z.array(envelopeKeySchema).min(1).max(MAX_ENVELOPE_RECIPIENTS),
  sig: b64(64),
});

export const sealedBodySchema = z.object({
  v: z.literal(2),
  from: z.object({ user: id, device: id }),
  nonce: b64(24),
  ct: z.string().min(22).regex(/^[A-Za-z0-9_-]+$/),
  keys: z.array(envelopeKeySchema).min(1).max(MAX_ENVELOPE_RECIPIENTS),
});

/** Checked after decryption too: the sender's core could be anything. */
export const sealedPayloadSchema = z.object({
  body: z.string(),
  reply_to: id.nullable(),
  request_id: id.nullable(),
  mentions: z.array(id).max(1024).optional(),
});

export type E2eSchemaChecks = [
  Assert<Equals<z.infer<typeof sealedBodySchema>, SealedBody>>,
  Assert<Equals<z.infer<typeof sealedPayloadSchema>, SealedPayload>>,
  Assert<Equals<z.infer<typeof deviceKeyRecordSchema>, DeviceKeyRecord>>,
  Assert<Equals<z.infer<typeof envelopeKeySchema>, EnvelopeKey>>,
  Assert<Equals<z.infer<typeof encryptedEnvelopeSchema>, EncryptedEnvelope>>,
];
