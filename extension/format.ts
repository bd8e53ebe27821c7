/**
 * Pure formatting for the status bar, trees, notifications and the webview. No `vscode`, no
 * DOM and no Node imports: the webview bundle and the unit tests use it too.
 */
import type { SendStatus, SyncState, SyncStatus } from '../protocol/rpc';

// ---- times --------------------------------------------------------------------------------

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5m ago", "3h ago", "yesterday", "4d ago", then the date. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const delta = now - t;
  if (delta < 45_000) return 'just now'; // includes small clock skew into the future
  if (delta < HOUR) return `${Math.max(1, Math.round(delta / MINUTE))}m ago`;
  if (delta < DAY) return `${Math.floor(delta / HOUR)}h ago`;
  if (delta < 2 * DAY) return 'yesterday';
  if (delta < 7 * DAY) return `${Math.floor(delta / DAY)}d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** A local, unambiguous timestamp for tooltips: "2026-11-24 14:03:09". */
export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ---- text ---------------------------------------------------------------------------------

// C0/C1 controls and bidi overrides: peer text must not reorder or hide what surrounds it.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** One line for a tree label or notification: controls removed, whitespace collapsed, capped. */
export function oneLine(text: string, max = 80): string {
  const flat = text.replace(CONTROL, '').replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${flat.slice(0, Math.max(1, max - 1)).trimEnd()}…`;
}

/** Peer text for multi-line display: controls removed, newlines and tabs kept. */
export function inertText(text: string): string {
  return text.replace(CONTROL, '');
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
  const to = result.to ? ` to ${result.to}` : '';
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

/** Where the extension's link to the core stands (independent of the core's link to the relay). */
export type ConnectionPhase =
  | 'starting' // activation, nothing tried yet
  | 'connecting' // dialling the socket
  | 'spawning' // no core answered; starting one
  | 'connected'
  | 'reconnecting' // the core went away; retrying (with backoff), spawning if needed
  | 'noRuntime' // no Node that can load better-sqlite3
  | 'incompatible' // the core speaks another protocol version or lacks methods
  | 'stopped'; // extension deactivating

/** The five states the status bar shows. */
export type StatusKind = 'online' | 'syncing' | 'offline' | 'unauthorized' | 'error';

export interface StatusInput {
  phase: ConnectionPhase;
  /** Why the phase is what it is: the last connection error, spawn failure, etc. */
  phaseDetail: string | null;
  sync: SyncStatus | null;
  unread: number;
  /** Outbox items pending or in flight. */
  queued: number;
  /** Outbox items that gave up (dead). */
  failed: number;
  core: { version: string; pid: number; home: string } | null;
  /** Seconds until the next reconnect attempt, when reconnecting. */
  retryInSeconds?: number | null;
}

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

function syncKind(state: SyncState, queued: number): { kind: StatusKind; label: string } {
  switch (state) {
    case 'online':
      return queued > 0 ? { kind: 'syncing', label: 'syncing' } : { kind: 'online', label: 'online' };
    case 'connecting':
      return { kind: 'syncing', label: 'syncing' };
    case 'offline':
      return { kind: 'offline', label: 'offline' };
    case 'disabled':
      return { kind: 'offline', label: 'not configured' };
    case 'unauthorized':
      return { kind: 'unauthorized', label: 'unauthorized' };
    case 'error':
      return { kind: 'error', label: 'error' };
  }
}

export function statusKind(input: StatusInput): { kind: StatusKind; label: string } {
  switch (input.phase) {
    case 'connected':
      return input.sync ? syncKind(input.sync.state, input.queued) : { kind: 'syncing', label: 'syncing' };
    case 'starting':
    case 'connecting':
      return { kind: 'syncing', label: 'connecting to core' };
    case 'spawning':
      return { kind: 'syncing', label: 'starting core' };
    case 'reconnecting':
      return { kind: 'error', label: 'core unreachable' };
    case 'noRuntime':
      return { kind: 'error', label: 'no usable Node runtime' };
    case 'incompatible':
      return { kind: 'error', label: 'core incompatible' };
    case 'stopped':
      return { kind: 'offline', label: 'stopped' };
  }
}

export function formatStatus(input: StatusInput, now: number = Date.now()): StatusPresentation {
  const { kind, label } = statusKind(input);
  const icon = ICONS[kind];
  const counts: string[] = [];
  const spoken: string[] = [];
  if (input.unread > 0) {
    counts.push(`$(mail) ${input.unread}`);
    spoken.push(`${input.unread} unread`);
  }
  if (input.queued > 0) {
    counts.push(`$(arrow-up) ${input.queued}`);
    spoken.push(`${input.queued} queued`);
  }
  if (input.failed > 0) {
    counts.push(`$(warning) ${input.failed}`);
    spoken.push(`${input.failed} failed`);
  }
  const text = `${icon} Switchboard: ${label}${counts.length ? ` ${counts.join(' ')}` : ''}`;

  const lines: string[] = [`Switchboard — ${label}`];
  const s = input.sync;
  if (input.phase === 'connected' && s) {
    lines.push(`Relay: ${s.relay ?? 'not configured'}${s.user ? ` as ${s.user}` : ''}`);
    lines.push(`Relay link: ${s.state}${s.connected_since ? ` since ${relativeTime(s.connected_since, now)}` : ''}`);
    lines.push(`Last inbound message: ${relativeTime(s.last_inbound_at, now)}`);
    lines.push(`Last relay ack: ${relativeTime(s.last_ack_at, now)}`);
  }
  lines.push(`Unread: ${input.unread} · Queued: ${input.queued} · Failed: ${input.failed}`);
  const lastError = input.phase === 'connected' ? (s?.last_error ?? null) : input.phaseDetail;
  if (lastError) lines.push(`Last error: ${oneLine(lastError, 300)}`);
  if (input.phase === 'reconnecting' && input.retryInSeconds != null) lines.push(`Retrying in ${input.retryInSeconds}s`);
  if (input.core) lines.push(`Core: v${input.core.version} (pid ${input.core.pid}) · ${input.core.home}`);
  lines.push('Click for actions');

  const severity: StatusPresentation['severity'] = kind === 'error' || kind === 'unauthorized' ? 'error' : input.failed > 0 ? 'warning' : 'none';
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
  command: string;
  label: string;
  detail?: string;
}

/** The actions worth offering from the status bar, most relevant first. */
export function statusActions(input: StatusInput): ActionItem[] {
  const out: ActionItem[] = [];
  const connected = input.phase === 'connected';
  const state = input.sync?.state;
  if (!connected) {
    out.push({ command: 'switchboard.reconnect', label: '$(debug-restart) Reconnect', detail: input.phaseDetail ?? 'Connect to the core, starting one if none runs' });
    out.push({ command: 'switchboard.showLog', label: '$(output) Show Log' });
  }
  if (connected && (state === 'disabled' || state === 'unauthorized')) {
    out.push({ command: 'switchboard.configure', label: '$(gear) Configure Relay…', detail: state === 'unauthorized' ? 'The relay refused the token: enter a new one' : 'Set the relay URL, user and token' });
  }
  if (connected) {
    out.push({ command: 'switchboard.sendMessage', label: '$(send) Send Message…' });
    out.push({ command: 'switchboard.openConversation', label: '$(comment-discussion) Open Conversation…' });
    if (input.unread > 0) out.push({ command: 'switchboard.markAllRead', label: '$(mail-read) Mark All Read', detail: `${input.unread} unread` });
    if (input.queued > 0 || input.failed > 0) out.push({ command: 'switchboard.outbox.focus', label: '$(cloud-upload) Show Outbox', detail: `${input.queued} queued, ${input.failed} failed` });
    if (state === 'offline' || state === 'error' || state === 'connecting') out.push({ command: 'switchboard.reconnect', label: '$(debug-restart) Reconnect', detail: 'Ask the core to reconnect to the relay now' });
    if (state !== 'disabled' && state !== 'unauthorized') out.push({ command: 'switchboard.configure', label: '$(gear) Configure Relay…' });
    out.push({ command: 'switchboard.showLog', label: '$(output) Show Log' });
  } else {
    out.push({ command: 'switchboard.configure', label: '$(gear) Configure Relay…' });
  }
  return out;
}
