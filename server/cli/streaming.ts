/** Verbs that stay connected: `inbox --follow` (NDJSON with resume cursors) and `ask` (question, then its reply). */
import type { Message } from '../../protocol/rpc';
import { canonicalUserName, groupAddress, groupNameOf, isGroupAddress } from '../../protocol/names';
import { JSON_FLAG } from './args';
import { command, spec } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { inertJson, messageFull, sendVerdict } from './format';
import { openCore } from './transport';
import { preflight } from './preflight';

/** The conversation a filter names, as messages carry it: `bob` or `#team`, canonical. */
function conversationKey(address: string): string {
  return isGroupAddress(address) ? groupAddress(canonicalUserName(groupNameOf(address))) : canonicalUserName(address);
}

/** The `inbox` filters, applied to each message as it arrives (the core applies them to a list). */
export interface FollowFilter {
  from?: string;
  in?: string;
  mentions?: boolean;
}

export function followFilter(filter: FollowFilter): (m: Message) => boolean {
  const from = filter.from === undefined ? undefined : canonicalUserName(filter.from);
  const conversation = filter.in === undefined ? undefined : conversationKey(filter.in);
  return (m) => (from === undefined || m.from === from) && (conversation === undefined || m.conversation === conversation) && (!filter.mentions || m.mentions_me === true);
}

/** Streams received messages as NDJSON until interrupted; each line's `cursor` resumes with --since. */
export async function followInbox(context: VerbContext, options: { since: string | undefined } & FollowFilter): Promise<number> {
  let since: number | undefined;
  if (options.since !== undefined) {
    since = Number(options.since);
    if (!Number.isInteger(since) || since < 0) throw usage('--since takes a cursor (a whole number) from an earlier --follow line');
  }
  const wanted = followFilter(options);
  const core = await openCore(context.paths, { sync: true });
  let last = since ?? 0;
  core.onNotification((name, params) => {
    if (name !== 'message/received') return;
    const { cursor, message } = params;
    last = cursor;
    if (wanted(message)) context.out(inertJson({ cursor, ...message }));
  });
  let subscribed: { cursor: number };
  try {
    subscribed = await core.call('events/subscribe', { since });
  } catch (error) {
    // A refused cursor (pruned events) ends the verb: nothing would ever arrive.
    await core.close();
    throw error;
  }
  if (since === undefined) last = Math.max(last, subscribed.cursor);
  const ended = await new Promise<'stopped' | 'lost'>((resolve) => {
    process.once('SIGINT', () => resolve('stopped'));
    process.once('SIGTERM', () => resolve('stopped'));
    // `inbox --follow | head -1`: the reader is gone, so is the point of following.
    void context.stdoutClosed.then(() => resolve('stopped'));
    void core.lost.then(() => resolve('lost'));
  });
  await core.close();
  if (ended === 'lost') throw new CliError(`the core went away; resume with \`switchboard inbox --follow --since ${last}\``);
  return ExitCode.Ok;
}

const askSpec = spec({
  name: 'ask',
  summary: 'send a question and wait for its reply',
  details: [
    'Prints the reply (--json: {"question", "reply"}). Only a reply to this question from --to counts;',
    'other messages meanwhile stay in the inbox. No reply within --timeout: exit 6 (--json: "reply": null);',
    'a later reply still lands in the inbox.',
  ],
  flags: {
    to: { type: 'string', value: "user|'#group'", required: true, description: "who to ask: a user, or a group as '#team' (then any member's reply counts)" },
    message: { type: 'string', short: 'm', value: 'text', required: true, description: 'the question' },
    timeout: { type: 'number', value: 'seconds', default: 60, min: 0, max: 600, unit: 'seconds', description: 'how long to wait for the reply' },
    json: JSON_FLAG,
  },
  extraArgumentHint: 'the question goes after -m',
  examples: ['switchboard ask --to bob -m "ship it?" --timeout 120', 'switchboard ask --to reviewer -m "LGTM?" --json | jq -r .reply.body'],
});

export const ask = command(askSpec, async ({ values }, context: VerbContext) => {
  const timeoutMs = Math.round(values.timeout * 1000);
  // Before connecting: a question that breaks a limit is refused alike on both paths, at once.
  preflight('message/send', { to: values.to, body: values.message });
  const deadline = Date.now() + timeoutMs;
  const core = await openCore(context.paths, { sync: true });
  try {
    const arrived: Message[] = [];
    let wake: () => void = () => {};
    core.onNotification((name, params) => {
      if (name !== 'message/received') return;
      arrived.push(params.message);
      wake();
    });
    await core.call('events/subscribe', {});
    // Web Crypto's global, not node:crypto: that module would load on every verb's start, this one only here.
    const question = await core.call('message/send', { to: values.to, body: values.message, request_id: crypto.randomUUID(), wait_ms: timeoutMs });
    if (question.status === 'failed') throw new CliError(sendVerdict(question));
    // Other chatter from the same peer is not the answer: only a reply to this question is (in a group, from any member).
    const asked = conversationKey(values.to);
    const isAnswer = (m: Message) => m.reply_to === question.id && m.conversation === asked;
    for (;;) {
      const answer = arrived.find(isAnswer);
      if (answer) {
        await core.call('message/markRead', { ids: [answer.id] });
        if (values.json) context.out(inertJson({ question, reply: { ...answer, read: true } }));
        else context.out(messageFull({ ...answer, read: true }));
        return ExitCode.Ok;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (values.json) context.out(inertJson({ question, reply: null }));
    throw new CliError(`no reply from ${values.to} within ${timeoutMs / 1000} s (question ${question.id}, ${question.status})`, ExitCode.Timeout, {
      hint: 'a later reply still lands in `switchboard inbox`',
    });
  } finally {
    await core.close();
  }
});
