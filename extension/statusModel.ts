/**
 * The one status of this window: where its link to the core stands, what the core says about
 * its relay link (`sync/status`) and its store (`status/get` → `store`), and the counts. From
 * these sources it derives one `Status` — the kind and word the status bar shows, the sentence
 * the conversation banner shows, and the value of every context key (which switch the welcome
 * views) — and fires one change event that every surface subscribes to. No `vscode` import:
 * test/unit/extension-status-model.test.ts covers each derived state.
 */
import type { HostToWebview } from '../protocol/webview';
import type { StoreStatus, SyncState, SyncStatus } from '../protocol/rpc';
import { oneLine } from '../lib/display';
import { ContextKeys, type ConnectionContext, type ContextValues } from './contextKeys';
import { Emitter, type Event, type IDisposable } from './lifecycle';

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

/** The five states the status bar's icon tells apart. */
export type StatusKind = 'online' | 'syncing' | 'offline' | 'unauthorized' | 'error';

/** What the status is derived from. */
export interface StatusInput {
  phase: ConnectionPhase;
  /** Why the phase is what it is: the last connection error, spawn failure, etc. */
  phaseDetail: string | null;
  /** The core's relay link, as its last `sync/status` (or `status/get`) said; kept across reconnections. */
  sync: SyncStatus | null;
  /** The core's store, as its last `status/get` said. */
  store: StoreStatus | null;
  unread: number;
  /** Outbox items pending or in flight. */
  queued: number;
  /** Outbox items that gave up (dead). */
  failed: number;
  core: { version: string; pid: number; home: string } | null;
  /** Seconds until the next reconnect attempt, when reconnecting. */
  retryInSeconds?: number | null;
}

export interface Status extends StatusInput {
  kind: StatusKind;
  /** The state word shown after the icon ("online", "offline", "disk full", "core unreachable"…). */
  label: string;
  /** Connected to a core (phase `connected`). */
  connected: boolean;
  /** "disk full at <path>" while the connected core's store refuses writes for want of space, else null. */
  diskFull: string | null;
  /** What is wrong, for a person, in one sentence (the conversation banner); '' when nothing is. */
  detail: string;
  /** The value every context key should have. */
  context: ContextValues;
}

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

function kindOf(input: StatusInput, diskFull: string | null): { kind: StatusKind; label: string } {
  switch (input.phase) {
    case 'connected':
      // a store that cannot write outranks the relay link: nothing sent or received is kept
      if (diskFull) return { kind: 'error', label: 'disk full' };
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

function connectionContext(phase: ConnectionPhase): ConnectionContext {
  switch (phase) {
    case 'connected':
    case 'noRuntime':
    case 'incompatible':
      return phase;
    case 'reconnecting':
      return 'unreachable';
    case 'starting':
    case 'connecting':
    case 'spawning':
    case 'stopped':
      return 'connecting';
  }
}

function detailOf(input: StatusInput, label: string, diskFull: string | null): string {
  if (input.phase !== 'connected') return `Switchboard core ${label}${input.phaseDetail ? `: ${oneLine(input.phaseDetail, 160)}` : ''}`;
  if (diskFull) return `The disk is full (${oneLine(diskFull, 200)}): sends fail and arriving messages wait at the relay until there is space; it resumes by itself`;
  const s = input.sync;
  if (!s) return '';
  switch (s.state) {
    case 'online':
      return '';
    case 'disabled':
      return 'Not configured: messages you send are queued until you run "Switchboard: Configure Relay…"';
    case 'connecting':
      return 'Connecting to the relay…';
    case 'offline':
    case 'unauthorized':
    case 'error':
      return `Relay ${label}: messages you send are queued and sent when it is reachable${s.last_error ? ` (${oneLine(s.last_error, 120)})` : ''}`;
  }
}

/** The one derivation: every surface shows this, never its own reading of the sources. */
export function deriveStatus(input: StatusInput): Status {
  const connected = input.phase === 'connected';
  const diskFull = connected && input.store?.state === 'disk_full' ? (input.store.error ?? `disk full at ${input.store.path}`) : null;
  const { kind, label } = kindOf(input, diskFull);
  return {
    ...input,
    kind,
    label,
    connected,
    diskFull,
    detail: detailOf(input, label, diskFull),
    context: {
      [ContextKeys.connection]: connectionContext(input.phase),
      [ContextKeys.connected]: connected,
      [ContextKeys.configured]: input.sync !== null && input.sync.state !== 'disabled',
      [ContextKeys.syncState]: input.sync?.state,
    },
  };
}

/** The conversation webview's banner: shown whenever `detail` says something. */
export function connectionMessage(status: Status): Extract<HostToWebview, { type: 'connection' }> {
  return { type: 'connection', connected: status.connected, sync: status.connected ? (status.sync?.state ?? null) : null, detail: status.detail };
}

/** The status of a window that has tried nothing yet. */
export const INITIAL_STATUS_INPUT: StatusInput = { phase: 'starting', phaseDetail: null, sync: null, store: null, unread: 0, queued: 0, failed: 0, core: null, retryInSeconds: null };

/**
 * Holds the sources, derives the status, and fires `onDidChange` when the derived status
 * changed — once per change, whichever source moved (the status bar, the context keys and the
 * banner all subscribe here).
 */
export class StatusModel implements IDisposable {
  private input: StatusInput;
  private status: Status;
  private key: string;
  private readonly changed = new Emitter<Status>();
  readonly onDidChange: Event<Status> = this.changed.event;

  constructor(initial: StatusInput = INITIAL_STATUS_INPUT) {
    this.input = initial;
    this.status = deriveStatus(initial);
    this.key = JSON.stringify(this.status);
  }

  get current(): Status {
    return this.status;
  }

  /** Replace some sources; fires when the derived status differs from the last one. */
  update(patch: Partial<StatusInput>): void {
    this.input = { ...this.input, ...patch };
    const next = deriveStatus(this.input);
    const key = JSON.stringify(next);
    if (key === this.key) return;
    this.status = next;
    this.key = key;
    this.changed.fire(next);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
