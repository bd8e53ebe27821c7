/**
 * Human output. Everything a peer controls (bodies, names) passes through the text-safety
 * policy (lib/text-safety.ts) first, so a message can never move the cursor, retitle the
 * terminal or hide text.
 */
import { safeJson, safeLine, safeText } from '../../lib/text-safety';
import type { CoreStatus, Message, OutboxItem, Peer, SendResult, StoreStatus, SyncStatus } from '../../protocol/rpc';

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
      return `queued ${r.id} to ${inert(r.to)}: not yet at the relay${r.reason ? ` (${inert(r.reason)})` : ''}; it is retried automatically (see \`switchboard outbox\`)`;
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

export function coreStatusLines(s: CoreStatus, delegated: boolean): string[] {
  const core = delegated ? `running (pid ${s.pid}, version ${s.version}, since ${shortTime(s.since)}, ${s.clients} client${s.clients === 1 ? '' : 's'})` : 'not running';
  return [
    `core:      ${core}`,
    `home:      ${inert(s.home)}`,
    `socket:    ${delegated ? s.socket : `${s.socket ?? '-'} (no core listening)`}`,
    `messages:  ${s.messages} (${s.unread} unread)`,
    `outbox:    ${s.outbox.pending} pending, ${s.outbox.inflight} in flight, ${s.outbox.dead} dead, ${s.outbox.done} done, ${s.outbox.aborted} aborted, ${s.outbox.expired ?? 0} expired`,
    storeLine(s.store),
    ...syncLines(s.sync),
  ];
}
