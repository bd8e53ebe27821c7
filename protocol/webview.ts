/**
 * The message protocol between the extension host and the conversation webview.
 *
 * Types only, no runtime dependencies: the host and the webview both validate every message
 * they receive with the schemas in `webview-schemas.ts`, which are checked against these
 * types at compile time. Bump WEBVIEW_PROTOCOL_VERSION when a message changes shape.
 */
import type { AttachmentState, Direction, GroupRole, MessageState, Receipt, ReceiptSummary, SyncState, TrustState } from './rpc';

/**
 * 2: group messages (sender, mentions, receipts), the member list and per-member receipts.
 * 3: files: attachments on messages, attach / drop / save / open / download, transfer progress.
 * 4: code-aware bodies: openLink, copy, file references (resolveRefs → refs, openRef), reveal,
 *    and the host's saved draft in init.
 * 5: trust in the peer's keys: the host message `trust` (the header's state) and the webview
 *    message `verify` (its Verify Safety Number… button).
 */
export const WEBVIEW_PROTOCOL_VERSION = 5;

/** Most file references one resolveRefs may ask about (the webview asks again for the rest). */
export const MAX_REFS_PER_REQUEST = 200;
/** Longest text a copy button may hand the host (a 64 KiB body with every character escaped fits). */
export const MAX_COPY_CHARS = 1024 * 1024;
/** Longest link the host opens. */
export const MAX_LINK_CHARS = 8192;
/**
 * The persisted panel state's own version: it did not change with the protocol, so a panel
 * saved by an earlier extension is still restored (with its draft).
 */
export const VIEW_STATE_VERSION = 1;

/** The view type of the conversation panel (also the WebviewPanelSerializer key). */
export const CONVERSATION_VIEW_TYPE = 'switchboard.conversation';

/** Largest composer body the webview may send, in characters (the core enforces bytes). */
export const MAX_COMPOSER_CHARS = 64 * 1024;

/** What the webview needs to show one message. Bodies are plain text, rendered inert. */
export interface ThreadMessage {
  id: string;
  direction: Direction;
  from: string;
  to: string;
  body: string;
  created_at: string;
  state: MessageState;
  read: boolean;
  reply_to: string | null;
  /** The group's name (without `#`) for a group message; null for a direct message. */
  group: string | null;
  /** Members named with `@name` in the body (as the relay checked them): only these are highlighted. */
  mentions: string[];
  /** Inbound: it mentions this user (or is a direct message). */
  mentions_me: boolean;
  /** Outbound: delivered/read counts over the recipients; null for inbound. */
  receipts: ReceiptSummary | null;
  /** Its files in the sender's order; [] when none. */
  attachments: ThreadAttachment[];
}

/**
 * One file of a message as the webview shows it. No filesystem path ever crosses into the
 * webview: Save As and Open name the file by (message id, index) and the host finds its path.
 */
export interface ThreadAttachment {
  index: number;
  /** The sender's name for it: data, shown as inert text only. */
  name: string;
  size: number;
  mime: string;
  state: AttachmentState;
  transferred: number;
  error: string | null;
  /**
   * A webview resource URI of the verified file, only for a ready PNG/JPEG/GIF/WebP whose
   * bytes the host checked (magic bytes, never SVG); null otherwise. Served under the CSP's
   * img-src (the webview's own resource origin) from the home's files dir.
   */
  preview: string | null;
}

/** A file picked for the composer and not sent yet: the host keeps its path under `token`. */
export interface PendingFile {
  token: string;
  name: string;
  size: number;
  mime: string;
}

/** A group conversation's room as the panel shows it: who is in it, with roles. */
export interface ThreadGroup {
  name: string;
  /** This user's role; null once this user left or was removed. */
  role: GroupRole | null;
  members: { user: string; role: GroupRole }[];
}

/** Trust in a user conversation's peer keys, as the header shows it (the host words it: extension/trustText.ts). */
export interface ThreadTrust {
  state: TrustState;
  text: string;
}

/** Persisted with `setState` and handed back to the WebviewPanelSerializer after a reload. */
export interface ConversationViewState {
  v: typeof VIEW_STATE_VERSION;
  peer: string;
  draft: string;
}

export type SendVerdict = 'sent' | 'duplicate' | 'queued' | 'failed';

// ---- host → webview -----------------------------------------------------------------------

export type HostToWebview =
  /** `draft`: the composer text the host kept for this conversation (workspaceState); the webview's own wins when it has one. */
  | { type: 'init'; v: typeof WEBVIEW_PROTOCOL_VERSION; peer: string; self: string | null; messages: ThreadMessage[]; hasMore: boolean; draft: string }
  /** `older`: a page fetched with loadOlder; `upsert`: new or changed messages. */
  | { type: 'messages'; mode: 'older' | 'upsert'; messages: ThreadMessage[]; hasMore?: boolean }
  | { type: 'sendResult'; requestId: string; status: SendVerdict; text: string }
  | { type: 'connection'; connected: boolean; sync: SyncState | null; detail: string }
  /** A group conversation's members (on load and on every group/changed). */
  | { type: 'group'; group: ThreadGroup }
  /** Who of the recipients has one of this user's messages and who read it (message/receipts). */
  | { type: 'receipts'; id: string; receipts: Receipt[] }
  /** Files the user picked (attach button) or dropped, now in the composer. */
  | { type: 'attached'; files: PendingFile[] }
  /** How one file's transfer goes (the core's transfer/progress for a message of this conversation). */
  | { type: 'progress'; id: string; index: number; direction: 'up' | 'down'; transferred: number; size: number }
  /** Which of the paths the webview asked about are files inside a workspace folder (resolveRefs). */
  | { type: 'refs'; refs: { path: string; exists: boolean }[] }
  /** Scroll to this message and mark it (Find in Messages). */
  | { type: 'reveal'; id: string }
  /** The peer's trust (on load and on every change); null for a group conversation. */
  | { type: 'trust'; trust: ThreadTrust | null }
  | { type: 'error'; text: string };

/** A file reference to open: a path as written in a body, resolved by the host inside the workspace folders only. */
export interface OpenRef {
  path: string;
  line: number;
  col: number | null;
  endLine: number | null;
  /** The commit a snippet was taken at (Send Selection): the host says when the checkout is elsewhere. */
  commit: string | null;
}

// ---- webview → host -----------------------------------------------------------------------

export type WebviewToHost =
  | { type: 'ready'; v: typeof WEBVIEW_PROTOCOL_VERSION }
  /** `body` is the caption when `attachments` (tokens of PendingFile) is not empty; then it may be empty. */
  | { type: 'send'; requestId: string; body: string; replyTo: string | null; attachments: string[] }
  /** The composer's attach button: the host shows an open dialog. */
  | { type: 'attach' }
  /** Things dropped on the view: the `text/uri-list` entries (the host accepts file URIs of regular files only). */
  | { type: 'drop'; uris: string[] }
  /** Save As…, Open, or Download one file of a message (by id and index; the host looks it up again). */
  | { type: 'file'; action: 'save' | 'open' | 'download'; id: string; index: number }
  | { type: 'loadOlder'; before: string }
  | { type: 'markRead'; ids: string[] }
  | { type: 'draft'; draft: string }
  /** A link in a body (http, https or mailto only): the host opens it with openExternal, after VS Code's trusted-domain prompt. */
  | { type: 'openLink'; url: string }
  /** A code block's copy button: the host writes the clipboard. */
  | { type: 'copy'; text: string }
  /** Paths written as file references in the shown bodies: which are files in the workspace? */
  | { type: 'resolveRefs'; paths: string[] }
  /** A file reference or a snippet's Open in Editor. */
  | ({ type: 'openRef' } & OpenRef)
  /** The header's Verify Safety Number… button: the host runs that command for this conversation's peer. */
  | { type: 'verify' };

export type HostToWebviewType = HostToWebview['type'];
export type WebviewToHostType = WebviewToHost['type'];
