/**
 * The method table. Validates params against the protocol schemas, then calls the service.
 * Used by socket connections and by the CLI's direct mode alike, so a verb fails the same
 * way whichever path runs it.
 */
import {
  ErrorCodes,
  MIN_CLIENT_PROTOCOL_VERSION,
  NOTIFICATIONS,
  PROTOCOL_VERSION,
  type CoreStatus,
  type InitializeParams,
  type InitializeResult,
  type Method,
  type Notifications,
  type ParamsOf,
  type Requests,
  type ResultOf,
} from '../../protocol/rpc';
import { paramSchemas, parseParams } from '../../protocol/rpc-schemas';
import { CoreError, diskFull } from '../errors';
import { DiskFullError } from '../../lib/node/storage-errors';
import type { EventHub, Subscriber } from '../events';
import type { CoreService } from '../service';
import { VERSION } from '../version';

/** One client's side of the conversation: whether it said hello, and how to reach it. */
export interface Session extends Subscriber {
  initialized: boolean;
  /** Set when the client asked to leave (LSP `shutdown`). */
  leaving: boolean;
}

export interface CoreContext {
  pid: number;
  home: string;
  socket: string | null;
  since: string;
  clients(): number;
  /** Answers first, then stops the core. */
  requestShutdown(): void;
}

type Handler<M extends Method> = (params: ParamsOf<M>, session: Session) => ResultOf<M> | Promise<ResultOf<M>>;

export const METHODS = Object.keys(paramSchemas) as Method[];

export class Dispatcher {
  private readonly handlers: { [M in Method]: Handler<M> };

  constructor(
    private readonly service: CoreService,
    private readonly hub: EventHub,
    private readonly context: CoreContext,
  ) {
    const s = service;
    this.handlers = {
      initialize: (p, session) => this.initialize(p, session),
      'message/send': (p) => s.send(p),
      'message/get': (p) => s.get(p.id),
      'message/markRead': (p) => s.markRead(p),
      'message/receipts': (p) => s.receipts(p.id),
      'inbox/list': (p) => s.inbox(p),
      'conversation/list': () => s.conversations(),
      'conversation/messages': (p) => s.conversationMessages(p),
      search: (p) => s.search(p),
      'outbox/list': (p) => s.outbox(p),
      'outbox/requeue': (p) => s.requeue(p.id),
      'outbox/abort': (p) => s.abort(p.id),
      'peers/list': () => s.peers(),
      'status/get': () => this.status(),
      'events/subscribe': (p, session) => ({ cursor: this.hub.subscribe(session, p.since) }),
      'sync/reconnect': () => s.reconnect(),
      'config/set': (p) => s.configure(p),
      'daemon/shutdown': () => {
        this.context.requestShutdown();
        return { ok: true as const };
      },
      'group/create': (p) => s.groups.create(p),
      'group/add': (p) => s.groups.add(p),
      'group/remove': (p) => s.groups.remove(p),
      'group/leave': (p) => s.groups.leave(p),
      'group/rename': (p) => s.groups.rename(p),
      'group/role': (p) => s.groups.role(p),
      'group/show': (p) => s.groups.show(p),
      'group/list': () => s.groups.list(),
      'agent/create': (p) => s.agents.create(p),
      'agent/list': () => s.agents.list(),
      'agent/revoke': (p) => s.agents.revoke(p),
      'trust/show': (p) => s.trust.show(p),
      'trust/confirm': (p) => s.trust.confirm(p),
      'trust/accept': (p) => s.trust.acceptChange(p),
      'settings/get': () => s.settings(),
      'settings/set': (p) => s.setSettings(p),
      'attachment/download': (p) => s.downloadAttachments(p),
      shutdown: (_p, session) => {
        session.leaving = true;
        return null;
      },
    };
  }

  /**
   * Runs one request. Params are validated whatever their static type (a socket's are raw
   * JSON); a method of `Requests` answers with its `ResultOf`, as its handler is typed to.
   */
  dispatch<M extends Method>(method: M, rawParams: ParamsOf<M>, session: Session): Promise<ResultOf<M>>;
  dispatch(method: string, rawParams: unknown, session: Session): Promise<unknown>;
  async dispatch(method: string, rawParams: unknown, session: Session): Promise<unknown> {
    if (!isMethod(method)) {
      throw new CoreError(ErrorCodes.MethodNotFound, `unknown method "${method}" (this core, version ${VERSION}, serves: ${METHODS.join(', ')})`, {
        kind: 'invalid_params',
      });
    }
    if (!session.initialized && method !== 'initialize') {
      throw new CoreError(ErrorCodes.NotInitialized, `send "initialize" before "${method}"`, { kind: 'protocol' });
    }
    const parsed = parseParams(method, rawParams);
    if (!parsed.ok) throw new CoreError(ErrorCodes.InvalidParams, `invalid params for ${method}: ${parsed.error}`, { kind: 'invalid_params' });
    try {
      return await this.run(method, parsed.value, session);
    } catch (error) {
      if (error instanceof DiskFullError) throw diskFull(error);
      throw error;
    }
  }

  private run<M extends Method>(method: M, params: ParamsOf<M>, session: Session): ResultOf<M> | Promise<ResultOf<M>> {
    const handler: Handler<M> = this.handlers[method];
    return handler(params, session);
  }

  private initialize(p: InitializeParams, session: Session): InitializeResult {
    const protocol = p.protocol ?? p.initializationOptions?.protocol;
    if (protocol === undefined) {
      throw new CoreError(ErrorCodes.ProtocolVersion, `initialize must give the client's protocol version (this core speaks ${PROTOCOL_VERSION})`, { kind: 'protocol' });
    }
    if (protocol < MIN_CLIENT_PROTOCOL_VERSION) {
      throw new CoreError(
        ErrorCodes.ProtocolVersion,
        `this client speaks protocol ${protocol}, which the core (version ${VERSION}) no longer serves (oldest: ${MIN_CLIENT_PROTOCOL_VERSION}); upgrade the client`,
        { kind: 'protocol' },
      );
    }
    if (protocol > PROTOCOL_VERSION) {
      throw new CoreError(
        ErrorCodes.ProtocolVersion,
        `the running core is version ${VERSION} (protocol ${PROTOCOL_VERSION}), older than this client (protocol ${protocol}); restart it with \`switchboard daemon restart\``,
        { kind: 'protocol' },
      );
    }
    session.initialized = true;
    const server = { name: 'switchboard-core', version: VERSION };
    return { server, serverInfo: server, protocol: PROTOCOL_VERSION, methods: [...METHODS], notifications: [...NOTIFICATIONS], capabilities: {} };
  }

  private status(): CoreStatus {
    const repo = this.service.repo;
    return {
      version: VERSION,
      protocol: PROTOCOL_VERSION,
      pid: this.context.pid,
      home: this.context.home,
      socket: this.context.socket,
      since: this.context.since,
      clients: this.context.clients(),
      messages: repo.messageTotal(),
      unread: repo.unreadTotal(),
      outbox: repo.outboxCounts(),
      store: this.service.storeStatus(),
      sync: this.service.syncStatus(),
    };
  }
}

function isMethod(method: string): method is Method {
  return Object.prototype.hasOwnProperty.call(paramSchemas, method);
}

export type { Notifications, Requests };
