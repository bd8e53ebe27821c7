/**
 * Human output. Everything a peer controls (bodies, names) passes through the text-safety
 * policy (lib/text-safety.ts) first, so a message can never move the cursor, retitle the
 * terminal or hide text.
 */
import { safeJson, safeLine, safeText } from '../../lib/text-safety';
import { formatBytes } from './bytes';
import type { Attachment, CoreStatus, Group, GroupMember, Message, OutboxItem, Peer, PullResult, ReceiptSummary, ReceiptsResult, SendResult, StoreStatus, SyncStatus } from '../../protocol/rpc';

/** A one-line field (name, id, reason): every hidden character and line break shown as an escape. */
export function inert(text: string): string {
  return safeText(text, 'inline');
}

/** JSON for the terminal: every string field carries the same safe text human output shows. */
export const inertJson = safeJson;

/** `2026-11-24 14:03` in UTC: stable across machines, so outputs compare. */
export function shortTime(iso: string | null): string {
  if (!iso) return 'never';
  return inert(iso.slice(0, 16).replace('T', ' '));
}

function oneLine(body: string, width = 72): string {
  return safeLine(body, width);
}

/** `#team` for a group's name (which a peer chose, so it is made inert like any name). */
export function groupTag(name: string): string {
  return `#${inert(name)}`;
}

/**
 * A user as every human output names it: an agent identity with its owner, as the relay said
 * it (`alice.claude (agent of alice)`), a person by name alone. One spelling everywhere:
 * inbox, read, peers, group members.
 */
export function userLabel(name: string, owner: string | undefined): string {
  return owner === undefined ? inert(name) : `${inert(name)} (agent of ${inert(owner)})`;
}

/**
 * Who a message is from or to. A group message names the room and the sender (`#team  alice`),
 * and `@you` marks one that mentions this user; a direct message always counts as a mention
 * (protocol/rpc.ts), so marking each would say nothing.
 */
function party(m: Message): string {
  // A group message's `to` is `#name` already.
  if (m.direction === 'out') return `to ${inert(m.to)}`;
  if (!m.group) return userLabel(m.from, m.from_owner);
  return `${groupTag(m.group)}  ${userLabel(m.from, m.from_owner)}${m.mentions_me ? ' @you' : ''}`;
}

/** `delivered 4/5, read 2/5`. */
export function receiptCounts(r: ReceiptSummary): string {
  return `delivered ${r.delivered}/${r.total}, read ${r.read}/${r.total}`;
}

/** An outbound message's state, with a group's receipt counts once it reached the relay. */
function outState(m: Message): string {
  const counts = m.group && m.receipts && m.state !== 'queued' && m.state !== 'failed' && m.state !== 'aborted' ? `; ${receiptCounts(m.receipts)}` : '';
  return ` [${m.state}${counts}]`;
}

/** ` [2 files]` in a list row: the message carries files (`read` lists them; `download` writes them). */
function filesMark(m: Message): string {
  const n = m.attachments?.length ?? 0;
  return n === 0 ? '' : ` [${n === 1 ? '1 file' : `${n} files`}]`;
}

export function messageLine(m: Message): string {
  const mark = m.direction === 'in' ? (m.read ? ' ' : '*') : '>';
  const state = m.direction === 'out' ? outState(m) : '';
    // A file sent without a caption has no text to show after the colon.
  const text = m.body === '' && m.attachments?.length ? '' : `: ${oneLine(m.body)}`;
  return `${mark} ${inert(m.id)}  ${shortTime(m.created_at)}  ${party(m)}${state}${filesMark(m)}${text}`;
}

/** Where one file stands, for a person: `ready`, `downloading 42%`, `failed: <why>`, `remote (not downloaded)`. */
function attachmentState(a: Attachment): string {
  switch (a.state) {
    case 'ready':
      return 'ready';
    case 'downloading':
      return `downloading ${a.size === 0 ? 100 : Math.floor((a.transferred / a.size) * 100)}%`;
    case 'failed':
      return `failed: ${inert(a.error ?? 'unknown reason')}`;
    case 'remote':
      return 'remote (not downloaded)';
  }
}

/** `files:` and one line per file: index, name (inert), size, type, state; then how to get them. */
export function attachmentLines(m: Message): string[] {
  const files = m.attachments ?? [];
  if (files.length === 0) return [];
  const rows = files.map((a) => `  ${a.index}  ${inert(a.name)}  ${formatBytes(a.size)}  ${inert(a.mime)}  ${attachmentState(a)}`);
  return [`files:    ${files.length} (write them with \`switchboard download ${inert(m.id)} --out <dir>\`)`, ...rows];
}

export function messageList(messages: Message[], empty: string): string {
  return messages.length === 0 ? empty : messages.map(messageLine).join('\n');
}

/**
 * `read`: the headers, then the body as written. `receipts` (an outbound message's, from
 * `message/receipts`) adds who of the recipients has it and who read it.
 */
export function messageFull(m: Message, receipts: ReceiptsResult | null = null): string {
  const lines = [
    `id:       ${inert(m.id)}`,
    `from:     ${userLabel(m.from, m.from_owner)}`,
    `to:       ${inert(m.to)}`,
    `date:     ${inert(m.created_at)}`,
    `state:    ${m.state}`,
  ];
  if (m.reply_to) lines.push(`reply-to: ${inert(m.reply_to)}`);
  if (m.request_id) lines.push(`question: ${inert(m.request_id)} (answer with \`switchboard reply ${inert(m.id)} -m …\`)`);
  if (m.mentions?.length) lines.push(`mentions: ${m.mentions.map((u) => `@${inert(u)}`).join(' ')}`);
  if (receipts) lines.push(...receiptLines(receipts));
  lines.push(...attachmentLines(m));
  lines.push('', safeText(m.body, 'block'));
  return lines.join('\n');
}

/** Why the relay will not deliver a message to a recipient, for a person. */
const DROPPED: Record<NonNullable<ReceiptsResult['receipts'][number]['dropped']>, string> = {
  quota: 'their queue at the relay was full',
  retention: 'no device of theirs took it before the relay dropped it',
};

/** `receipts: delivered 2/3, read 1/3`, then one line per recipient: read, delivered, dropped or not yet. */
export function receiptLines(r: ReceiptsResult): string[] {
  const width = Math.max(0, ...r.receipts.map((each) => inert(each.user).length));
  const rows = r.receipts.map((each) => {
    const what = each.read_at
      ? `read ${shortTime(each.read_at)}`
      : each.delivered_at
        ? `delivered ${shortTime(each.delivered_at)}, not read`
        : each.dropped
          ? `not delivered: ${DROPPED[each.dropped]}`
          : 'not delivered yet';
    return `  ${inert(each.user).padEnd(width)}  ${what}`;
  });
  return [`receipts: ${receiptCounts(r)}`, ...rows];
}

/** ` with 2 files (3.5 MiB)`: what a send carried, after its recipient. */
function filesNote(files: readonly { size: number }[]): string {
  if (files.length === 0) return '';
  return ` with ${files.length === 1 ? 'a file' : `${files.length} files`} (${formatBytes(files.reduce((sum, f) => sum + f.size, 0))})`;
}

export function sendVerdict(r: SendResult, files: readonly { size: number }[] = []): string {
  const what = `${r.id} to ${inert(r.to)}${filesNote(files)}`;
  switch (r.status) {
    case 'sent':
      return `sent ${what}`;
    case 'duplicate':
      return `duplicate: ${what} was already sent with this client id; nothing new was sent`;
    case 'queued':
      // The reason says why and what happens next (or the command that fixes it).
      if (r.reason) return `queued ${what}: ${inert(r.reason)}`;
      return `queued ${what}: not yet at the relay; it is retried automatically (see \`switchboard outbox\`)`;
    case 'failed':
      return `failed: ${inert(r.reason ?? 'unknown reason')}`;
  }
}

export function outboxLine(item: OutboxItem): string {
  const error = item.last_error ? `  last error: ${inert(item.last_error)}` : '';
  return `${item.state.padEnd(8)} ${item.id}  ${shortTime(item.created_at)}  to ${inert(item.to)}  attempts ${item.attempts}${error}: ${oneLine(item.body, 48)}`;
}

export function peerLine(p: Peer): string {
  return `${userLabel(p.name, p.owner)}  messages ${p.messages}  unread ${p.unread}  last ${shortTime(p.last_at)}  ${p.trust}`;
}

export function syncLines(s: SyncStatus): string[] {
  return [
    `sync:      ${s.state}${s.relay ? ` (${inert(s.relay)} as ${inert(s.user ?? '?')})` : ''}`,
    `  connected since ${shortTime(s.connected_since)}; last inbound ${shortTime(s.last_inbound_at)}; last relay ack ${shortTime(s.last_ack_at)}`,
    `  queued ${s.queued}${s.last_error ? `; last error: ${inert(s.last_error)}` : ''}`,
    // A recipient whose relay quota is full: its messages wait here, others still flow.
    ...(s.held ?? []).map((h) => `  held for ${inert(h.to)} until ${shortTime(h.retry_at)}: ${inert(h.reason)}`),
  ];
}

export function storeLine(s: StoreStatus): string {
  if (s.state === 'ok') return `store:     ok (${s.path})`;
  return `store:     ${s.error ?? `disk full at ${s.path}`} since ${shortTime(s.since)}: new writes fail until there is space, then resume by themselves`;
}

/**
 * `status`. Without a core (`delegated` false) the status is this command's own: no pid, no
 * live link; it says what is configured and what this command's pull fetched instead.
 */
/** `log` is the home's core.log: where `daemon start`, the extension's core and a `daemon install` service write. */
export function coreStatusLines(s: CoreStatus, delegated: boolean, pulled: PullResult | null = null, log?: string): string[] {
  const core = delegated
    ? `running (pid ${s.pid}, version ${s.version}, since ${shortTime(s.since)}, ${s.clients} client${s.clients === 1 ? '' : 's'})`
    : 'no core running; commands open the store themselves (start one with `switchboard daemon start`)';
  return [
    `core:      ${core}`,
    `home:      ${inert(s.home)}`,
    `socket:    ${delegated ? s.socket : `${s.socket ?? '-'} (no core listening)`}`,
    ...(log === undefined ? [] : [`log:       ${inert(log)}`]),
    `messages:  ${s.messages} (${s.unread} unread)`,
    `outbox:    ${s.outbox.pending} pending, ${s.outbox.inflight} in flight, ${s.outbox.dead} dead, ${s.outbox.done} done, ${s.outbox.aborted} aborted, ${s.outbox.expired ?? 0} expired`,
    storeLine(s.store),
    ...(delegated ? syncLines(s.sync) : relayLines(s.sync, pulled)),
  ];
}

/** With no core: what is configured, and what this command fetched just now. */
function relayLines(s: SyncStatus, pulled: PullResult | null): string[] {
  if (!s.relay || !s.user) return ['relay:     not configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`'];
  const lines = [`relay:     ${inert(s.relay)} as ${inert(s.user)} (configured; no live link without a core)`];
  if (pulled) {
    const fetched = pulled.fetched === 0 ? 'nothing new' : messages(pulled.fetched);
    lines.push(pulled.problem ? `pull:      ${fetched} fetched just now: ${inert(pulled.problem.message)}` : `pull:      ${fetched} fetched just now; caught up with the relay`);
  }
  lines.push(
    `  last inbound ${shortTime(s.last_inbound_at)}; last relay ack ${shortTime(s.last_ack_at)}`,
    `  queued ${s.queued}${s.queued > 0 ? ' (sent by the next command that reaches the relay, or by a core)' : ''}`,
  );
  return lines;
}

function messages(n: number): string {
  return `${n} new message${n === 1 ? '' : 's'}`;
}

/** One line for stderr when a verb without a core could not fetch everything; undefined when it did. */
export function pullNotice(p: PullResult): string | undefined {
  if (!p.problem) return undefined;
  const what = p.fetched === 0 ? 'nothing new fetched from the relay' : `fetched ${messages(p.fetched)}, maybe not all`;
  return `${what}: ${inert(p.problem.message)}; showing what is stored here`;
}

// ---- groups -----------------------------------------------------------------------------

/** `alice (owner), alice.claude (member, agent of alice), bob (admin)`. */
export function memberSummary(members: readonly GroupMember[]): string {
  return members.length === 0 ? 'none' : members.map((m) => (m.owner === undefined ? `${inert(m.user)} (${m.role})` : `${inert(m.user)} (${m.role}, agent of ${inert(m.owner)})`)).join(', ');
}

function unreadText(g: Group): string {
  if (g.unread === 0) return 'none';
  return g.unread_mentions > 0 ? `${g.unread}, ${g.unread_mentions} mentioning you` : String(g.unread);
}

function memberCount(n: number): string {
  return `${n} member${n === 1 ? '' : 's'}`;
}

/** `group list`: one line per group, the ones this user is in first (as the core orders them). */
export function groupListLine(g: Group): string {
  const unread = g.unread === 0 ? '' : `  ${g.unread} unread${g.unread_mentions > 0 ? `, ${g.unread_mentions} mentioning you` : ''}`;
  return `${groupTag(g.name)}  ${g.role ?? 'left'}  ${memberCount(g.members.length)}${unread}`;
}

export function groupList(groups: readonly Group[]): string {
  return groups.length === 0 ? 'no groups yet; create one with `switchboard group create <name> --members <u1,u2>`' : groups.map(groupListLine).join('\n');
}

/** `group show`: the group, this user's role, unread and mentions, and each member with their role. */
export function groupFull(g: Group): string {
  const width = Math.max(0, ...g.members.map((m) => userLabel(m.user, m.owner).length));
  const created = g.created_at || g.created_by ? `${g.created_at ? shortTime(g.created_at) : 'unknown date'}${g.created_by ? ` by ${inert(g.created_by)}` : ''}` : 'unknown';
  return [
    `group:     ${groupTag(g.name)}`,
    `your role: ${g.role ?? 'none (you left or were removed; its history stays here)'}`,
    `unread:    ${unreadText(g)}`,
    `created:   ${created}`,
    `members:   ${g.members.length}`,
    ...g.members.map((m) => `  ${userLabel(m.user, m.owner).padEnd(width)}  ${m.role}`),
  ].join('\n');
}
