/**
 * The verbs. Each parses its flags, asks the core (delegated or direct, it cannot tell) and
 * prints the answer through format.ts, so output is the same either way.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_BODY_BYTES, OUTBOX_STATES, type Message, type OutboxState, type SendParams, type SendResult } from '../../protocol/rpc';
import type { HomePaths } from '../paths';
import { CliError, ExitCode, usage } from './errors';
import { coreStatusLines, inert, inertJson, messageFull, messageList, outboxLine, peerLine, sendVerdict } from './format';
import { parseVerbArgs } from './args';
import { readableFileProblem } from './file-errors';
import { openCore, type CoreClient, type OpenOptions } from './transport';
import { daemonVerb } from './daemon-verbs';
import { doctorVerb } from './doctor';
import { initVerb } from './init';
import { askVerb, followInbox } from './streaming';

export interface VerbContext {
  paths: HomePaths;
  out: (text: string) => void;
}

export type Verb = (args: string[], context: VerbContext) => Promise<number>;

/** Default time a send waits for the relay's verdict when online. */
export const DEFAULT_WAIT_SECONDS = 10;

/** Runs `body` against the core and always closes the connection (or the store) afterwards. */
export async function withCore<T>(paths: HomePaths, body: (core: CoreClient) => Promise<T>, options: { sync?: boolean; pull?: OpenOptions['pull'] } = {}): Promise<T> {
  const core = await openCore(paths, { sync: options.sync ?? false, pull: options.pull });
  try {
    return await body(core);
  } finally {
    await core.close();
  }
}

function printJson(context: VerbContext, value: unknown): void {
  context.out(inertJson(value));
}

export function parseSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 600) throw usage(`${flag} takes a number of seconds between 0 and 600`);
  return n;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw usage('--limit takes a whole number between 1 and 1000');
  return n;
}

function onePositional(positionals: string[], what: string, verb: string): string {
  if (positionals.length !== 1) throw usage(`${verb} takes exactly one ${what}`);
  return positionals[0]!;
}

/** Reads a message body from -m, --file (made absolute and checked here, before delegation) or stdin. */
async function readBody(message: string | undefined, file: string | undefined): Promise<string> {
  if (message !== undefined && file !== undefined) throw usage('give either -m or --file, not both');
  if (message !== undefined) return message;
  if (file !== undefined) {
    const path = resolve(file);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw usage(`--file ${path} is not a regular file`);
      size = st.size;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw usage(`--file ${path}: ${readableFileProblem(error)}`);
    }
    if (size > MAX_BODY_BYTES) throw usage(`--file ${path} is ${size} bytes; a message holds at most ${MAX_BODY_BYTES}`);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      // stat needs no read permission: an unreadable file fails only here.
      throw usage(`--file ${path}: ${readableFileProblem(error)}`);
    }
  }
  if (process.stdin.isTTY) throw usage('send needs -m <text>, --file <path>, or the text on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) throw usage('stdin was empty; nothing to send');
  return text;
}

const SEND_EXIT: Record<SendResult['status'], number> = { sent: ExitCode.Ok, duplicate: ExitCode.Ok, queued: ExitCode.Queued, failed: ExitCode.Failed };

export async function deliver(context: VerbContext, params: SendParams, json: boolean): Promise<number> {
  // Direct sends bring the relay link up for this one message; a core already has it.
  const result = await withCore(context.paths, (core) => core.call('message/send', params).then((r) => ({ ...r, delegated: core.delegated })), { sync: true });
  if (json) printJson(context, result);
  else context.out(sendVerdict(result));
  return SEND_EXIT[result.status];
}

const send: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(
    args,
    {
      to: { type: 'string' },
      message: { type: 'string', short: 'm' },
      file: { type: 'string' },
      'reply-to': { type: 'string' },
      'client-id': { type: 'string' },
      wait: { type: 'string' },
      'no-queue': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    'send',
  );
  if (positionals.length > 0) throw usage(`send: unexpected argument "${positionals[0]}" (the text goes after -m)`);
  if (values.to === undefined) throw usage('send needs --to <user>');
  const wait = parseSeconds(values.wait, '--wait', DEFAULT_WAIT_SECONDS);
  const body = await readBody(values.message, values.file);
  return deliver(
    context,
    {
      to: values.to,
      body,
      reply_to: values['reply-to'],
      client_message_id: values['client-id'],
      wait_ms: Math.round(wait * 1000),
      queue: values['no-queue'] ? false : undefined,
    },
    values.json ?? false,
  );
};

const inbox: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(
    args,
    { unread: { type: 'boolean' }, from: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, follow: { type: 'boolean' }, since: { type: 'string' } },
    'inbox',
  );
  if (positionals.length > 0) throw usage(`inbox: unexpected argument "${positionals[0]}"`);
  if (values.since !== undefined && !values.follow) throw usage('--since goes with --follow');
  if (values.follow) return followInbox(context, { since: values.since, from: values.from });
  const limit = parseLimit(values.limit);
  // Without a core, new mail is fetched from the relay first.
  const result = await withCore(context.paths, (core) => core.call('inbox/list', { unread: values.unread, from: values.from, limit }), { pull: 'warn' });
  if (values.json) printJson(context, result);
  else context.out(messageList(result.messages, values.unread ? 'no unread messages' : 'no messages'));
  return ExitCode.Ok;
};

const read: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(args, { json: { type: 'boolean' } }, 'read');
  const id = onePositional(positionals, 'message id', 'read');
  const message = await withCore(context.paths, async (core) => {
    const m = await core.call('message/get', { id });
    if (m.direction === 'in' && !m.read) await core.call('message/markRead', { ids: [id] });
    return { ...m, read: true };
  }, { pull: 'warn' });
  if (values.json) printJson(context, message);
  else context.out(messageFull(message));
  return ExitCode.Ok;
};

const reply: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(
    args,
    { message: { type: 'string', short: 'm' }, file: { type: 'string' }, wait: { type: 'string' }, 'client-id': { type: 'string' }, json: { type: 'boolean' } },
    'reply',
  );
  const id = onePositional(positionals, 'message id', 'reply');
  const wait = parseSeconds(values.wait, '--wait', DEFAULT_WAIT_SECONDS);
  const body = await readBody(values.message, values.file);
  // Fails closed: an unknown id is an error, never a guess at the recipient.
  const original: Message = await withCore(context.paths, (core) => core.call('message/get', { id }));
  const to = original.direction === 'in' ? original.from : original.to;
  return deliver(context, { to, body, reply_to: original.id, client_message_id: values['client-id'], wait_ms: Math.round(wait * 1000) }, values.json ?? false);
};

const search: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(args, { json: { type: 'boolean' }, limit: { type: 'string' } }, 'search');
  if (positionals.length === 0) throw usage('search needs a query');
  const query = positionals.join(' ');
  const result = await withCore(context.paths, (core) => core.call('search', { query, limit: parseLimit(values.limit) }));
  if (values.json) printJson(context, result);
  else context.out(messageList(result.messages, `nothing matches "${inert(query)}"`));
  return ExitCode.Ok;
};

const outbox: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(args, { state: { type: 'string' }, json: { type: 'boolean' } }, 'outbox');
  const [sub = 'list', ...rest] = positionals;
  if (sub === 'list') {
    if (rest.length > 0) throw usage(`outbox list: unexpected argument "${rest[0]}"`);
    if (values.state !== undefined && !OUTBOX_STATES.includes(values.state as OutboxState)) {
      throw usage(`--state is one of ${OUTBOX_STATES.join(', ')}`);
    }
    const result = await withCore(context.paths, (core) => core.call('outbox/list', { state: values.state as OutboxState | undefined }));
    if (values.json) printJson(context, result);
    else context.out(result.items.length === 0 ? 'outbox is empty' : result.items.map(outboxLine).join('\n'));
    return ExitCode.Ok;
  }
  if (values.state !== undefined) throw usage('--state goes with `outbox list`');
  const id = onePositional(rest, 'message id', `outbox ${sub}`);
  if (sub === 'requeue') {
    const result = await withCore(context.paths, (core) => core.call('outbox/requeue', { id }), { sync: true });
    if (values.json) printJson(context, result);
    else context.out(`requeued as ${result.item.id} (client id ${result.item.client_message_id}); ${result.aborted} is now aborted`);
    return ExitCode.Ok;
  }
  if (sub === 'abort') {
    const item = await withCore(context.paths, (core) => core.call('outbox/abort', { id }));
    if (values.json) printJson(context, item);
    else context.out(`aborted ${item.id}`);
    return ExitCode.Ok;
  }
  throw usage(`unknown outbox command "${sub}" (list, requeue, abort)`);
};

const peers: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(args, { json: { type: 'boolean' } }, 'peers');
  if (positionals.length > 0) throw usage(`peers: unexpected argument "${positionals[0]}"`);
  const result = await withCore(context.paths, (core) => core.call('peers/list', {}));
  if (values.json) printJson(context, result);
  else context.out(result.peers.length === 0 ? 'no peers yet' : result.peers.map(peerLine).join('\n'));
  return ExitCode.Ok;
};

const status: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(args, { json: { type: 'boolean' } }, 'status');
  if (positionals.length > 0) throw usage(`status: unexpected argument "${positionals[0]}"`);
  const { result, delegated, pulled } = await withCore(
    context.paths,
    async (core) => ({ result: await core.call('status/get', {}), delegated: core.delegated, pulled: core.pulled ?? null }),
    { pull: 'quiet' },
  );
  // Without a core there is no core's pid or start time to show: this command's would mislead.
  const shown = delegated ? result : { ...result, pid: null, since: null };
  if (values.json) printJson(context, { ...shown, core_running: delegated, delegated, pull: pulled });
  else context.out(coreStatusLines(result, delegated, pulled).join('\n'));
  return ExitCode.Ok;
};

export const VERBS: Record<string, Verb> = {
  init: initVerb,
  daemon: daemonVerb,
  status,
  send,
  inbox,
  read,
  reply,
  ask: askVerb,
  search,
  outbox,
  peers,
  doctor: doctorVerb,
};
