/**
 * Human output. Everything a peer controls (bodies, names) passes through the text-safety
 * policy (lib/text-safety.ts) first, so a message can never move the cursor, retitle the
 * terminal or hide text.
 */
import { safeJson, safeLine, safeText } from '../../lib/text-safety';
import type { CoreStatus, Message, OutboxItem, Peer, PullResult, SendResult, StoreStatus, SyncStatus } from '../../protocol/rpc';

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

export function messageLine(m: Message): string {
  const mark = m.direction === 'in' ? (m.read ? ' ' : '*') : '>';
  const who = m.direction === 'in' ? inert(m.from) : `to ${inert(m.to)}`;
  const state = m.direction === 'out' ? ` [${m.state}]` : '';
  return `${mark} ${inert(m.id)}  ${shortTime(m.created_at)}  ${who}${state}: ${oneLine(m.body)}`;
}

export function messageList(messages: Message[], empty: string): string {
  return messages.length === 0 ? empty : messages.map(messageLine).join('\n');
}

export function messageFull(m: Message): string {
  const lines = [
    `id:       ${inert(m.id)}`,
    `from:     ${inert(m.from)}`,
    `to:       ${inert(m.to)}`,
    `date:     ${inert(m.created_at)}`,
    `state:    ${m.state}`,
  ];
  if (m.reply_to) lines.push(`reply-to: ${inert(m.reply_to)}`);
  if (m.request_id) lines.push(`question: ${inert(m.request_id)} (answer with \`switchboard reply ${inert(m.id)} -m …\`)`);
  lines.push('', safeText(m.body, 'block'));
  return lines.join('\n');
}

export function sendVerdict(r: SendResult): string {
  switch (r.status) {
    case 'sent':
      return `sent ${r.id} to ${inert(r.to)}`;
    case 'duplicate':
      return `duplicate: ${r.id} to ${inert(r.to)} was already sent with this client id; nothing new was sent`;
    case 'queued':
      // The reason says why and what happens next (or the command that fixes it).
      if (r.reason) return `queued ${r.id} to ${inert(r.to)}: ${inert(r.reason)}`;
      return `queued ${r.id} to ${inert(r.to)}: not yet at the relay; it is retried automatically (see \`switchboard outbox\`)`;
    case 'failed':
      return `failed: ${inert(r.reason ?? 'unknown reason')}`;
  }
}

export function outboxLine(item: OutboxItem): string {
  const error = item.last_error ? `  last error: ${inert(item.last_error)}` : '';
  return `${item.state.padEnd(8)} ${item.id}  ${shortTime(item.created_at)}  to ${inert(item.to)}  attempts ${item.attempts}${error}: ${oneLine(item.body, 48)}`;
}

export function peerLine(p: Peer): string {
  return `${inert(p.name)}  messages ${p.messages}  unread ${p.unread}  last ${shortTime(p.last_at)}`;
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
export function coreStatusLines(s: CoreStatus, delegated: boolean, pulled: PullResult | null = null): string[] {
  const core = delegated
    ? `running (pid ${s.pid}, version ${s.version}, since ${shortTime(s.since)}, ${s.clients} client${s.clients === 1 ? '' : 's'})`
    : 'no core running; commands open the store themselves (start one with `switchboard daemon start`)';
  return [
    `core:      ${core}`,
    `home:      ${inert(s.home)}`,
    `socket:    ${delegated ? s.socket : `${s.socket ?? '-'} (no core listening)`}`,
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
