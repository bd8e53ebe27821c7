/**
 * Pure formatting for the status bar, trees, quick picks and notifications. No `vscode`
 * import, so the unit tests run it without VS Code; what the webview shares with it lives in
 * lib/display.ts.
 */
import { absoluteTime, inertText, oneLine, relativeTime } from '../lib/display';
import { attachmentStateText, fileTypeLabel, filesCount, filesLine, formatSize } from '../lib/file-display';
import { ErrorCodes, type Group, type Message, type OutboxItem, type Peer, type SendStatus, type TrustState } from '../protocol/rpc';
import { trustTooltipLine } from './trustText';
import { Commands, focusViewCommand, Views, type RunnableCommand } from './ids';
import type { Status, StatusKind } from './statusModel';

// VS Code renders `[label](https:…|command:…|file:…)` as a link and `$(name)` as an icon in
// notifications, quick picks, input box prompts and dialogs. A peer's text must not become
// either: one click on a `command:` link could type into the user's terminal.
const LINK_OPENER = /\]\(/g;
// An icon already escaped (`\$(x)`) is left alone, so applying `noLinks` twice changes nothing.
const ICON = /(?<!\\)\$\([A-Za-z0-9-]+(?:~[A-Za-z0-9-]+)?\)/g;

/**
 * Text for a surface that renders links and icons: `](` gets a space (so no link can form; the
 * target stays readable) and `$(name)` is escaped (shown literally, not as an icon). Apply it
 * to the whole string handed to `showInformationMessage` and friends, quick pick items and
 * input box prompts, after the peer parts went through `oneLine`.
 */
export function noLinks(text: string): string {
  return text.replace(LINK_OPENER, '] (').replace(ICON, '\\$&');
}

// ---- peer text on VS Code surfaces ------------------------------------------------------------
// Tree labels, descriptions and string tooltips are plain text in VS Code (no links, no icons);
// notifications and quick picks are not, so their text also goes through `noLinks`.

export interface ItemText {
  label: string;
  description: string;
  /** Always a plain string: a MarkdownString would render a peer's markdown. */
  tooltip: string;
}

export interface ConversationSummary {
  peer: string;
  unread: number;
  total: number;
  last: Message | null;
  conversationKind?: 'user' | 'group';
  /** Unread messages that mention this user; shown for groups (in a direct conversation every message does). */
  unreadMentions?: number;
  members?: number | null;
  group?: Group | null;
  /** An agent identity's owner (a direct conversation with `alice.claude`); null or absent for a person. */
  owner?: string | null;
  /** Trust in a user's keys; absent is `unverified`. `changed` marks the row: sends to them are blocked. */
  trust?: TrustState;
}

/** `alice.claude (agent of alice)`: an agent named with its owner, as the CLI names it; a person by name. */
export function senderName(name: string, owner: string | null | undefined, width = 64): string {
  return owner ? `${oneLine(name, width)} (agent of ${oneLine(owner, width)})` : oneLine(name, width);
}

/** The Inbox tree's icon for a conversation: a room, a mention, an agent (hubot), unread mail, a person. */
export function conversationIconId(c: Pick<ConversationSummary, 'conversationKind' | 'unread' | 'unreadMentions' | 'owner' | 'trust'>): string {
  if (c.conversationKind === 'group') return c.unreadMentions ? 'mention' : 'organization';
  // a changed key outranks the rest: sends to them are blocked until the person looks
  if (c.trust === 'changed') return 'warning';
  if (c.owner) return 'hubot';
  return c.unread ? 'mail' : 'account';
}

/** "3 members · 2 unread · 1 @you": what a group's row says before the time. */
function groupCounts(c: ConversationSummary): string[] {
  const parts: string[] = [];
  if (c.group && c.group.role === null) parts.push('left');
  else if (c.members != null) parts.push(plural(c.members, 'member'));
  if (c.unread) parts.push(`${c.unread} unread`);
  if (c.unreadMentions) parts.push(`${c.unreadMentions} @you`);
  return parts;
}

export function conversationItemText(c: ConversationSummary, now: number = Date.now()): ItemText {
  const when = c.last ? relativeTime(c.last.created_at, now) : '';
  const peer = oneLine(c.peer, 64);
  if (c.conversationKind === 'group') {
    const parts = [...groupCounts(c), ...(when ? [when] : [])];
    const who = c.group ? c.group.members.map((m) => `${senderName(m.user, m.owner)}${m.role === 'member' ? '' : ` (${m.role})`}`).join(', ') : '';
    return {
      label: peer,
      description: parts.join(' · '),
      tooltip:
        `Group ${peer}${c.group?.role === null ? ' (you left)' : ''}` +
        `\n${plural(c.total, 'message')}, ${c.unread} unread, ${c.unreadMentions ?? 0} mentioning you` +
        (who ? `\nMembers: ${who}` : c.members != null ? `\n${plural(c.members, 'member')}` : '') +
        (c.last ? `\nLast: ${absoluteTime(c.last.created_at)}\n${senderName(c.last.from, c.last.from_owner)}: ${inertText(c.last.body, 200)}` : ''),
    };
  }
  const agent = c.owner ? `agent of ${oneLine(c.owner, 64)}` : '';
  const trust = c.trust ?? 'unverified';
  return {
    label: peer,
    description: [trust === 'changed' ? 'keys changed' : '', agent, c.unread ? `${c.unread} unread` : '', when].filter(Boolean).join(' · '),
    tooltip: `${senderName(c.peer, c.owner)}${trust === 'unverified' ? '' : `\n${trustTooltipLine(trust)}`}\n${plural(c.total, 'message')}, ${c.unread} unread${c.last ? `\nLast: ${absoluteTime(c.last.created_at)}\n${inertText(c.last.body, 200)}` : ''}`,
  };
}

export function messageItemText(m: Message, now: number = Date.now()): ItemText {
  const unread = m.direction === 'in' && !m.read;
  const state = m.direction === 'out' && m.state !== 'sent' && m.state !== 'delivered' ? ` · ${m.state}` : '';
  const readBy = m.direction === 'out' && m.group !== null && m.receipts && m.receipts.total > 0 ? ` · read ${m.receipts.read}/${m.receipts.total}` : '';
  const who = m.direction === 'in' ? `From ${senderName(m.from, m.from_owner)}` : `To ${oneLine(m.to, 64)}`;
  const files = m.attachments ?? [];
  const count = files.length ? ` · ${filesCount(files.length)}` : '';
  // a message of files only is labelled by their names
  const label = oneLine(m.body, 80) || (files.length ? filesLine(files.map((a) => a.name)) : '') || '(empty)';
  const fileLines = files.map((a) => `${oneLine(a.name, 120)} (${fileTypeLabel(a.mime)}, ${formatSize(a.size)}, ${attachmentStateText(a)})`);
  return {
    label,
    description: `${m.direction === 'in' ? senderName(m.from, m.from_owner) : 'you'} · ${relativeTime(m.created_at, now)}${state}${readBy}${count}`,
    tooltip: `${who} · ${absoluteTime(m.created_at)} · ${m.state}${unread ? ' · unread' : ''}\n\n${inertText(m.body, 1000)}${fileLines.length ? `\n\nFiles:\n${fileLines.join('\n')}` : ''}`,
  };
}

/** The Inbox tree's icon for a message: its state first (unread, failed, queued), then a paperclip for one with files. */
export function messageIconId(m: Pick<Message, 'direction' | 'read' | 'state'> & { attachments?: readonly unknown[]; from_owner?: string }): string {
  if (m.direction === 'in') {
    if (!m.read) return 'circle-filled';
    if (m.attachments?.length) return 'paperclip';
    // From an agent identity (its owner is in the description): the robot, not the plain arrow.
    return m.from_owner ? 'hubot' : 'arrow-left';
  }
  if (m.state === 'failed') return 'error';
  if (m.state === 'queued') return 'watch';
  return m.attachments?.length ? 'paperclip' : 'arrow-right';
}

export function outboxItemText(it: OutboxItem, now: number = Date.now()): ItemText {
  const attempts = it.attempts ? ` · ${plural(it.attempts, 'attempt')}` : '';
  const to = oneLine(it.to, 64);
  return {
    label: `${to}: ${oneLine(it.body, 60) || '(empty)'}`,
    description: `${it.state === 'dead' ? 'failed' : it.state === 'expired' ? 'expired' : it.state === 'inflight' ? 'sending' : 'queued'} · ${relativeTime(it.created_at, now)}${attempts}`,
    tooltip: `To ${to} · ${it.state} · created ${absoluteTime(it.created_at)} · updated ${absoluteTime(it.updated_at)}${it.last_error ? `\nLast error: ${oneLine(it.last_error, 300)}` : ''}\n\n${inertText(it.body, 1000)}`,
  };
}

/** A quick pick row: VS Code renders links and `$(icon)` in all three fields. */
export interface PickText {
  label: string;
  description?: string;
  detail?: string;
}

export function replyPickText(m: Message, now: number = Date.now()): PickText {
  return { label: `${m.read ? '' : '$(circle-filled) '}${noLinks(oneLine(m.from, 40))}`, description: relativeTime(m.created_at, now), detail: noLinks(oneLine(m.body, 120)) };
}

export function conversationPickText(c: ConversationSummary, now: number = Date.now()): PickText {
  return {
    label: noLinks(oneLine(c.peer, 64)),
    description: `${c.unread ? `${c.unread} unread · ` : ''}${c.last ? relativeTime(c.last.created_at, now) : ''}`,
    ...(c.last ? { detail: noLinks(oneLine(c.last.body, 100)) } : {}),
  };
}

export function outboxPickText(i: OutboxItem, now: number = Date.now()): PickText {
  return {
    label: noLinks(`${oneLine(i.to, 64)}: ${oneLine(i.body, 60)}`),
    description: `${i.state === 'dead' ? 'failed' : i.state} · ${relativeTime(i.created_at, now)}`,
    ...(i.last_error ? { detail: noLinks(oneLine(i.last_error, 300)) } : {}),
  };
}

/** A group in a quick pick: `#name` and its member count. */
export function groupPickText(g: Pick<Group, 'name' | 'members' | 'unread'>): PickText {
  return { label: noLinks(`#${oneLine(g.name, 64)}`), description: `group · ${plural(g.members.length, 'member')}${g.unread ? ` · ${g.unread} unread` : ''}` };
}

export function peerPickText(p: Pick<Peer, 'name' | 'unread' | 'last_at'>, now: number = Date.now()): PickText {
  return { label: noLinks(oneLine(p.name, 64)), description: p.unread ? `${p.unread} unread` : '', ...(p.last_at ? { detail: `last message ${relativeTime(p.last_at, now)}` } : {}) };
}

/** The notification for a new message: sender (and the group) and a summary, never a link or an icon. */
export function messageNotice(m: Pick<Message, 'from' | 'body'> & Partial<Pick<Message, 'group'>>): string {
  const where = m.group ? ` in #${oneLine(m.group, 64)}` : '';
  return noLinks(`${oneLine(m.from, 40)}${where}: ${oneLine(m.body, 160)}`);
}

/** `switchboard.notifications`: what pops a notification for an incoming message. */
export type NotificationSetting = 'all' | 'mentions' | 'none';

/** The setting as read from the configuration; anything unknown is the default, `all`. */
export function notificationSetting(value: unknown): NotificationSetting {
  return value === 'mentions' || value === 'none' ? value : 'all';
}

/**
 * Whether an incoming message pops a notification under the setting: `mentions` lets through
 * the messages that name this user, and direct messages (the core's `mentions_me` counts them).
 */
export function notifies(setting: NotificationSetting, m: Pick<Message, 'direction' | 'read' | 'mentions_me'>): boolean {
  if (m.direction !== 'in' || m.read) return false;
  if (setting === 'none') return false;
  if (setting === 'mentions') return m.mentions_me;
  return true;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---- send verdicts ------------------------------------------------------------------------

export interface VerdictView {
  status: SendStatus;
  text: string;
  severity: 'info' | 'warning' | 'error';
}

/** What a send actually did, said plainly: never dress `queued` up as success. */
export function verdictText(result: { status: SendStatus; reason?: string | null; to?: string }): VerdictView {
  const to = result.to ? ` to ${oneLine(result.to, 64)}` : '';
  switch (result.status) {
    case 'sent':
      return { status: 'sent', text: `Sent${to}`, severity: 'info' };
    case 'duplicate':
      return { status: 'duplicate', text: `Sent${to} (an identical earlier send already went through)`, severity: 'info' };
    case 'queued':
      return { status: 'queued', text: `Queued — offline${result.reason ? ` (${oneLine(result.reason, 200)})` : ''}; it will be sent when the relay is reachable`, severity: 'warning' };
    case 'failed':
      return { status: 'failed', text: `Failed: ${result.reason ? oneLine(result.reason, 300) : 'the core gave no reason'}`, severity: 'error' };
  }
}

// ---- errors -------------------------------------------------------------------------------

/**
 * A group request's failure as one sentence: the relay's refusal (`GroupRefused`, with its
 * code) said as the relay said it, anything else as the error it was.
 */
export function groupErrorText(what: string, err: unknown): string {
  const e = (err && typeof err === 'object' ? err : {}) as { code?: unknown; data?: unknown };
  if (e.code === ErrorCodes.GroupRefused) {
    const data = (e.data && typeof e.data === 'object' ? e.data : {}) as { code?: unknown; retryable?: unknown };
    const code = typeof data.code === 'string' ? ` (${oneLine(data.code, 40)})` : '';
    const retry = data.retryable === true ? ' Try again in a moment.' : '';
    return `Switchboard: ${what} refused by the relay: ${errorText(err).replace(/\.$/, '')}${code}.${retry}`;
  }
  return `Switchboard: ${what} failed: ${errorText(err)}`;
}

/** One line from anything thrown: JSON-RPC errors, Node errors, strings. Never a stack. */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; code?: unknown };
    if (typeof e.message === 'string' && e.message) return oneLine(e.message, 400);
  }
  if (typeof err === 'string' && err) return oneLine(err, 400);
  return 'unknown error';
}

// ---- status -------------------------------------------------------------------------------

/** How the status bar shows a derived status (statusModel.ts decides what the status is). */
export interface StatusPresentation {
  kind: StatusKind;
  /** The state word shown after the icon ("online", "offline", "core unreachable"…). */
  label: string;
  icon: string;
  /** Status bar text, with codicon syntax. */
  text: string;
  /** Plain-text tooltip (one fact a line). */
  tooltip: string;
  /** For screen readers. */
  accessibility: string;
  /** Background: warning or error colours for states that need attention. */
  severity: 'none' | 'warning' | 'error';
}

const ICONS: Record<StatusKind, string> = {
  online: '$(pass)',
  syncing: '$(sync~spin)',
  offline: '$(debug-disconnect)',
  unauthorized: '$(key)',
  error: '$(error)',
};

export function formatStatus(status: Status, now: number = Date.now()): StatusPresentation {
  const { kind, label } = status;
  const icon = ICONS[kind];
  const counts: string[] = [];
  const spoken: string[] = [];
  if (status.unread > 0) {
    counts.push(`$(mail) ${status.unread}`);
    spoken.push(`${status.unread} unread`);
  }
  if (status.queued > 0) {
    counts.push(`$(arrow-up) ${status.queued}`);
    spoken.push(`${status.queued} queued`);
  }
  if (status.failed > 0) {
    counts.push(`$(warning) ${status.failed}`);
    spoken.push(`${status.failed} failed`);
  }
  const text = `${icon} Switchboard: ${label}${counts.length ? ` ${counts.join(' ')}` : ''}`;

  const lines: string[] = [`Switchboard — ${label}`];
  const s = status.sync;
  if (status.diskFull) lines.push(`Store: ${oneLine(status.diskFull, 300)}${status.store?.since ? ` since ${relativeTime(status.store.since, now)}` : ''}; nothing new is stored until there is space`);
  if (status.connected && s) {
    lines.push(`Relay: ${s.relay ? oneLine(s.relay, 200) : 'not configured'}${s.user ? ` as ${oneLine(s.user, 64)}` : ''}`);
    lines.push(`Relay link: ${s.state}${s.connected_since ? ` since ${relativeTime(s.connected_since, now)}` : ''}`);
    lines.push(`Last inbound message: ${relativeTime(s.last_inbound_at, now)}`);
    lines.push(`Last relay ack: ${relativeTime(s.last_ack_at, now)}`);
  }
  lines.push(`Unread: ${status.unread} · Queued: ${status.queued} · Failed: ${status.failed}`);
  const lastError = status.connected ? (s?.last_error ?? null) : status.phaseDetail;
  if (lastError) lines.push(`Last error: ${oneLine(lastError, 300)}`);
  if (status.phase === 'reconnecting' && status.retryInSeconds != null) lines.push(`Retrying in ${status.retryInSeconds}s`);
  if (status.core) lines.push(`Core: v${oneLine(status.core.version, 32)} (pid ${status.core.pid}) · ${oneLine(status.core.home, 200)}`);
  lines.push('Click for actions');

  const severity: StatusPresentation['severity'] = kind === 'error' || kind === 'unauthorized' ? 'error' : status.failed > 0 ? 'warning' : 'none';
  return {
    kind,
    label,
    icon,
    text,
    tooltip: lines.join('\n'),
    accessibility: `Switchboard: ${label}${spoken.length ? `, ${spoken.join(', ')}` : ''}`,
    severity,
  };
}

// ---- status bar quick actions ---------------------------------------------------------------

export interface ActionItem {
  command: RunnableCommand;
  label: string;
  detail?: string;
}

/** The actions worth offering from the status bar, most relevant first. */
export function statusActions(status: Status): ActionItem[] {
  const out: ActionItem[] = [];
  const connected = status.connected;
  const state = status.sync?.state;
  if (!connected) {
    out.push({ command: Commands.reconnect, label: '$(debug-restart) Reconnect', detail: status.phaseDetail ? noLinks(oneLine(status.phaseDetail, 200)) : 'Connect to the core, starting one if none runs' });
    out.push({ command: Commands.showLog, label: '$(output) Show Log' });
  }
  if (connected && (state === 'disabled' || state === 'unauthorized')) {
    out.push({ command: Commands.configure, label: '$(gear) Configure Relay…', detail: state === 'unauthorized' ? 'The relay refused the token: enter a new one' : 'Set the relay URL, user and token' });
  }
  if (connected) {
    out.push({ command: Commands.sendMessage, label: '$(send) Send Message…' });
    out.push({ command: Commands.openConversation, label: '$(comment-discussion) Open Conversation…' });
    if (status.unread > 0) out.push({ command: Commands.markAllRead, label: '$(mail-read) Mark All Read', detail: `${status.unread} unread` });
    if (status.queued > 0 || status.failed > 0) out.push({ command: focusViewCommand(Views.outbox), label: '$(cloud-upload) Show Outbox', detail: `${status.queued} queued, ${status.failed} failed` });
    if (state === 'offline' || state === 'error' || state === 'connecting') out.push({ command: Commands.reconnect, label: '$(debug-restart) Reconnect', detail: 'Ask the core to reconnect to the relay now' });
    if (state !== 'disabled' && state !== 'unauthorized') out.push({ command: Commands.configure, label: '$(gear) Configure Relay…' });
    out.push({ command: Commands.showLog, label: '$(output) Show Log' });
  } else {
    out.push({ command: Commands.configure, label: '$(gear) Configure Relay…' });
  }
  return out;
}
