/**
 * What the extension decides about the core it reaches, free of vscode so it is tested against
 * a real core: whether that core can serve this extension, and where this window is in the
 * core's event stream, so that resubscribing after a reconnect misses nothing and repeats nothing.
 */
import { ErrorCodes, PROTOCOL_VERSION, type InitializeResult, type Method } from '../protocol/rpc';

/** Methods this extension calls; a core that lacks one is reported as incompatible. */
export const REQUIRED_METHODS: Method[] = [
  'message/send',
  'message/markRead',
  'conversation/list',
  'conversation/messages',
  'outbox/list',
  'outbox/requeue',
  'outbox/abort',
  'peers/list',
  'status/get',
  'events/subscribe',
  'sync/reconnect',
  'config/set',
  'message/receipts',
  'group/list',
  'group/show',
  'group/create',
  'group/add',
  'group/leave',
  'settings/set',
];

/** Why the core that answered `initialize` with `init` cannot serve this extension; undefined when it can. */
export function incompatibility(init: Partial<InitializeResult> | undefined): string | undefined {
  const server = init?.server ?? init?.serverInfo ?? { name: 'switchboard', version: '?' };
  const methods = new Set(init?.methods ?? []);
  const missing = init?.methods ? REQUIRED_METHODS.filter((m) => !methods.has(m)) : [];
  if (missing.length === 0 && !(typeof init?.protocol === 'number' && init.protocol < PROTOCOL_VERSION)) return undefined;
  return `the running core is version ${server.version} (protocol ${init?.protocol ?? '?'}) and lacks ${missing.length ? missing.join(', ') : `protocol ${PROTOCOL_VERSION}`}; restart it with "switchboard daemon restart"`;
}

/**
 * The fields of an `initialize` answer this extension reads, taken only where they have the
 * right type: the language client hands the answer over typed as LSP's, not ours.
 */
export function initializeAnswer(raw: unknown): Partial<InitializeResult> | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const out: Partial<InitializeResult> = {};
  const named = (v: unknown): { name: string; version: string } | undefined =>
    v && typeof v === 'object' && 'name' in v && 'version' in v && typeof v.name === 'string' && typeof v.version === 'string' ? { name: v.name, version: v.version } : undefined;
  const server = 'server' in raw ? named(raw.server) : undefined;
  const serverInfo = 'serverInfo' in raw ? named(raw.serverInfo) : undefined;
  if (server) out.server = server;
  if (serverInfo) out.serverInfo = serverInfo;
  if ('protocol' in raw && typeof raw.protocol === 'number') out.protocol = raw.protocol;
  if ('methods' in raw && Array.isArray(raw.methods)) out.methods = raw.methods.filter((m): m is string => typeof m === 'string');
  return out;
}

/** Whether the core refused a request because the disk holding its store is full (error `DiskFull`). */
export function isDiskFull(err: unknown): boolean {
  return !!err && typeof err === 'object' && 'code' in err && err.code === ErrorCodes.DiskFull;
}

/** This window's place in the core's event stream, kept across reconnections. */
export class EventCursor {
  private cursor: number | undefined;
  private backlogUntil: number | undefined;

  /** Params for `events/subscribe`: from where this window left off, or from now. */
  subscribeParams(): { since?: number } {
    return this.cursor === undefined ? {} : { since: this.cursor };
  }

  /** About to resubscribe: nothing is backlog until the core answers. */
  resubscribing(): void {
    this.backlogUntil = undefined;
  }

  /** The core answered `events/subscribe` with `cursor`: events up to it are the backlog. */
  subscribed(cursor: number): void {
    this.backlogUntil = cursor;
    this.note(cursor);
  }

  /** An event with `cursor` arrived. */
  note(cursor: number): void {
    if (typeof cursor === 'number' && (this.cursor === undefined || cursor > this.cursor)) this.cursor = cursor;
  }

  /** Whether an event is part of the backlog replayed at subscription (no toast for those). */
  isBacklog(cursor: number): boolean {
    return this.backlogUntil !== undefined && cursor <= this.backlogUntil;
  }

  /** Another home: its cursors mean nothing here. */
  forget(): void {
    this.cursor = undefined;
  }
}
