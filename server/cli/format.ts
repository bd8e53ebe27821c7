/**
 * Human output. Everything a peer controls (bodies, names) passes through `inert` first, so a
 * message can never move the cursor, retitle the terminal or hide text.
 */
import type { CoreStatus, Message, OutboxItem, Peer, SendResult, SyncStatus } from '../../protocol/rpc';

/**
 * Replaces C0/C1 control characters (ESC among them), DEL, and the Unicode bidi and
 * zero-width format controls with visible escapes. Newlines and tabs survive only where
 * `multiline` allows them.
 */
export function inert(text: string, multiline = false): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (ch) => {
    if (multiline && (ch === '\n' || ch === '\t')) return ch;
    const code = ch.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * JSON for the terminal: JSON.stringify escapes C0 controls but passes DEL, C1 and the bidi
 * and zero-width controls through raw; these become \\u escapes too, so the JSON means the same.
 */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** `2026-11-24 14:03` in UTC: stable across machines, so outputs compare. */
export function shortTime(iso: string | null): string {
  if (!iso) return 'never';
  return inert(iso.slice(0, 16).replace('T', ' '));
}

function oneLine(body: string, width = 72): string {
  const flat = inert(body.replace(/\s+/g, ' ').trim());
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
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
  lines.push('', inert(m.body, true));
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

export function coreStatusLines(s: CoreStatus, delegated: boolean): string[] {
  const core = delegated ? `running (pid ${s.pid}, version ${s.version}, since ${shortTime(s.since)}, ${s.clients} client${s.clients === 1 ? '' : 's'})` : 'not running';
  return [
    `core:      ${core}`,
    `home:      ${s.home}`,
    `socket:    ${delegated ? s.socket : `${s.socket ?? '-'} (no core listening)`}`,
    `messages:  ${s.messages} (${s.unread} unread)`,
    `outbox:    ${s.outbox.pending} pending, ${s.outbox.inflight} in flight, ${s.outbox.dead} dead, ${s.outbox.done} done, ${s.outbox.aborted} aborted, ${s.outbox.expired ?? 0} expired`,
    ...syncLines(s.sync),
  ];
}
