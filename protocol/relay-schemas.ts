/**
 * Runtime validators for every relay frame in `relay.ts`. Both ends parse every inbound
 * frame with these before acting on it: a peer's bytes are data, never trusted shapes.
 *
 * Each schema carries a compile-time proof that its inferred type equals the hand-written
 * contract type, so the two can never drift apart silently.
 */
import { z } from 'zod';
import { MAX_ID_LENGTH } from './limits';
import { RELAY_MAX_FRAME_BYTES } from './relay';
import { USER_NAME_PATTERN, canonicalUserName } from './names';
import type {
  AckFrame,
  CoreToRelayFrame,
  DeliverFrame,
  DeliveryItem,
  ErrorFrame,
  HelloFrame,
  PingFrame,
  PongFrame,
  RelayToCoreFrame,
  SendFrame,
  VerdictFrame,
  WelcomeFrame,
  WireMessage,
  CoreToRelayFrameV2,
  DeliverFrameV2,
  DeliveryItemV2,
  GroupFrame,
  GroupVerdictFrame,
  GroupListFrame,
  GroupListResultFrame,
  ReadFrame,
  RelayToCoreFrameV2,
  SendFrameV2,
  WireMessageV2,
  BlobBeginFrame,
  BlobCancelFrame,
  BlobDoneFrame,
  BlobGetFrame,
  BlobRefusedFrame,
  BlobStatusFrame,
  CoreToRelayFrameV3,
  DeliverFrameV3,
  DeliveryItemV3,
  RelayToCoreFrameV3,
  SendFrameV3,
  WelcomeFrameV3,
  WireAttachment,
  WireMessageV3,
  AgentFrame,
  AgentInfo,
  AgentResultFrame,
  CoreToRelayFrameV4,
  DeliverFrameV4,
  DeliveryItemV4,
  RelayToCoreFrameV4,
  CoreToRelayFrameV5,
  KeysGetFrame,
  KeysPublishFrame,
  KeysResultFrame,
  RelayToCoreFrameV5,
} from './relay';
import { AGENT_REJECTION_CODES, BLOB_REJECTION_CODES, GROUP_REJECTION_CODES, KEYS_REJECTION_CODES, MAX_READ_IDS } from './relay';
import { MAX_DEVICES_PER_USER } from './e2e';
import { deviceKeyRecordSchema } from './e2e-schemas';
import { MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENTS, MAX_MIME_LENGTH, SHA256_HEX_PATTERN } from './files';

/** Mutual assignability: strict enough to catch a missing, extra-required or retyped field. */
type Equals<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

/** Identifiers are opaque strings; the bound (shared with the core, limits.ts) keeps a hostile peer from bloating indexes. */
const id = z.string().min(1).max(MAX_ID_LENGTH);
/**
 * Names a core sends (its own, a recipient) follow the one user-name rule. Names the relay
 * sends (`from`, `by`) stay plain ids: a core must never choke on a delivery, whatever name
 * an older relay let a user have. Names are case-insensitive (protocol/names.ts): the relay
 * sees only the canonical spelling, so `Bob` logs in to, and mail to `BOB` reaches, `bob`.
 */
const userName = z.string().regex(USER_NAME_PATTERN).transform(canonicalUserName);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const timestamp = z.string().min(1).max(64);

export const wireMessageSchema = z.object({
  id,
  client_message_id: id,
  from: id,
  to: id,
  body: z.string(),
  reply_to: id.nullable(),
  request_id: id.nullable(),
  created_at: timestamp,
});

export const helloFrameSchema = z.object({
  type: z.literal('hello'),
  v: z.number().int(),
  user: userName,
  token: z.string().min(1).max(1024),
  device: id,
  cursor: seq,
});

export const sendFrameSchema = z.object({
  type: z.literal('send'),
  message: wireMessageSchema.omit({ from: true }).extend({ to: userName }),
});

export const ackFrameSchema = z.object({ type: z.literal('ack'), seq });

export const pingFrameSchema = z.object({ type: z.literal('ping'), t: z.number() });

export const coreToRelayFrameSchema = z.discriminatedUnion('type', [helloFrameSchema, sendFrameSchema, ackFrameSchema, pingFrameSchema]);

export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  v: z.number().int(),
  user: id,
  device: id,
  heartbeat_ms: z.number().int().positive(),
  max_body_bytes: z.number().int().positive(),
  backlog_seq: seq.optional(),
});

const acceptedVerdictSchema = z.object({
  type: z.literal('verdict'),
  result: z.literal('accepted'),
  client_message_id: id,
  id,
  server_id: id,
  seq,
});
const duplicateVerdictSchema = z.object({
  type: z.literal('verdict'),
  result: z.literal('duplicate'),
  client_message_id: id,
  id,
  server_id: id,
  original_id: id,
});
const rejectedVerdictSchema = z.object({
  type: z.literal('verdict'),
  result: z.literal('rejected'),
  client_message_id: id,
  id,
  reason: z.string(),
  retryable: z.boolean(),
  code: z.string().max(64).optional(),
});
export const verdictFrameSchema = z.discriminatedUnion('result', [acceptedVerdictSchema, duplicateVerdictSchema, rejectedVerdictSchema]);

export const deliveryItemSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('message'), server_id: id, message: wireMessageSchema }),
  z.object({ kind: z.literal('receipt'), id, server_id: id, by: id, at: timestamp }),
  z.object({ kind: z.literal('expired'), id, server_id: id, to: id, at: timestamp }),
]);

export const deliverFrameSchema = z.object({ type: z.literal('deliver'), seq, item: deliveryItemSchema });

export const pongFrameSchema = z.object({ type: z.literal('pong'), t: z.number() });

export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: z.enum(['unauthorized', 'protocol', 'too_large', 'internal']),
  message: z.string(),
});

// Picked by `type` (the verdict member is itself picked by `result`): a frame is checked
// against its own shape only, with no failed attempts at the others.
export const relayToCoreFrameSchema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  verdictFrameSchema,
  deliverFrameSchema,
  pingFrameSchema,
  pongFrameSchema,
  errorFrameSchema,
]);

// ---- protocol v2 ---------------------------------------------------------------------------

/** A group address in a send: `#` and a name under the user-name rule, canonical (lower case) like user names. */
const groupAddress = z
  .string()
  .regex(new RegExp(`^#${USER_NAME_PATTERN.source.slice(1)}`))
  .transform(canonicalUserName);
/** A conversation: a user or a `#group`. */
const conversation = z.union([userName, groupAddress]);
/**
 * Names inside group requests are checked by the relay, not here: a bad group name or an
 * unknown member is a clear refusal (`group_verdict` rejected), not a protocol error that
 * drops the connection. Bounded like ids so a hostile peer cannot bloat anything.
 */
const requestedName = z.string().min(1).max(MAX_ID_LENGTH);
/** Bounded lists: a group cannot hold more than the relay's cap anyway (relay/groups.ts). */
const nameList = z.array(requestedName).max(1024);
const role = z.enum(['owner', 'admin', 'member']);

export const wireMessageV2Schema = wireMessageSchema.extend({ mentions: z.array(id).max(1024).optional() });

export const sendFrameV2Schema = z.object({
  type: z.literal('send'),
  message: wireMessageV2Schema.omit({ from: true }).extend({ to: conversation, mentions: z.array(userName).max(1024).optional() }),
});

export const readFrameSchema = z.object({ type: z.literal('read'), server_ids: z.array(id).min(1).max(MAX_READ_IDS) });

const groupRequest = { request_id: id, group: requestedName };
export const groupCreateFrameSchema = z.object({ type: z.literal('group_create'), ...groupRequest, members: nameList });
export const groupAddFrameSchema = z.object({ type: z.literal('group_add'), ...groupRequest, users: nameList.min(1) });
export const groupRemoveFrameSchema = z.object({ type: z.literal('group_remove'), ...groupRequest, users: nameList.min(1) });
export const groupLeaveFrameSchema = z.object({ type: z.literal('group_leave'), ...groupRequest });
export const groupRenameFrameSchema = z.object({ type: z.literal('group_rename'), ...groupRequest, new_name: requestedName });
export const groupRoleFrameSchema = z.object({ type: z.literal('group_role'), ...groupRequest, user: requestedName, role });
export const groupShowFrameSchema = z.object({ type: z.literal('group_show'), ...groupRequest });
const groupFrameSchemas = [
  groupCreateFrameSchema,
  groupAddFrameSchema,
  groupRemoveFrameSchema,
  groupLeaveFrameSchema,
  groupRenameFrameSchema,
  groupRoleFrameSchema,
  groupShowFrameSchema,
] as const;
export const groupFrameSchema = z.discriminatedUnion('type', [...groupFrameSchemas]);
export const groupListFrameSchema = z.object({ type: z.literal('group_list'), request_id: id });

export const coreToRelayFrameV2Schema = z.discriminatedUnion('type', [
  helloFrameSchema,
  sendFrameV2Schema,
  ackFrameSchema,
  pingFrameSchema,
  readFrameSchema,
  ...groupFrameSchemas,
  groupListFrameSchema,
]);

const groupMemberSchema = z.object({ user: id, role, owner: id.optional() });

export const groupVerdictFrameSchema = z.discriminatedUnion('result', [
  z.object({ type: z.literal('group_verdict'), request_id: id, result: z.literal('ok'), group_id: id, group: id, pos: seq, members: z.array(groupMemberSchema) }),
  z.object({
    type: z.literal('group_verdict'),
    request_id: id,
    result: z.literal('rejected'),
    code: z.enum(GROUP_REJECTION_CODES),
    reason: z.string(),
    retryable: z.boolean(),
  }),
]);

export const groupListResultFrameSchema = z.object({
  type: z.literal('group_list_result'),
  request_id: id,
  groups: z.array(z.object({ group_id: id, group: id, pos: seq, role, member_count: z.number().int().min(0) })),
});

export const deliveryItemV2Schema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('message'), server_id: id, message: wireMessageV2Schema, group_id: id.optional(), pos: seq.optional() }),
  z.object({ kind: z.literal('receipt'), id, server_id: id, by: id, at: timestamp, status: z.enum(['delivered', 'read']).optional(), group_id: id.optional() }),
  z.object({ kind: z.literal('expired'), id, server_id: id, to: id, at: timestamp, group_id: id.optional(), reason: z.enum(['retention', 'quota']).optional() }),
  z.object({
    kind: z.literal('group'),
    server_id: id,
    group_id: id,
    group: id,
    pos: seq,
    event: z.enum(['created', 'added', 'removed', 'left', 'renamed', 'role']),
    by: id,
    at: timestamp,
    users: z.array(id),
    renamed_from: id.optional(),
    role: role.optional(),
    members: z.array(groupMemberSchema),
  }),
]);

export const deliverFrameV2Schema = z.object({ type: z.literal('deliver'), seq, item: deliveryItemV2Schema });

export const relayToCoreFrameV2Schema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  verdictFrameSchema,
  deliverFrameV2Schema,
  pingFrameSchema,
  pongFrameSchema,
  errorFrameSchema,
  groupVerdictFrameSchema,
  groupListResultFrameSchema,
]);

export type SchemaContractChecksV2 = [
  Assert<Equals<z.infer<typeof wireMessageV2Schema>, WireMessageV2>>,
  Assert<Equals<z.infer<typeof sendFrameV2Schema>, SendFrameV2>>,
  Assert<Equals<z.infer<typeof readFrameSchema>, ReadFrame>>,
  Assert<Equals<z.infer<typeof groupFrameSchema>, GroupFrame>>,
  Assert<Equals<z.infer<typeof coreToRelayFrameV2Schema>, CoreToRelayFrameV2>>,
  Assert<Equals<z.infer<typeof groupVerdictFrameSchema>, GroupVerdictFrame>>,
  Assert<Equals<z.infer<typeof groupListFrameSchema>, GroupListFrame>>,
  Assert<Equals<z.infer<typeof groupListResultFrameSchema>, GroupListResultFrame>>,
  Assert<Equals<z.infer<typeof deliveryItemV2Schema>, DeliveryItemV2>>,
  Assert<Equals<z.infer<typeof deliverFrameV2Schema>, DeliverFrameV2>>,
  Assert<Equals<z.infer<typeof relayToCoreFrameV2Schema>, RelayToCoreFrameV2>>,
];

// ---- compile-time proofs that the schemas and the contract agree -------------------------

export type SchemaContractChecks = [
  Assert<Equals<z.infer<typeof wireMessageSchema>, WireMessage>>,
  Assert<Equals<z.infer<typeof helloFrameSchema>, HelloFrame>>,
  Assert<Equals<z.infer<typeof sendFrameSchema>, SendFrame>>,
  Assert<Equals<z.infer<typeof ackFrameSchema>, AckFrame>>,
  Assert<Equals<z.infer<typeof pingFrameSchema>, PingFrame>>,
  Assert<Equals<z.infer<typeof coreToRelayFrameSchema>, CoreToRelayFrame>>,
  Assert<Equals<z.infer<typeof welcomeFrameSchema>, WelcomeFrame>>,
  Assert<Equals<z.infer<typeof verdictFrameSchema>, VerdictFrame>>,
  Assert<Equals<z.infer<typeof deliveryItemSchema>, DeliveryItem>>,
  Assert<Equals<z.infer<typeof deliverFrameSchema>, DeliverFrame>>,
  Assert<Equals<z.infer<typeof pongFrameSchema>, PongFrame>>,
  Assert<Equals<z.infer<typeof errorFrameSchema>, ErrorFrame>>,
  Assert<Equals<z.infer<typeof relayToCoreFrameSchema>, RelayToCoreFrame>>,
];

// ---- parse helpers -----------------------------------------------------------------------

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; error: string };

function parseWith<T>(schema: z.ZodType<T>, text: string): ParseResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as SyntaxError).message}` }; // JSON.parse throws nothing else
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, frame: result.data };
  return { ok: false, error: describeIssues(result.error) };
}

/** One line a person can act on: the first few issues with their paths. */
function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `invalid frame: ${parts.join('; ')}`;
}

/** A frame the core sent to the relay. */
export function parseCoreFrame(text: string): ParseResult<CoreToRelayFrame> {
  return parseWith(coreToRelayFrameSchema, text);
}

/** A frame the relay sent to the core. */
export function parseRelayFrame(text: string): ParseResult<RelayToCoreFrame> {
  return parseWith(relayToCoreFrameSchema, text);
}

/** A frame a v2 core sent to the relay (a superset of v1). */
export function parseCoreFrameV2(text: string): ParseResult<CoreToRelayFrameV2> {
  return parseWith(coreToRelayFrameV2Schema, text);
}

/** A frame the relay sent to a v2 core. */
export function parseRelayFrameV2(text: string): ParseResult<RelayToCoreFrameV2> {
  return parseWith(relayToCoreFrameV2Schema, text);
}

// ---- protocol v3: files ------------------------------------------------------------------

/** A blob's name: SHA-256, lowercase hex (protocol/files.ts). */
const sha256Hex = z.string().regex(SHA256_HEX_PATTERN, 'a SHA-256 in lowercase hex');
/** Bytes of a blob, or an offset into one: whole, not negative, below 2^53. */
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** UTF-8 length without TextEncoder or Buffer (protocol/ has no runtime API): a lone surrogate counts as U+FFFD would, 3 bytes. */
function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
/**
 * A file name as the sender chose it: data, never a path (the writer sanitises it,
 * lib/file-names.ts). Bounded in UTF-8 bytes like a file-system name, and without NUL, which
 * no file system or C string takes.
 */
const attachmentName = z
  .string()
  .min(1)
  .refine((name) => !name.includes('\u0000'), 'a file name without NUL')
  .refine((name) => utf8ByteLength(name) <= MAX_ATTACHMENT_NAME_BYTES, `a file name of at most ${MAX_ATTACHMENT_NAME_BYTES} UTF-8 bytes`);
/** A MIME type is a label: printable ASCII only, so it can never carry markup or control characters. */
const mimeType = z.string().max(MAX_MIME_LENGTH).regex(/^[\x20-\x7e]*$/, 'a MIME type of printable ASCII');

export const wireAttachmentSchema = z.object({ sha256: sha256Hex, size: byteCount, name: attachmentName, mime: mimeType });
const attachmentList = z.array(wireAttachmentSchema).max(MAX_ATTACHMENTS);

/** v6's `sealed` (a direct message's encrypted body): opaque here, bounded by the frame that carries it. */
const sealedField = z.string().min(1).max(RELAY_MAX_FRAME_BYTES).optional();

export const wireMessageV3Schema = wireMessageV2Schema.extend({ attachments: attachmentList.optional(), sealed: sealedField });

export const sendFrameV3Schema = z.object({
  type: z.literal('send'),
  message: sendFrameV2Schema.shape.message.extend({ attachments: attachmentList.optional(), sealed: sealedField }),
});

export const blobBeginFrameSchema = z.object({ type: z.literal('blob_begin'), request_id: id, sha256: sha256Hex, size: byteCount });
export const blobGetFrameSchema = z.object({ type: z.literal('blob_get'), request_id: id, sha256: sha256Hex, offset: byteCount });
export const blobDoneFrameSchema = z.object({ type: z.literal('blob_done'), sha256: sha256Hex });
export const blobCancelFrameSchema = z.object({ type: z.literal('blob_cancel'), request_id: id });

export const coreToRelayFrameV3Schema = z.discriminatedUnion('type', [
  helloFrameSchema,
  sendFrameV3Schema,
  ackFrameSchema,
  pingFrameSchema,
  readFrameSchema,
  ...groupFrameSchemas,
  groupListFrameSchema,
  blobBeginFrameSchema,
  blobGetFrameSchema,
  blobDoneFrameSchema,
  blobCancelFrameSchema,
]);

export const welcomeFrameV3Schema = welcomeFrameSchema.extend({ max_file_bytes: byteCount.optional() });

export const blobStatusFrameSchema = z.object({
  type: z.literal('blob_status'),
  request_id: id,
  sha256: sha256Hex,
  size: byteCount,
  have: byteCount,
  state: z.enum(['partial', 'complete']),
});

export const blobRefusedFrameSchema = z.object({
  type: z.literal('blob_refused'),
  request_id: id.optional(),
  sha256: sha256Hex,
  code: z.enum(BLOB_REJECTION_CODES),
  reason: z.string(),
  retryable: z.boolean(),
});

const [, ...deliveryItemV2Rest] = deliveryItemV2Schema.options;
export const deliveryItemV3Schema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('message'), server_id: id, message: wireMessageV3Schema, group_id: id.optional(), pos: seq.optional() }),
  ...deliveryItemV2Rest,
]);

export const deliverFrameV3Schema = z.object({ type: z.literal('deliver'), seq, item: deliveryItemV3Schema });

/** What the relay may send a v3 core, but for its deliveries (v4 deliveries carry more). */
const relayToCoreFramesFromV3 = [
  welcomeFrameV3Schema,
  verdictFrameSchema,
  pingFrameSchema,
  pongFrameSchema,
  errorFrameSchema,
  groupVerdictFrameSchema,
  groupListResultFrameSchema,
  blobStatusFrameSchema,
  blobRefusedFrameSchema,
] as const;

export const relayToCoreFrameV3Schema = z.discriminatedUnion('type', [...relayToCoreFramesFromV3, deliverFrameV3Schema]);

export type SchemaContractChecksV3 = [
  Assert<Equals<z.infer<typeof wireAttachmentSchema>, WireAttachment>>,
  Assert<Equals<z.infer<typeof wireMessageV3Schema>, WireMessageV3>>,
  Assert<Equals<z.infer<typeof sendFrameV3Schema>, SendFrameV3>>,
  Assert<Equals<z.infer<typeof blobBeginFrameSchema>, BlobBeginFrame>>,
  Assert<Equals<z.infer<typeof blobGetFrameSchema>, BlobGetFrame>>,
  Assert<Equals<z.infer<typeof blobDoneFrameSchema>, BlobDoneFrame>>,
  Assert<Equals<z.infer<typeof blobCancelFrameSchema>, BlobCancelFrame>>,
  Assert<Equals<z.infer<typeof coreToRelayFrameV3Schema>, CoreToRelayFrameV3>>,
  Assert<Equals<z.infer<typeof welcomeFrameV3Schema>, WelcomeFrameV3>>,
  Assert<Equals<z.infer<typeof blobStatusFrameSchema>, BlobStatusFrame>>,
  Assert<Equals<z.infer<typeof blobRefusedFrameSchema>, BlobRefusedFrame>>,
  Assert<Equals<z.infer<typeof deliveryItemV3Schema>, DeliveryItemV3>>,
  Assert<Equals<z.infer<typeof deliverFrameV3Schema>, DeliverFrameV3>>,
  Assert<Equals<z.infer<typeof relayToCoreFrameV3Schema>, RelayToCoreFrameV3>>,
];

/** A frame a v3 core sent to the relay (a superset of v2). */
export function parseCoreFrameV3(text: string): ParseResult<CoreToRelayFrameV3> {
  return parseWith(coreToRelayFrameV3Schema, text);
}

/** A frame the relay sent to a v3 core. */
export function parseRelayFrameV3(text: string): ParseResult<RelayToCoreFrameV3> {
  return parseWith(relayToCoreFrameV3Schema, text);
}

// ---- protocol v4: agent identities ---------------------------------------------------------

/**
 * An agent's name is checked by the relay, not here (like group names): a bad one is a clear
 * `agent_result` refusal, not a protocol error that drops the owner's connection.
 */
export const agentCreateFrameSchema = z.object({ type: z.literal('agent_create'), request_id: id, name: requestedName });
export const agentListFrameSchema = z.object({ type: z.literal('agent_list'), request_id: id });
export const agentRevokeFrameSchema = z.object({ type: z.literal('agent_revoke'), request_id: id, name: requestedName });
const agentFrameSchemas = [agentCreateFrameSchema, agentListFrameSchema, agentRevokeFrameSchema] as const;
export const agentFrameSchema = z.discriminatedUnion('type', [...agentFrameSchemas]);

export const coreToRelayFrameV4Schema = z.discriminatedUnion('type', [...coreToRelayFrameV3Schema.options, ...agentFrameSchemas]);

export const agentInfoSchema = z.object({
  name: id,
  owner: id,
  created_at: timestamp,
  revoked: z.boolean(),
  revoked_at: timestamp.nullable(),
  sent: z.number().int().min(0),
  last_sent_at: timestamp.nullable(),
});

export const agentResultFrameSchema = z.discriminatedUnion('result', [
  z.object({ type: z.literal('agent_result'), request_id: id, result: z.literal('ok'), agents: z.array(agentInfoSchema).max(1024), token: z.string().min(1).max(1024).optional() }),
  z.object({ type: z.literal('agent_result'), request_id: id, result: z.literal('rejected'), code: z.enum(AGENT_REJECTION_CODES), reason: z.string(), retryable: z.boolean() }),
]);

const [, ...deliveryItemV3Rest] = deliveryItemV3Schema.options;
export const deliveryItemV4Schema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('message'), server_id: id, message: wireMessageV3Schema, group_id: id.optional(), pos: seq.optional(), from_owner: id.optional() }),
  ...deliveryItemV3Rest,
]);
export const deliverFrameV4Schema = z.object({ type: z.literal('deliver'), seq, item: deliveryItemV4Schema });

export const relayToCoreFrameV4Schema = z.discriminatedUnion('type', [...relayToCoreFramesFromV3, deliverFrameV4Schema, agentResultFrameSchema]);

export type SchemaContractChecksV4 = [
  Assert<Equals<z.infer<typeof agentFrameSchema>, AgentFrame>>,
  Assert<Equals<z.infer<typeof coreToRelayFrameV4Schema>, CoreToRelayFrameV4>>,
  Assert<Equals<z.infer<typeof agentInfoSchema>, AgentInfo>>,
  Assert<Equals<z.infer<typeof agentResultFrameSchema>, AgentResultFrame>>,
  Assert<Equals<z.infer<typeof deliveryItemV4Schema>, DeliveryItemV4>>,
  Assert<Equals<z.infer<typeof deliverFrameV4Schema>, DeliverFrameV4>>,
  Assert<Equals<z.infer<typeof relayToCoreFrameV4Schema>, RelayToCoreFrameV4>>,
];

/** A frame a v4 core sent to the relay (a superset of v3). */
export function parseCoreFrameV4(text: string): ParseResult<CoreToRelayFrameV4> {
  return parseWith(coreToRelayFrameV4Schema, text);
}

/** A frame the relay sent to a v4 core. */
export function parseRelayFrameV4(text: string): ParseResult<RelayToCoreFrameV4> {
  return parseWith(relayToCoreFrameV4Schema, text);
}

// ---- protocol v5: the key directory ----------------------------------------------------------

export const keysPublishFrameSchema = z.object({ type: z.literal('keys_publish'), request_id: id, record: deviceKeyRecordSchema });
export const keysGetFrameSchema = z.object({ type: z.literal('keys_get'), request_id: id, user: userName });
const keysFrameSchemas = [keysPublishFrameSchema, keysGetFrameSchema] as const;

export const coreToRelayFrameV5Schema = z.discriminatedUnion('type', [...coreToRelayFrameV4Schema.options, ...keysFrameSchemas]);

export const keysResultFrameSchema = z.discriminatedUnion('result', [
  z.object({ type: z.literal('keys_result'), request_id: id, result: z.literal('ok'), user: id, records: z.array(deviceKeyRecordSchema).max(MAX_DEVICES_PER_USER) }),
  z.object({ type: z.literal('keys_result'), request_id: id, result: z.literal('rejected'), code: z.enum(KEYS_REJECTION_CODES), reason: z.string(), retryable: z.boolean() }),
]);

export const relayToCoreFrameV5Schema = z.discriminatedUnion('type', [...relayToCoreFrameV4Schema.options, keysResultFrameSchema]);

export type SchemaContractChecksV5 = [
  Assert<Equals<z.infer<typeof keysPublishFrameSchema>, KeysPublishFrame>>,
  Assert<Equals<z.infer<typeof keysGetFrameSchema>, KeysGetFrame>>,
  Assert<Equals<z.infer<typeof coreToRelayFrameV5Schema>, CoreToRelayFrameV5>>,
  Assert<Equals<z.infer<typeof keysResultFrameSchema>, KeysResultFrame>>,
  Assert<Equals<z.infer<typeof relayToCoreFrameV5Schema>, RelayToCoreFrameV5>>,
];

/** A frame a v5 core sent to the relay (a superset of v4). */
export function parseCoreFrameV5(text: string): ParseResult<CoreToRelayFrameV5> {
  return parseWith(coreToRelayFrameV5Schema, text);
}

/** A frame the relay sent to a v5 core. */
export function parseRelayFrameV5(text: string): ParseResult<RelayToCoreFrameV5> {
  return parseWith(relayToCoreFrameV5Schema, text);
}
