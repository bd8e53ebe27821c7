/**
 * The core's reading of frames a v3 relay sends (protocol/relay.ts, "protocol v3: files"):
 * the v2 frames, with `attachments` on delivered messages and `max_file_bytes` on welcome,
 * plus `blob_status` and `blob_refused`. Built on the shared v2 schemas, so a v2 frame reads
 * the same on either version; a peer's bytes are data, never trusted shapes.
 */
import { z } from 'zod';
import { MAX_ID_LENGTH } from '../../protocol/limits';
import { MAX_ATTACHMENTS, MAX_ATTACHMENT_NAME_BYTES, MAX_MIME_LENGTH, SHA256_HEX_PATTERN } from '../../protocol/files';
import { BLOB_REJECTION_CODES, type RelayToCoreFrameV3 } from '../../protocol/relay';
import {
  errorFrameSchema,
  groupListResultFrameSchema,
  groupVerdictFrameSchema,
  pingFrameSchema,
  pongFrameSchema,
  verdictFrameSchema,
  welcomeFrameSchema,
  wireMessageV2Schema,
  deliveryItemV2Schema,
} from '../../protocol/relay-schemas';

const id = z.string().min(1).max(MAX_ID_LENGTH);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const sha256 = z.string().regex(SHA256_HEX_PATTERN);
const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const wireAttachmentSchema = z.object({
  sha256,
  size,
  name: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s) <= MAX_ATTACHMENT_NAME_BYTES),
  mime: z.string().min(1).max(MAX_MIME_LENGTH),
});

const wireMessageV3Schema = wireMessageV2Schema.extend({ attachments: z.array(wireAttachmentSchema).max(MAX_ATTACHMENTS).optional() });

const deliveryItemV3Schema = z.union([
  z.object({ kind: z.literal('message'), server_id: id, message: wireMessageV3Schema, group_id: id.optional(), pos: seq.optional() }),
  deliveryItemV2Schema,
]);

const relayToCoreFrameV3Schema = z.discriminatedUnion('type', [
  welcomeFrameSchema.extend({ max_file_bytes: size.optional() }),
  verdictFrameSchema,
  z.object({ type: z.literal('deliver'), seq, item: deliveryItemV3Schema }),
  pingFrameSchema,
  pongFrameSchema,
  errorFrameSchema,
  groupVerdictFrameSchema,
  groupListResultFrameSchema,
  z.object({ type: z.literal('blob_status'), request_id: id, sha256, size, have: size, state: z.enum(['partial', 'complete']) }),
  z.object({
    type: z.literal('blob_refused'),
    request_id: id.optional(),
    sha256,
    code: z.enum(Object.values(BLOB_REJECTION_CODES) as [string, ...string[]]),
    reason: z.string().max(4096),
    retryable: z.boolean(),
  }),
]);

export type V3ParseResult = { ok: true; frame: RelayToCoreFrameV3 } | { ok: false; error: string };

/** A frame a v3 relay sent. */
export function parseRelayFrameV3(text: string): V3ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as SyntaxError).message}` };
  }
  const result = relayToCoreFrameV3Schema.safeParse(json);
  if (!result.success) {
    const parts = result.error.issues.slice(0, 3).map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message));
    return { ok: false, error: `invalid frame: ${parts.join('; ')}` };
  }
  // The schema checks every field the contract names; its inferred type differs only in the
  // enum's literal types, which the list above is built from.
  return { ok: true, frame: result.data as RelayToCoreFrameV3 };
}
