/**
 * The message protocol between the extension host and the conversation webview.
 *
 * Types only, no runtime dependencies: the host and the webview both validate every message
 * they receive with the schemas in `webview-schemas.ts`, which are checked against these
 * types at compile time. Bump WEBVIEW_PROTOCOL_VERSION when a message changes shape.
 */
import type { Direction, MessageState, SyncState } from './rpc';

export const WEBVIEW_PROTOCOL_VERSION = 1;

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
}

/** Persisted with `setState` and handed back to the WebviewPanelSerializer after a reload. */
export interface ConversationViewState {
  v: typeof WEBVIEW_PROTOCOL_VERSION;
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
