/**
 * Runtime validators for the params of every request in `rpc.ts`. The compile-time checks at
 * the bottom fail the build if a schema and its type drift apart.
 */
import { z } from 'zod';
import type { Method, ParamsOf } from './rpc';
import { MAX_BODY_BYTES, MAX_ID_LENGTH, MAX_QUERY_LENGTH, MAX_TOKEN_LENGTH, utf8ByteLength } from './limits';
import { USER_NAME_MAX_LENGTH, USER_NAME_PATTERN, canonicalUserName, groupAddress, groupNameOf, isGroupAddress } from './names';
import { OUTBOX_STATES } from './rpc';
import { cleartextRelayProblem, relayUrlProblem } from './relay-url';
import { MAX_ATTACHMENTS, MAX_ATTACHMENT_NAME_BYTES, MAX_MIME_LENGTH, SHA256_HEX_PATTERN } from './files';

const userName = z
  .string()
  .min(1, 'must not be empty')
  .max(USER_NAME_MAX_LENGTH, `is longer than ${USER_NAME_MAX_LENGTH} characters`)
  .regex(USER_NAME_PATTERN, 'may contain only letters, digits, ".", "_" and "-", starting with a letter or digit')
  // Case-insensitive (protocol/names.ts): the core only ever sees the canonical spelling.
  .transform(canonicalUserName);
const groupNameRule = z
  .string()
  .min(1, 'must not be empty')
  .max(USER_NAME_MAX_LENGTH, `is longer than ${USER_NAME_MAX_LENGTH} characters`)
  .regex(USER_NAME_PATTERN, 'a group name may contain only letters, digits, ".", "_" and "-", starting with a letter or digit');
/** A group's name, given with or without `#`: the name under the user-name rule, canonical and without `#`. */
const groupName = z.string().transform(groupNameOf).pipe(groupNameRule).transform(canonicalUserName);
/**
 * A conversation: a user name, or `#` and a group name; canonical. One schema that picks its
 * rule by the prefix, so a refusal names the rule that applied (a union says only "Invalid input").
 */
const conversation = z
  .string()
    .superRefine((value, ctx) => {
    const result = (isGroupAddress(value) ? groupName : userName).safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
  })
  .transform((value) => (isGroupAddress(value) ? groupAddress(canonicalUserName(groupNameOf(value))) : canonicalUserName(value)));
const userList = z.array(userName).min(1, 'name at least one user').max(1024);
const id = z.string().min(1).max(MAX_ID_LENGTH);
const limit = z.number().int().min(1).max(1000);
/** Any file name a person could give (the core never writes to it as a path: it is data). */
const attachmentName = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => utf8ByteLength(s) <= MAX_ATTACHMENT_NAME_BYTES, `is longer than ${MAX_ATTACHMENT_NAME_BYTES} bytes`);
const attachmentInput = z
  .object({
    path: z.string().min(1).max(4096).refine((p) => !p.includes('\u0000'), 'must not contain NUL characters'),
    name: attachmentName.optional(),
    sha256: z.string().regex(SHA256_HEX_PATTERN, 'must be a SHA-256 in lowercase hex'),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    mime: z.string().min(1).max(MAX_MIME_LENGTH).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  })
  .strict();
const empty = z.object({}).strict();
const clientInfo = z.object({ name: z.string().max(128), version: z.string().max(64) });

export const userNameSchema = userName;

export const paramSchemas = {
  initialize: z.object({
    client: clientInfo.optional(),
    protocol: z.number().int().optional(),
    initializationOptions: z.object({ client: clientInfo.optional(), protocol: z.number().int().optional() }).optional(),
  }),
  'message/send': z
    .object({
      to: conversation,
      // with attachments the body is a caption and may be empty
      body: z.string().refine((s) => utf8ByteLength(s) <= MAX_BODY_BYTES, `is larger than ${MAX_BODY_BYTES} bytes`),
      reply_to: id.optional(),
      client_message_id: id.optional(),
      request_id: id.optional(),
      wait_ms: z.number().int().min(0).max(600_000).optional(),
      queue: z.boolean().optional(),
      attachments: z.array(attachmentInput).max(MAX_ATTACHMENTS, `at most ${MAX_ATTACHMENTS} attachments`).optional(),
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.body.length === 0 && !p.attachments?.length) ctx.addIssue({ code: 'custom', path: ['body'], message: 'must not be empty' });
    }),
  'message/get': z.object({ id }).strict(),
  'message/markRead': z
    .object({ ids: z.array(id).max(10_000).optional(), conversation: conversation.optional(), all: z.boolean().optional() })
    .strict()
    .refine((p) => p.ids !== undefined || p.conversation !== undefined || p.all === true, 'give ids, conversation or all'),
  'message/receipts': z.object({ id }).strict(),
  'inbox/list': z
    .object({ unread: z.boolean().optional(), from: userName.optional(), in: conversation.optional(), mentions: z.boolean().optional(), limit: limit.optional() })
    .strict(),
  'conversation/list': empty,
  'conversation/messages': z.object({ peer: conversation, limit: limit.optional(), before: id.optional() }).strict(),
  search: z
    .object({
      // SQLite ends a string at NUL, so a query holding one could never match: a usage error.
      query: z.string().min(1, 'must not be empty').max(MAX_QUERY_LENGTH).refine((q) => !q.includes('\u0000'), 'must not contain NUL characters'),
      limit: limit.optional(),
    })
    .strict(),
  'outbox/list': z.object({ state: z.enum(OUTBOX_STATES).optional() }).strict(),
  'outbox/requeue': z.object({ id }).strict(),
  'outbox/abort': z.object({ id }).strict(),
  'peers/list': empty,
  'status/get': empty,
  'events/subscribe': z.object({ since: z.number().int().min(0).optional() }).strict(),
  'sync/reconnect': empty,
  'config/set': z
    .object({
      // The URL rule is relayUrlProblem (below): one message, the same as init's.
      relay: z.string().max(2048),
      user: userName,
      token: z.string().min(1).max(MAX_TOKEN_LENGTH),
      insecure: z.boolean().optional(),
      wait_ms: z.number().int().min(0).max(60_000).optional(),
    })
    .strict()
    .superRefine((p, ctx) => {
      const problem = relayUrlProblem(p.relay) ?? cleartextRelayProblem(p.relay, p.insecure);
      if (problem) ctx.addIssue({ code: 'custom', path: ['relay'], message: problem });
    }),
  'daemon/shutdown': empty,
  'group/create': z.object({ name: groupName, members: z.array(userName).max(1024).optional() }).strict(),
  'group/add': z.object({ name: groupName, users: userList }).strict(),
  'group/remove': z.object({ name: groupName, users: userList }).strict(),
  'group/leave': z.object({ name: groupName }).strict(),
  'group/rename': z.object({ name: groupName, new_name: groupName }).strict(),
  'group/role': z.object({ name: groupName, user: userName, role: z.enum(['owner', 'admin', 'member']) }).strict(),
  'group/show': z.object({ name: groupName }).strict(),
  'group/list': empty,
  'agent/create': z.object({ name: userName }).strict(),
  'agent/list': empty,
  'agent/revoke': z.object({ name: userName }).strict(),
  'trust/show': z.object({ user: userName }).strict(),
  'trust/confirm': z.object({ user: userName, safety_number: z.string().min(1).max(200) }).strict(),
  'trust/accept': z.object({ user: userName }).strict(),
  'settings/get': empty,
  'settings/set': z
    .object({ receipts_read: z.boolean().optional(), auto_download_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() })
    .strict(),
  'attachment/download': z
    .object({ id, index: z.number().int().min(0).max(MAX_ATTACHMENTS - 1).optional(), wait_ms: z.number().int().min(0).max(600_000).optional() })
    .strict(),
  shutdown: z.union([z.null(), z.undefined(), empty]),
} satisfies Record<Method, z.ZodType>;

/** Params may arrive omitted; every method but `shutdown` then validates an empty object. */
export function parseParams<M extends Method>(
  method: M,
  params: unknown,
): { ok: true; value: ParamsOf<M> } | { ok: false; error: string } {
  const schema = paramSchemas[method] as z.ZodType;
  const result = schema.safeParse(params === undefined && method !== 'shutdown' ? {} : params);
  if (result.success) return { ok: true, value: result.data as ParamsOf<M> };
  return { ok: false, error: describeIssues(result.error) };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'params';
      if (issue.code === 'unrecognized_keys') return `${where}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

// ---- compile-time agreement between schemas and protocol types ----------------------------
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Agrees<M extends Method> = Equals<z.infer<(typeof paramSchemas)[M]>, ParamsOf<M>>;
/** Every method of `Requests` whose schema parses to something other than its params type. */
type Disagreeing = { [M in Method]: Agrees<M> extends true ? never : M }[Method];
/** Fails to compile while any method disagrees: the error names it ("Type '"x/y"' does not satisfy the constraint 'never'"), or says `Disagreeing` when several do. */
type NoneOf<T extends never> = T;
/** Over `Method` itself: a new method is checked the moment it is declared, with nothing to list. */
export type SchemaChecks = NoneOf<Disagreeing>;
