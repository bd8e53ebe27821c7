/**
 * The tools that wait: `wait_for_messages` (the agent loop's primitive: block from a cursor until
 * something arrives) and `ask` (send a question, wait for its correlated reply). Both wait on a
 * subscription to the core's event log, which resumes from its last cursor across core restarts,
 * so across calls nothing is lost or repeated: a call hands back the cursor of the last event it
 * accounted for, and the next call resumes exactly there.
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { canonicalUserName, groupAddress, groupNameOf, isGroupAddress } from '../../protocol/names';
import type { Message } from '../../protocol/rpc';
import type { Subscription } from './core-link';
import { failure, guarded, ok } from './results';
import { sendResultShape, toSendResult, verdictLine } from './schemas';
import { messageSchema, toMcpMessage, UNTRUSTED_NOTICE } from './untrusted';
import { clientIdArg, waitArg, waitMs, type ToolContext } from './message-tools';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** How often a waiting tool reports progress to a client that asked for it (a progressToken). */
const PROGRESS_EVERY_MS = 1000;
/**
 * How long a wait gives the backlog (events up to the newest at subscription, sent a page per
 * turn) to arrive, whatever its timeout: an event whose message is gone is passed over without a
 * notification, so the cursor may never quite reach the newest one.
 */
const BACKLOG_GRACE_MS = 2000;

/** The conversation an address names, as messages carry it: `bob` or `#team`, canonical. */
function conversationKey(address: string): string {
  return isGroupAddress(address) ? groupAddress(canonicalUserName(groupNameOf(address))) : canonicalUserName(address);
}

/** Sends `notifications/progress` every second while `waiting` runs, when the client gave a progressToken. */
function reportProgress(extra: Extra, totalSeconds: number, what: string): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  const started = Date.now();
  const timer = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: elapsed, total: totalSeconds, message: `${what} (${elapsed} s of ${totalSeconds} s)` } }).catch(() => {});
  }, PROGRESS_EVERY_MS);
  return () => clearInterval(timer);
}

/** Resolves after `ms`, when `wake` is called, when the request is cancelled, or when the subscription breaks. */
function nap(ms: number, signal: AbortSignal, subscription: Subscription, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done);
    void subscription.broken.then(done);
    setWake(done);
  });
}

export function registerWaitingTools(server: McpServer, context: ToolContext): void {
  const { link, session } = context;

  server.registerTool(
    'wait_for_messages',
    {
      title: 'Wait for messages',
      description:
        'Block until messages arrive after a cursor, or the timeout passes. Returns the messages (oldest first) and the cursor to pass next time: ' +
        'call it in a loop with the returned cursor and nothing is ever lost or repeated, even across restarts. ' +
        'Without a cursor: after the last call in this session, else from now on. cursor 0: everything the core keeps.',
      inputSchema: {
        cursor: z.number().int().min(0).optional().describe('the next_cursor of the previous call'),
        timeout: z.number().min(0).max(600).optional().describe('seconds to wait when nothing is there yet (default 30)'),
        limit: z.number().int().min(1).max(500).optional().describe('at most this many messages (default 100); the rest come next call'),
        from: z.string().optional().describe('only from this user (others are passed over for good)'),
        in: z.string().optional().describe('only this conversation, a user or #group (others are passed over for good)'),
      },
      outputSchema: {
        messages: z.array(messageSchema),
        next_cursor: z.number().int().describe('pass it as cursor to the next call'),
        timed_out: z.boolean().describe('true when nothing arrived in time'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args, extra) =>
      guarded(async () => {
        const limit = args.limit ?? 100;
        const timeoutMs = Math.round((args.timeout ?? 30) * 1000);
        const from = args.from === undefined ? undefined : canonicalUserName(args.from);
        const only = args.in === undefined ? undefined : conversationKey(args.in);
        const since = args.cursor ?? session.cursor;
        const got: Message[] = [];
        let next: number | undefined = since;
        let full = false;
        let wake = () => {};
        const subscription = await link.subscribe(since, (name, params) => {
          // In cursor order; once `limit` messages are in, nothing further is accounted for, so the next call starts right after the last one returned.
          if (full || !('cursor' in params)) return;
          if (name === 'message/received') {
            const m = params.message;
            if ((from === undefined || m.from === from) && (only === undefined || m.conversation === only)) got.push(m);
            full = got.length >= limit;
            wake();
          }
          next = params.cursor;
        });
        next ??= subscription.cursor;
        const stop = reportProgress(extra, timeoutMs / 1000, 'waiting for messages');
        try {
          const deadline = Date.now() + timeoutMs;
          const backlogDeadline = Date.now() + BACKLOG_GRACE_MS;
          while (!extra.signal.aborted && !subscription.failure) {
            if (full) break;
            if (got.length > 0) {
              // The backlog comes a page per turn: gather what is already on its way, then answer.
              const before = got.length;
              await new Promise((resolve) => setTimeout(resolve, subscription.cursor >= subscription.newest ? 0 : 5));
              if (got.length === before && subscription.cursor >= subscription.newest) break;
              if (got.length === before) await nap(20, extra.signal, subscription, (w) => (wake = w));
              if (got.length === before) break;
              continue;
            }
            // Even with timeout 0, what was already there (the backlog up to `newest`) is answered.
            if (subscription.cursor < subscription.newest && Date.now() < backlogDeadline) {
              await nap(10, extra.signal, subscription, (w) => (wake = w));
              continue;
            }
            const left = deadline - Date.now();
            if (left <= 0) break;
            await nap(left, extra.signal, subscription, (w) => (wake = w));
          }
        } finally {
          stop();
          subscription.close();
        }
        if (subscription.failure) return failure(subscription.failure.message, 'call list_inbox to catch up, then wait_for_messages without a cursor');
        // A cancelled call's answer is never read: the session's cursor stays, so those messages come next time.
        if (!extra.signal.aborted) session.cursor = next;
        const timedOut = got.length === 0;
        const summary = timedOut ? `no new messages; next cursor ${next}` : `${got.length} new message${got.length === 1 ? '' : 's'}; next cursor ${next}. ${UNTRUSTED_NOTICE}`;
        return ok(summary, { messages: got.map(toMcpMessage), next_cursor: next, timed_out: timedOut });
      }),
  );

  server.registerTool(
    'ask',
    {
      title: 'Ask and wait for the reply',
      description:
        'Send a question to a user or #group and wait for the reply to it (a message whose reply_to is the question; in a group, any member\'s). ' +
        'Other messages meanwhile stay in the inbox. No reply in time: status "timeout" (a later reply still lands in the inbox). Reports progress while waiting; cancellable.',
      inputSchema: {
        to: z.string().min(1).describe('a user, or #group'),
        body: z.string().describe('the question'),
        timeout: z.number().min(0).max(600).optional().describe('seconds to wait for the reply (default 60)'),
        client_id: clientIdArg,
        wait: waitArg,
      },
      outputSchema: {
        status: z.enum(['answered', 'timeout', 'not_sent', 'cancelled']),
        question: z.object(sendResultShape),
        reply: messageSchema.nullable(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (args, extra) =>
      guarded(async () => {
        const timeoutMs = Math.round((args.timeout ?? 60) * 1000);
        const asked = conversationKey(args.to);
        let questionId: string | undefined;
        const arrived: Message[] = [];
        let wake = () => {};
        // Subscribed before the question leaves, so a quick reply cannot slip past.
        const subscription = await link.subscribe(undefined, (name, params) => {
          if (name !== 'message/received') return;
          arrived.push(params.message);
          wake();
        });
        const stop = reportProgress(extra, timeoutMs / 1000, `waiting for a reply from ${asked}`);
        try {
          const question = await link.call('message/send', { to: args.to, body: args.body, request_id: randomUUID(), client_message_id: args.client_id ?? randomUUID(), wait_ms: waitMs(args.wait) });
          questionId = question.id;
          const verdict = toSendResult(question);
          if (question.status === 'failed') return ok(`the question was not sent: ${verdictLine(question)}`, { status: 'not_sent', question: verdict, reply: null });
          const isAnswer = (m: Message) => m.reply_to === questionId && m.conversation === asked;
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const answer = arrived.find(isAnswer);
            if (answer) {
              await link.call('message/markRead', { ids: [answer.id] });
              return ok(`${answer.from} replied to question ${question.id} (reply id ${answer.id}). ${UNTRUSTED_NOTICE}`, { status: 'answered', question: verdict, reply: toMcpMessage({ ...answer, read: true }) });
            }
            if (extra.signal.aborted) return ok(`cancelled; question ${question.id} was ${question.status}`, { status: 'cancelled', question: verdict, reply: null });
            if (subscription.failure) return failure(subscription.failure.message);
            const left = deadline - Date.now();
            if (left <= 0) break;
            await nap(left, extra.signal, subscription, (w) => (wake = w));
          }
          return ok(`no reply from ${asked} within ${timeoutMs / 1000} s to question ${question.id} (${question.status}); a later reply lands in the inbox (wait_for_messages)`, {
            status: 'timeout',
            question: verdict,
            reply: null,
          });
        } finally {
          stop();
          subscription.close();
        }
      }),
  );
}
