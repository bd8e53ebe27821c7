/**
 * How every tool answers: a short summary in the tool's own voice (no peer text in it), the
 * structured result as `structuredContent`, and the same as one JSON block for clients that
 * read only text. A failure is a result with `isError: true` and a sentence a model can act
 * on; the server stays up.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCodes, type RpcErrorObject } from '../../protocol/rpc';
import { errorMessage } from '../../lib/error-message';
import { safeLine } from '../../lib/text-safety';

export function ok(summary: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: summary }, { type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** A failure said so a model can act on it. Core messages are the core's (never peer text), made one safe line anyway. */
export function failure(message: string, hint?: string): CallToolResult {
  const text = safeLine(hint ? `${message} (${hint})` : message);
  return { content: [{ type: 'text', text }], isError: true };
}

function isRpcError(error: unknown): error is RpcErrorObject {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string';
}

/** What to do about a core error, by its code. */
const HINTS: Partial<Record<number, string>> = {
  [ErrorCodes.InvalidParams]: 'fix the arguments and call again',
  [ErrorCodes.NotFound]: 'check the id with list_inbox or search_messages',
  [ErrorCodes.Conflict]: 'that client_id was already used for a different message; use a new client_id',
  [ErrorCodes.CursorTooOld]: 'call list_inbox to catch up, then wait_for_messages without a cursor',
  [ErrorCodes.MethodNotFound]: 'the running core is older than this server; restart it with `switchboard daemon restart`',
  // Offline, a refused token or an old relay, for a send or a group or agent request: the message says which.
  [ErrorCodes.NotSent]: 'nothing was done; see the relay link with status, then call again (a send with queue true, the default, is stored and retried instead)',
};

export function fromError(error: unknown): CallToolResult {
  if (isRpcError(error)) return failure(error.message, HINTS[error.code]);
  return failure(errorMessage(error));
}

/** Runs a tool's body; anything it throws becomes a tool error instead of a protocol error. */
export async function guarded(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return fromError(error);
  }
}
