/**
 * The message verbs. Each declares its flags, positionals and examples (command.ts) beside
 * its handler, asks the core (delegated or direct, it cannot tell) and prints the answer
 * through format.ts, so output is the same either way. The table of every verb is
 * commands.ts; nothing here imports it. `send --attach` hands its work to the file-transfer
 * bundle (bundles.ts): hashing files and drawing progress is no part of a text send's start.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_BODY_BYTES, OUTBOX_STATES, type Message, type ReceiptsResult, type SendParams } from '../../protocol/rpc';
import { groupAddress, groupNameOf } from '../../protocol/names';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { coreStatusLines, inert, inertJson, messageFull, messageList, outboxLine, peerLine } from './format';
import { command, group, spec } from '../../lib/node/cli/command';
import { JSON_FLAG, LIMIT_FLAG, WAIT_FLAG } from './args';
import type { VerbContext } from './context';
import { readableFileProblem } from './file-errors';
import { followInbox } from './streaming';
import { groupNameProblem, preflight } from './preflight';
import { DEFAULT_MAX_FILE_BYTES, MAX_ATTACHMENTS } from '../../protocol/files';
import { formatBytes } from './bytes';
import { deliver, withCore } from './session';
import { bundle, inBundle } from './bundles';
import type * as FileTransfer from './file-transfer';

function printJson(context: VerbContext, value: unknown): void {
  context.out(inertJson(value));
}

/** Reads a message body from -m, --file (made absolute and checked here, before delegation) or stdin; -m with --file is refused by the declared conflict. */
async function readBody(message: string | undefined, file: string | undefined): Promise<string> {
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

const sendSpec = spec({
  name: 'send',
  summary: 'send a message (the text from -m, --file or stdin), with files if you like',
  details: [
    'Prints the verdict: sent (at the relay), duplicate, queued (stored, retried automatically; exit 3) or failed.',
    'Give --to or --group. @name of a member in a group message mentions them.',
    `--attach sends a file with the message (any type; each at most ${formatBytes(DEFAULT_MAX_FILE_BYTES)}, less when the relay takes less; at most ${MAX_ATTACHMENTS} files); -m is then an optional caption and stdin is not read.`,
    'The files are checked and hashed (SHA-256) first; sent means every byte is at the relay; until then the message is queued and its upload resumes by itself. A terminal shows the upload on stderr.',
  ],
  flags: {
    to: { type: 'string', value: "user|'#group'", description: "recipient: a user, or a group as '#team' (quoted: an unquoted # starts a shell comment)" },
    group: { type: 'string', value: 'group', conflicts: ['to'], description: 'send to this group (the same as --to \'#group\', with nothing to quote)' },
    message: { type: 'string', short: 'm', value: 'text', conflicts: ['file'], description: 'the text; a text starting with - is fine unless it looks like one of these flags (then write -m=-x)' },
    file: { type: 'string', value: 'path', description: 'read the text from a file (at most 65536 bytes)' },
    attach: { type: 'string', value: 'path', multiple: true, conflicts: ['file'], description: 'send this file with the message' },
    'reply-to': { type: 'string', value: 'id', description: 'the message this answers' },
    'client-id': { type: 'string', value: 'id', description: 'idempotency key: a retry with the same id and text never sends twice (default: a fresh id)' },
    wait: WAIT_FLAG,
    'no-queue': { type: 'boolean', description: 'fail instead of queueing when the relay is not reachable; nothing is stored' },
    json: JSON_FLAG,
  },
  extraArgumentHint: 'the text goes after -m',
  examples: [
    'switchboard send --to bob -m "build is green"',
    "switchboard send --to '#team' -m '@bob the build is green'",
    'git log -1 | switchboard send --group team --client-id deploy-42 --json',
    'switchboard send --to bob --attach report.pdf --attach screenshot.png -m "the numbers" --wait 120',
  ],
});

/** `--to bob`, `--to '#team'` or `--group team` (also `--group '#team'`): where the message goes. */
function recipient(to: string | undefined, group: string | undefined): string {
  if (group !== undefined) {
    const problem = groupNameProblem(group);
    if (problem) throw usage(`--group: ${problem}`);
    return groupAddress(groupNameOf(group));
  }
  if (to !== undefined) return to;
  throw usage("send needs --to <user|'#group'> or --group <group>", "an unquoted # starts a shell comment: write --to '#team' or --group team");
}

export const send = command(sendSpec, async ({ values }, context: VerbContext) => {
  const wait = values.wait;
  const to = recipient(values.to, values.group);
  // A bad address is refused before stdin is read: the text would be lost for nothing.
  preflight('message/send', { to, body: 'x' });
  const params = (body: string): SendParams => ({
    to,
    body,
    reply_to: values['reply-to'],
    client_message_id: values['client-id'],
    wait_ms: Math.round(wait * 1000),
    queue: values['no-queue'] ? false : undefined,
  });
  const json = values.json ?? false;
  // With files, -m is an optional caption: stdin is never read for one.
  if (values.attach.length > 0) return inBundle(() => bundle<typeof FileTransfer>('file-transfer').sendWithFiles(context, params(values.message ?? ''), values.attach, json));
  return deliver(context, params(await readBody(values.message, values.file)), json);
});

const inboxSpec = spec({
  name: 'inbox',
  summary: 'list received messages, newest first, or follow them as they arrive',
  details: [
    'A list cut at --limit ends with a line saying so (--json: "has_more": true).',
    '--follow prints one JSON object per message (NDJSON) until interrupted; each carries a `cursor` that resumes with --since.',
    'A group message shows its group and sender (#team  alice: …); @you marks one that mentions you.',
    '--in and --mentions also filter --follow.',
  ],
  flags: {
    unread: { type: 'boolean', description: 'only messages not yet read' },
    from: { type: 'string', value: 'user', description: 'only messages from this sender' },
    in: { type: 'string', value: "user|'#group'", description: "only this conversation: a user, or a group as '#team' (quoted)" },
    mentions: { type: 'boolean', description: 'only messages that mention you (@you in a group; every direct message counts)' },
    limit: LIMIT_FLAG,
    json: JSON_FLAG,
    follow: { type: 'boolean', conflicts: ['limit', 'unread'], description: 'stream messages as they arrive (NDJSON)' },
    since: { type: 'string', value: 'cursor', requires: 'follow', description: 'with --follow: first replay what arrived after this cursor' },
  },
  examples: ['switchboard inbox --unread', "switchboard inbox --in '#team' --mentions", 'switchboard inbox --follow --from bob | head -1'],
});

/** What an empty inbox says, naming the filters that emptied it. */
function emptyInbox(values: { unread?: boolean; in?: string; mentions?: boolean }): string {
  const what = `no ${values.unread ? 'unread ' : ''}messages${values.mentions ? ' mentioning you' : ''}`;
  return values.in === undefined ? what : `${what} in ${inert(values.in)}`;
}

export const inbox = command(inboxSpec, async ({ values }, context: VerbContext) => {
  const params = { from: values.from, in: values.in, mentions: values.mentions };
  if (values.follow) {
    preflight('inbox/list', params);
    return followInbox(context, { since: values.since, ...params });
  }
  const limit = values.limit;
  // Without a core, new mail is fetched from the relay first.
  const result = await withCore(context.paths, (core) => core.call('inbox/list', { unread: values.unread, ...params, limit }), { pull: 'warn' });
  const has_more = result.has_more ?? false;
  if (values.json) printJson(context, { ...result, has_more });
  else {
    context.out(messageList(result.messages, emptyInbox(values)));
    if (has_more) context.out(`(the newest ${limit} shown; more with --limit N, up to ${LIMIT_FLAG.max})`);
  }
  return ExitCode.Ok;
});

/** A running core older than this command has no `message/receipts`: the message is still shown, without them. */
function withoutReceipts(error: unknown): null {
  if (error instanceof CliError && error.code === 'core_too_old') return null;
  throw error;
}

const readSpec = spec({
  name: 'read',
  summary: 'show one message in full and mark it read',
  details: ['For a message you sent: who of its recipients has it and who read it ("delivered 4/5, read 2/5"; --json: "receipts").'],
  flags: { json: JSON_FLAG },
  positionals: [{ name: 'id', description: 'a message id' }],
  examples: ['switchboard read 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10'],
});

export const read = command(readSpec, async ({ values, positionals }, context: VerbContext) => {
  const id = positionals[0]!;
  const { message, receipts } = await withCore(context.paths, async (core) => {
    const m = await core.call('message/get', { id });
    if (m.direction === 'in' && !m.read) await core.call('message/markRead', { ids: [id] });
    // Per recipient, for one's own messages: the summary on the message says only how many.
    const r: ReceiptsResult | null = m.direction === 'out' ? await core.call('message/receipts', { id: m.id }).catch(withoutReceipts) : null;
    return { message: { ...m, read: true }, receipts: r };
  }, { pull: 'warn' });
  // --json: the message, its `receipts` the summary counts with each recipient's beside them.
  if (values.json) printJson(context, receipts ? { ...message, receipts: { total: receipts.total, delivered: receipts.delivered, read: receipts.read, receipts: receipts.receipts } } : message);
  else context.out(messageFull(message, receipts));
  return ExitCode.Ok;
});

const replySpec = spec({
  name: 'reply',
  summary: 'answer a message (to its sender, or to its recipient for one you sent; in its group for a group message)',
  flags: {
    message: { type: 'string', short: 'm', value: 'text', conflicts: ['file'], description: 'the text (else --file or stdin)' },
    file: { type: 'string', value: 'path', description: 'read the text from a file' },
    wait: WAIT_FLAG,
    'client-id': { type: 'string', value: 'id', description: 'idempotency key, as for send' },
    json: JSON_FLAG,
  },
  positionals: [{ name: 'id', description: 'the message to answer' }],
  examples: ['switchboard reply 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10 -m "on it"'],
});

export const reply = command(replySpec, async ({ values, positionals }, context: VerbContext) => {
  const id = positionals[0]!;
  const wait = values.wait;
  const body = await readBody(values.message, values.file);
  // Fails closed: an unknown id is an error, never a guess at the recipient.
  const original: Message = await withCore(context.paths, (core) => core.call('message/get', { id }));
  // A group message is answered in its group, not to its sender alone.
  const to = original.group ? groupAddress(original.group) : original.direction === 'in' ? original.from : original.to;
  return deliver(context, { to, body, reply_to: original.id, client_message_id: values['client-id'], wait_ms: Math.round(wait * 1000) }, values.json ?? false);
});

const searchSpec = spec({
  name: 'search',
  summary: 'full-text search over every message, newest first',
  details: ['Every word must match; search syntax in the query has no effect.'],
  flags: { limit: LIMIT_FLAG, json: JSON_FLAG },
  positionals: [{ name: 'query', description: 'words to look for', variadic: true }],
  examples: ['switchboard search deploy failed', 'switchboard search release --json | jq -r ".messages[].id"'],
});

export const search = command(searchSpec, async ({ values, positionals }, context: VerbContext) => {
  const query = positionals.join(' ');
  const result = await withCore(context.paths, (core) => core.call('search', { query, limit: values.limit }));
  if (values.json) printJson(context, result);
  else context.out(messageList(result.messages, `nothing matches "${inert(query)}"`));
  return ExitCode.Ok;
});

const outboxListSpec = spec({
  name: 'list',
  summary: 'what you sent that is queued, in flight, failed, aborted or expired (newest first, at most 1000)',
  flags: {
    state: { type: 'string', value: 'state', choices: OUTBOX_STATES, description: 'only entries in this state' },
    json: JSON_FLAG,
  },
  examples: ['switchboard outbox list --state dead'],
});

export const outboxList = command(outboxListSpec, async ({ values }, context: VerbContext) => {
  // --state is one of OUTBOX_STATES (its declared choices); finding it there gives its type.
  const state = OUTBOX_STATES.find((s) => s === values.state);
  const result = await withCore(context.paths, (core) => core.call('outbox/list', { state }));
  if (values.json) printJson(context, result);
  else context.out(result.items.length === 0 ? 'outbox is empty' : result.items.map(outboxLine).join('\n'));
  return ExitCode.Ok;
});

const outboxRequeueSpec = spec({
  name: 'requeue',
  summary: 'send a queued, dead, aborted or expired message again, under a new id',
  flags: { json: JSON_FLAG },
  positionals: [{ name: 'id', description: 'a message id or client id' }],
  examples: ['switchboard outbox requeue 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10'],
});

export const outboxRequeue = command(outboxRequeueSpec, async ({ values, positionals }, context: VerbContext) => {
  const id = positionals[0]!;
  const result = await withCore(context.paths, (core) => core.call('outbox/requeue', { id }), { sync: true });
  if (values.json) printJson(context, result);
  else context.out(`requeued as ${result.item.id} (client id ${result.item.client_message_id}); ${result.aborted} is now aborted`);
  return ExitCode.Ok;
});

const outboxAbortSpec = spec({
  name: 'abort',
  summary: 'stop retrying a queued or dead message',
  flags: { json: JSON_FLAG },
  positionals: [{ name: 'id', description: 'a message id or client id' }],
  examples: ['switchboard outbox abort 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10'],
});

export const outboxAbort = command(outboxAbortSpec, async ({ values, positionals }, context: VerbContext) => {
  const id = positionals[0]!;
  const item = await withCore(context.paths, (core) => core.call('outbox/abort', { id }));
  if (values.json) printJson(context, item);
  else context.out(`aborted ${item.id}`);
  return ExitCode.Ok;
});

export const outbox = group(
  {
    name: 'outbox',
    summary: 'messages on their way, and the ones that failed (`outbox` alone is `outbox list`)',
    flags: {},
    examples: ['switchboard outbox', 'switchboard outbox requeue 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10'],
  },
  [outboxList, outboxRequeue, outboxAbort],
  { defaultSubcommand: 'list' },
);

const peersSpec = spec({
  name: 'peers',
  summary: 'everyone you have exchanged messages with, most recent first',
  flags: { json: JSON_FLAG },
  examples: ['switchboard peers --json'],
});

export const peers = command(peersSpec, async ({ values }, context: VerbContext) => {
  const result = await withCore(context.paths, (core) => core.call('peers/list', {}));
  if (values.json) printJson(context, result);
  else context.out(result.peers.length === 0 ? 'no peers yet' : result.peers.map(peerLine).join('\n'));
  return ExitCode.Ok;
});

const statusSpec = spec({
  name: 'status',
  summary: 'core, lock, socket, sync state and freshness, counts',
  flags: { json: JSON_FLAG },
  examples: ['switchboard status', 'switchboard status --json | jq .sync.state'],
});

export const status = command(statusSpec, async ({ values }, context: VerbContext) => {
  const { result, delegated, pulled } = await withCore(
    context.paths,
    async (core) => ({ result: await core.call('status/get', {}), delegated: core.delegated, pulled: core.pulled ?? null }),
    { pull: 'quiet' },
  );
  // Without a core there is no core's pid or start time to show: this command's would mislead.
  const shown = delegated ? result : { ...result, pid: null, since: null };
  if (values.json) printJson(context, { ...shown, core_running: delegated, delegated, pull: pulled });
  else context.out(coreStatusLines(result, delegated, pulled, context.paths.log).join('\n'));
  return ExitCode.Ok;
});
