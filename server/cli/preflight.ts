/**
 * The limits of protocol/limits.ts, checked in the CLI before a request leaves for the core
 * (delegated) or the store (direct). Without this the same input got different answers: a
 * 1 MiB body was "frame exceeds" (exit 1) from a core's socket and "body larger than 65536
 * bytes" (exit 2) directly. Now both paths refuse it here, with one message and exit 2.
 * Dependency-free: the delegated path stays lean.
 */
import { MAX_BODY_BYTES, MAX_ID_LENGTH, MAX_QUERY_LENGTH, MAX_TOKEN_LENGTH, userNameProblem } from '../../protocol/limits';
import { USER_NAME_RULE, groupNameOf, isGroupAddress, isValidUserName } from '../../protocol/names';
import type { Method, ParamsOf } from '../../protocol/rpc';
import { MAX_ATTACHMENTS } from '../../protocol/files';
import { usage } from '../../lib/node/cli/errors';

/** Throws a usage error (exit 2) naming the flag and the limit when `params` break one. */
export function preflight<M extends Method>(method: M, params: ParamsOf<M>): void {
  const problem = problemOf(method, params as Record<string, unknown> | null | undefined);
  if (problem) throw usage(problem);
}

function problemOf(method: Method, p: Record<string, unknown> | null | undefined): string | undefined {
  if (!p) return undefined;
  switch (method) {
    case 'message/send':
      return (
        conversation(p.to, '--to') ??
        // with files the body is a caption, and may be empty
        (Array.isArray(p.attachments) && p.attachments.length > 0 && p.body === '' ? undefined : body(p.body)) ??
        attachments(p.attachments) ??
        id(p.client_message_id, '--client-id') ??
        id(p.reply_to, '--reply-to') ??
        id(p.request_id, 'the question id')
      );
    case 'inbox/list':
      return name(p.from, '--from') ?? conversation(p.in, '--in');
    case 'conversation/messages':
      return conversation(p.peer, 'the peer') ?? id(p.before, 'the message id');
    case 'group/create':
      return groupName(p.name) ?? names(p.members);
    case 'group/add':
    case 'group/remove':
      return groupName(p.name) ?? names(p.users);
    case 'group/leave':
    case 'group/show':
      return groupName(p.name);
    case 'group/rename':
      return groupName(p.name) ?? groupName(p.new_name);
    case 'group/role':
      return groupName(p.name) ?? name(p.user, 'the member');
    case 'message/get':
    case 'message/receipts':
    case 'attachment/download':
    case 'outbox/requeue':
    case 'outbox/abort':
      return id(p.id, 'the message id');
    case 'message/markRead':
      return (Array.isArray(p.ids) ? p.ids.map((each) => id(each, 'the message id')).find((x) => x !== undefined) : undefined) ?? conversation(p.conversation, 'the conversation');
    case 'search':
      return query(p.query);
    case 'config/set':
      return name(p.user, '--user') ?? (typeof p.token === 'string' && p.token.length > MAX_TOKEN_LENGTH ? `the token is ${p.token.length} characters; a token has at most ${MAX_TOKEN_LENGTH}` : undefined);
    default:
      return undefined;
  }
}

function name(value: unknown, what: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const problem = userNameProblem(value);
  return problem && `${what}: ${problem}`;
}

/** The relay's sentence for a bad group name (relay/groups.ts), so both say the same. */
export const GROUP_NAME_RULE = USER_NAME_RULE.replace('account', 'group');

/** A group's name, with or without `#`: undefined when it follows the user-name rule. */
export function groupNameProblem(value: string): string | undefined {
  return isValidUserName(groupNameOf(value)) ? undefined : `invalid group name "${value}": ${GROUP_NAME_RULE}`;
}

function groupName(value: unknown): string | undefined {
  return typeof value === 'string' ? groupNameProblem(value) : undefined;
}

/** Where a conversation is meant: a user name, or `#` and a group name. */
function conversation(value: unknown, what: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const problem = isGroupAddress(value) ? groupNameProblem(value) : userNameProblem(value);
  return problem && `${what}: ${problem}`;
}

/** The first user name in a list that breaks the rule (a group's members). */
function names(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const each of value) {
    const problem = typeof each === 'string' ? userNameProblem(each) : undefined;
    if (problem) return problem;
  }
  return undefined;
}

function id(value: unknown, what: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length === 0) return `${what} must not be empty`;
  if (value.length > MAX_ID_LENGTH) return `${what} is ${value.length} characters; an id has at most ${MAX_ID_LENGTH}`;
  return undefined;
}

function body(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length === 0) return 'the message is empty; nothing to send';
  // Cheap first: a string of n UTF-16 units takes at most 3n bytes in UTF-8.
  if (value.length * 3 <= MAX_BODY_BYTES) return undefined;
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > MAX_BODY_BYTES ? `the message is ${bytes} bytes; a message holds at most ${MAX_BODY_BYTES} (UTF-8)` : undefined;
}

function attachments(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.length > MAX_ATTACHMENTS ? `a message carries at most ${MAX_ATTACHMENTS} files; got ${value.length}` : undefined;
}

function query(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length > MAX_QUERY_LENGTH) return `the search query is ${value.length} characters; a query has at most ${MAX_QUERY_LENGTH}`;
  // SQLite ends a string at NUL, so a query holding one could never match.
  if (value.includes('\u0000')) return 'the search query must not contain NUL characters';
  return undefined;
}
