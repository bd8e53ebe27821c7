/**
 * Runtime validators for the host ↔ webview protocol (`webview.ts`). Built on zod/mini so
 * the webview bundle stays small. Both sides call `parse…` on every message they receive and
 * drop anything that does not match.
 */
import * as z from 'zod/mini';
import { MAX_ATTACHMENTS, MAX_MIME_LENGTH } from './files';
import type { ConversationViewState, HostToWebview, PendingFile, ThreadAttachment, ThreadGroup, ThreadMessage, ThreadTrust, WebviewToHost } from './webview';
import { MAX_COMPOSER_CHARS, MAX_COPY_CHARS, MAX_LINK_CHARS, MAX_REFS_PER_REQUEST, VIEW_STATE_VERSION, WEBVIEW_PROTOCOL_VERSION } from './webview';

const id = z.string().check(z.minLength(1), z.maxLength(256));
const peer = z.string().check(z.minLength(1), z.maxLength(256));
const direction = z.enum(['in', 'out']);
const messageState = z.enum(['queued', 'sent', 'delivered', 'failed', 'aborted', 'received']);
const syncState = z.enum(['disabled', 'offline', 'connecting', 'online', 'unauthorized', 'error']);
const verdict = z.enum(['sent', 'duplicate', 'queued', 'failed']);
const role = z.enum(['owner', 'admin', 'member']);
const name = z.string().check(z.minLength(1), z.maxLength(256));
const count = z.int().check(z.nonnegative());
const receiptSummary = z.object({ total: count, delivered: count, read: count });
/** Generous for a 255-byte name with every character escaped; the UI caps what it shows. */
const fileName = z.string().check(z.minLength(1), z.maxLength(1024));
const mime = z.string().check(z.maxLength(MAX_MIME_LENGTH));
const attachmentState = z.enum(['remote', 'downloading', 'ready', 'failed']);
/**
 * A preview is only ever a resource URI the host made (asWebviewUri): https, or the webview's
 * own scheme in older hosts. Never data:, javascript:, blob: or a path.
 */
const previewUri = z.string().check(z.maxLength(8192), z.regex(/^(https|vscode-webview-resource|vscode-resource):/));

export const threadAttachmentSchema = z.object({
  index: count,
  name: fileName,
  size: count,
  mime,
  state: attachmentState,
  transferred: count,
  error: z.nullable(z.string().check(z.maxLength(4096))),
  preview: z.nullable(previewUri),
});

export const pendingFileSchema = z.object({ token: id, name: fileName, size: count, mime });

export const threadMessageSchema = z.object({
  id,
  direction,
  from: z.string(),
  to: z.string(),
  body: z.string(),
  created_at: z.string(),
  state: messageState,
  read: z.boolean(),
  reply_to: z.nullable(z.string()),
  group: z.nullable(name),
  mentions: z.array(name).check(z.maxLength(1000)),
  mentions_me: z.boolean(),
  receipts: z.nullable(receiptSummary),
  attachments: z.array(threadAttachmentSchema).check(z.maxLength(MAX_ATTACHMENTS)),
});

export const threadGroupSchema = z.object({
  name,
  role: z.nullable(role),
  members: z.array(z.object({ user: name, role })).check(z.maxLength(10_000)),
});

const receipt = z.object({ user: name, delivered_at: z.nullable(z.string()), read_at: z.nullable(z.string()), dropped: z.nullable(z.enum(['quota', 'retention'])) });

export const threadTrustSchema = z.object({ state: z.enum(['unverified', 'verified', 'changed']), text: z.string().check(z.maxLength(1000)) });

const messages = z.array(threadMessageSchema).check(z.maxLength(10_000));
/** A path as written in a body (lib/file-refs.ts MAX_REF_PATH); the host decides whether it may be opened. */
const refPath = z.string().check(z.minLength(1), z.maxLength(1024), z.refine((p) => !p.includes('\0')));
const lineNo = z.int().check(z.minimum(1), z.maximum(10_000_000));
/** Links a body may carry: http, https, mailto. javascript:, command:, file:, data:, vscode: never. */
const safeLink = z.string().check(z.maxLength(MAX_LINK_CHARS), z.regex(/^(https?:\/\/|mailto:)/i));

export const hostToWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), v: z.literal(WEBVIEW_PROTOCOL_VERSION), peer, self: z.nullable(z.string()), messages, hasMore: z.boolean(), draft: z.string().check(z.maxLength(MAX_COMPOSER_CHARS)) }),
  z.object({ type: z.literal('messages'), mode: z.enum(['older', 'upsert']), messages, hasMore: z.optional(z.boolean()) }),
  z.object({ type: z.literal('sendResult'), requestId: id, status: verdict, text: z.string() }),
  z.object({ type: z.literal('connection'), connected: z.boolean(), sync: z.nullable(syncState), detail: z.string() }),
  z.object({ type: z.literal('error'), text: z.string() }),
  z.object({ type: z.literal('group'), group: threadGroupSchema }),
  z.object({ type: z.literal('receipts'), id, receipts: z.array(receipt).check(z.maxLength(10_000)) }),
  z.object({ type: z.literal('attached'), files: z.array(pendingFileSchema).check(z.maxLength(MAX_ATTACHMENTS)) }),
  z.object({ type: z.literal('progress'), id, index: count, direction: z.enum(['up', 'down']), transferred: count, size: count }),
  z.object({ type: z.literal('refs'), refs: z.array(z.object({ path: refPath, exists: z.boolean() })).check(z.maxLength(MAX_REFS_PER_REQUEST)) }),
  z.object({ type: z.literal('reveal'), id }),
  z.object({ type: z.literal('trust'), trust: z.nullable(threadTrustSchema) }),
]);

export const webviewToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), v: z.literal(WEBVIEW_PROTOCOL_VERSION) }),
  z
    .object({ type: z.literal('send'), requestId: id, body: z.string().check(z.maxLength(MAX_COMPOSER_CHARS)), replyTo: z.nullable(id), attachments: z.array(id).check(z.maxLength(MAX_ATTACHMENTS)) })
    // a message is a text, some files, or both: never nothing
    .check(z.refine((m) => m.body.length > 0 || m.attachments.length > 0)),
  z.object({ type: z.literal('attach') }),
  z.object({ type: z.literal('drop'), uris: z.array(z.string().check(z.minLength(1), z.maxLength(8192))).check(z.maxLength(MAX_ATTACHMENTS)) }),
  z.object({ type: z.literal('file'), action: z.enum(['save', 'open', 'download']), id, index: count }),
  z.object({ type: z.literal('loadOlder'), before: id }),
  z.object({ type: z.literal('markRead'), ids: z.array(id).check(z.maxLength(10_000)) }),
  z.object({ type: z.literal('draft'), draft: z.string().check(z.maxLength(MAX_COMPOSER_CHARS)) }),
  z.object({ type: z.literal('openLink'), url: safeLink }),
  z.object({ type: z.literal('copy'), text: z.string().check(z.maxLength(MAX_COPY_CHARS)) }),
  z.object({ type: z.literal('resolveRefs'), paths: z.array(refPath).check(z.maxLength(MAX_REFS_PER_REQUEST)) }),
  z.object({
    type: z.literal('openRef'),
    path: refPath,
    line: lineNo,
    col: z.nullable(lineNo),
    endLine: z.nullable(lineNo),
    commit: z.nullable(z.string().check(z.regex(/^[0-9a-f]{7,40}$/))),
  }),
  z.object({ type: z.literal('verify') }),
]);

export const viewStateSchema = z.object({ v: z.literal(VIEW_STATE_VERSION), peer, draft: z.string().check(z.maxLength(MAX_COMPOSER_CHARS)) });

// Compile-time checks: each schema's output is exactly the hand-written type.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Exact<z.infer<typeof threadMessageSchema>, ThreadMessage>,
  Exact<z.infer<typeof threadGroupSchema>, ThreadGroup>,
  Exact<z.infer<typeof threadTrustSchema>, ThreadTrust>,
  Exact<z.infer<typeof threadAttachmentSchema>, ThreadAttachment>,
  Exact<z.infer<typeof pendingFileSchema>, PendingFile>,
  Exact<z.infer<typeof hostToWebviewSchema>, HostToWebview>,
  Exact<z.infer<typeof webviewToHostSchema>, WebviewToHost>,
  Exact<z.infer<typeof viewStateSchema>, ConversationViewState>,
] = [true, true, true, true, true, true, true, true];
void checks;

/** The message, typed, or null when it does not match the protocol. Never throws. */
export function parseHostToWebview(value: unknown): HostToWebview | null {
  const r = hostToWebviewSchema.safeParse(value);
  return r.success ? (r.data as HostToWebview) : null;
}

/** The message, typed, or null when it does not match the protocol. Never throws. */
export function parseWebviewToHost(value: unknown): WebviewToHost | null {
  const r = webviewToHostSchema.safeParse(value);
  return r.success ? (r.data as WebviewToHost) : null;
}

/** A persisted panel state, or null when it is missing, stale or malformed. */
export function parseViewState(value: unknown): ConversationViewState | null {
  const r = viewStateSchema.safeParse(value);
  return r.success ? r.data : null;
}
