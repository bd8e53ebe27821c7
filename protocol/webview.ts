/**
 * The message protocol between the extension host and the conversation webview.
 *
 * Types only, no runtime dependencies: the host and the webview both validate every message
 * they receive with the schemas in `webview-schemas.ts`, which are checked against these
 * types at compile time. Bump WEBVIEW_PROTOCOL_VERSION when a message changes shape.
 */
import type { Direction, GroupRole, MessageState, Receipt, ReceiptSummary, SyncState } from './rpc';

/** 2: group messages (sender, mentions, receipts), the member list and per-member receipts. */
export const WEBVIEW_PROTOCOL_VERSION = 2;
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
}

/** A group conversation's room as the panel shows it: who is in it, with roles. */
export interface ThreadGroup {
  name: string;
  /** This user's role; null once this user left or was removed. */
  role: GroupRole | null;
  members: { user: string; role: GroupRole }[];
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
  | { type: 'init'; v: typeof WEBVIEW_PROTOCOL_VERSION; peer: string; self: string | null; messages: ThreadMessage[]; hasMore: boolean }
  /** `older`: a page fetched with loadOlder; `upsert`: new or changed messages. */
  | { type: 'messages'; mode: 'older' | 'upsert'; messages: ThreadMessage[]; hasMore?: boolean }
  | { type: 'sendResult'; requestId: string; status: SendVerdict; text: string }
  | { type: 'connection'; connected: boolean; sync: SyncState | null; detail: string }
  /** A group conversation's members (on load and on every group/changed). */
  | { type: 'group'; group: ThreadGroup }
  /** Who of the recipients has one of this user's messages and who read it (message/receipts). */
  | { type: 'receipts'; id: string; receipts: Receipt[] }
  | { type: 'error'; text: string };

// ---- webview → host -----------------------------------------------------------------------

export type WebviewToHost =
  | { type: 'ready'; v: typeof WEBVIEW_PROTOCOL_VERSION }
  | { type: 'send'; requestId: string; body: string; replyTo: string | null }
  | { type: 'loadOlder'; before: string }
  | { type: 'markRead'; ids: string[] }
  | { type: 'draft'; draft: string };

export type HostToWebviewType = HostToWebview['type'];
export type WebviewToHostType = WebviewToHost['type'];
