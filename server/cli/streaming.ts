/** Verbs that stay connected: `inbox --follow` (NDJSON with resume cursors) and `ask` (question, then its reply). */
import { randomUUID } from 'node:crypto';
import type { Message, MessageEvent } from '../../protocol/rpc';
import { parseVerbArgs } from './args';
import { CliError, ExitCode, usage } from './errors';
import { inertJson, messageFull, sendVerdict } from './format';
import { openCore } from './transport';
import { preflight } from './preflight';
import { parseSeconds, type Verb, type VerbContext } from './verbs';

/** Streams received messages as NDJSON until interrupted; each line's `cursor` resumes with --since. */
export async function followInbox(context: VerbContext, options: { since: string | undefined; from: string | undefined }): Promise<number> {
  let since: number | undefined;
  if (options.since !== undefined) {
    since = Number(options.since);
    if (!Number.isInteger(since) || since < 0) throw usage('--since takes a cursor (a whole number) from an earlier --follow line');
  }
  const core = await openCore(context.paths, { sync: true });
  let last = since ?? 0;
  core.onNotification((name, params) => {
    if (name !== 'message/received') return;
    const { cursor, message } = params as MessageEvent;
    last = cursor;
    if (options.from === undefined || message.from === options.from) context.out(inertJson({ cursor, ...message }));
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
    process.stdout.once('error', () => resolve('stopped'));
    void core.lost.then(() => resolve('lost'));
  });
  await core.close();
  if (ended === 'lost') throw new CliError(`the core went away; resume with \`switchboard inbox --follow --since ${last}\``);
  return ExitCode.Ok;
}

export const askVerb: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(
    args,
    { to: { type: 'string' }, message: { type: 'string', short: 'm' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
    'ask',
  );
  if (positionals.length > 0) throw usage(`ask: unexpected argument "${positionals[0]}"`);
  if (!values.to) throw usage('ask needs --to <user>');
  if (values.message === undefined) throw usage('ask needs -m <text>');
  const timeoutMs = Math.round(parseSeconds(values.timeout, '--timeout', 60) * 1000);
  // Before connecting: a question that breaks a limit is refused alike on both paths, at once.
  preflight('message/send', { to: values.to, body: values.message });
  const deadline = Date.now() + timeoutMs;
  const core = await openCore(context.paths, { sync: true });
  try {
    const arrived: Message[] = [];
    let wake: () => void = () => {};
    core.onNotification((name, params) => {
      if (name !== 'message/received') return;
      arrived.push((params as MessageEvent).message);
      wake();
    });
    await core.call('events/subscribe', {});
    const question = await core.call('message/send', { to: values.to, body: values.message, request_id: randomUUID(), wait_ms: timeoutMs });
    if (question.status === 'failed') throw new CliError(sendVerdict(question));
    // Other chatter from the same peer is not the answer: only a reply to this question is.
    const isAnswer = (m: Message) => m.reply_to === question.id && m.from === values.to;
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
    throw new CliError(
      `no reply from ${values.to} within ${timeoutMs / 1000} s (question ${question.id}, ${question.status}); a later reply still lands in \`switchboard inbox\``,
    );
  } finally {
    await core.close();
  }
};
