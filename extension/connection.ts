/**
 * The link to the core: one vscode-languageclient over the core's Unix socket (named pipe on
 * Windows). Finds a running core or starts one (detached, shared by every window and the
 * CLI), and when the core goes away reconnects — starting a new one if needed — without a
 * window reload. Exposes typed requests and the core's notifications as events.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, type LanguageClientOptions, type StreamInfo } from 'vscode-languageclient/node';
import type { Method, Notifications, ParamsOf, ResultOf, SubscribeResult } from '../protocol/rpc';
import { ErrorCodes, PROTOCOL_VERSION } from '../protocol/rpc';
import { homePaths, resolveHome } from '../lib/node/paths';
import { EventCursor, incompatibility, initializeAnswer, isDiskFull } from './coreStream';
import { errorText } from './format';
import { Disposable, Emitter } from './lifecycle';
import { onCoreNotification, request, type Rpc } from './rpcClient';
import type { ConnectionPhase } from './statusModel';
import { RuntimeResolver } from './runtimeResolver';
import { backoffMs, dial, DialError, startCore } from './spawn';
import { withTimeout } from '../lib/node/with-timeout';

export interface ConnectionState {
  phase: ConnectionPhase;
  detail: string | null;
  retryInSeconds: number | null;
  server: { name: string; version: string } | null;
}

export class CoreConnection extends Disposable implements Rpc {
  private client: LanguageClient | undefined;
  private state: ConnectionState = { phase: 'starting', detail: null, retryInSeconds: null, server: null };
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private countdown: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private readonly events = new EventCursor();
  private wasConnected = false;
  private stopped = false;

  private readonly _onDidChangeState = this._register(new Emitter<ConnectionState>());
  readonly onDidChangeState = this._onDidChangeState.event;
  /** Fired after each (re)connection, once events are subscribed. `resumed`: not the first. */
  private readonly _onDidConnect = this._register(new Emitter<{ resumed: boolean }>());
  readonly onDidConnect = this._onDidConnect.event;
  private readonly _onMessageReceived = this._register(new Emitter<Notifications['message/received'] & { backlog: boolean }>());
  readonly onMessageReceived = this._onMessageReceived.event;
  private readonly _onMessageUpdated = this._register(new Emitter<Notifications['message/updated']>());
  readonly onMessageUpdated = this._onMessageUpdated.event;
  private readonly _onOutboxChanged = this._register(new Emitter<Notifications['outbox/changed']>());
  readonly onOutboxChanged = this._onOutboxChanged.event;
  private readonly _onGroupChanged = this._register(new Emitter<Notifications['group/changed']>());
  readonly onGroupChanged = this._onGroupChanged.event;
  private readonly _onTransferProgress = this._register(new Emitter<Notifications['transfer/progress']>());
  /** A file's upload or download moved (not in the event log: no cursor). */
  readonly onTransferProgress = this._onTransferProgress.event;
  private readonly _onTrustChanged = this._register(new Emitter<Notifications['trust/changed']>());
  /** A peer's trust in the core's pins moved (not in the event log: `peers/list` on connecting is the record). */
  readonly onTrustChanged = this._onTrustChanged.event;
  private readonly _onSyncStatus = this._register(new Emitter<Notifications['sync/status']>());
  readonly onSyncStatus = this._onSyncStatus.event;
  /** A request was refused because the core's disk is full (error `DiskFull`): its store status changed. */
  private readonly _onDiskFull = this._register(new Emitter<Method>());
  readonly onDiskFull = this._onDiskFull.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly runtimes: RuntimeResolver,
  ) {
    super();
  }

  get current(): ConnectionState {
    return this.state;
  }

  get connected(): boolean {
    return this.state.phase === 'connected' && this.client?.isRunning() === true;
  }

  /** The home this window uses: `switchboard.home`, else SWITCHBOARD_HOME, else ~/.switchboard. */
  home(): string {
    const setting = vscode.workspace.getConfiguration('switchboard').get<string>('home')?.trim();
    return resolveHome(setting ? setting : undefined);
  }

  paths() {
    return homePaths(this.home());
  }

  start(): void {
    this.kick(0);
  }

  /** "Switchboard: Reconnect": drop the current link, forget backoff, connect (or spawn) now. */
  async reconnect(): Promise<void> {
    this.attempt = 0;
    this.runtimes.forgetFailure();
    await this.teardown();
    this.kick(0);
    await this.running;
  }

  async request<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const client = this.client;
    if (!client || this.state.phase !== 'connected') {
      throw new Error(this.state.phase === 'noRuntime' || this.state.phase === 'incompatible' ? (this.state.detail ?? 'the core is not available') : 'not connected to the Switchboard core (it is being restarted; try again in a moment)');
    }
    try {
      return await request(client, method, params);
    } catch (err) {
      if (isDiskFull(err)) this._onDiskFull.fire(method);
      throw err;
    }
  }

  private setState(patch: Partial<ConnectionState>): void {
    this.state = { ...this.state, ...patch };
    this._onDidChangeState.fire(this.state);
  }

  private kick(delayMs: number): void {
    if (this.stopped || this.isDisposed) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.countdown) clearInterval(this.countdown);
    this.timer = undefined;
    this.countdown = undefined;
    if (delayMs > 0) {
      const due = Date.now() + delayMs;
      this.setState({ retryInSeconds: Math.ceil(delayMs / 1000) });
      this.countdown = setInterval(() => this.setState({ retryInSeconds: Math.max(0, Math.ceil((due - Date.now()) / 1000)) }), 1000);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.countdown) clearInterval(this.countdown);
      this.countdown = undefined;
      if (!this.running) {
        this.running = this.connectOnce().finally(() => (this.running = undefined));
      }
    }, delayMs);
  }

  private scheduleRetry(phase: ConnectionPhase, detail: string): void {
    const delay = backoffMs(this.attempt++);
    this.log.warn(`core link: ${detail}; retrying in ${Math.round(delay / 100) / 10}s`);
    this.setState({ phase, detail, server: null });
    this.kick(delay);
  }

  private async connectOnce(): Promise<void> {
    const paths = this.paths();
    const cfg = vscode.workspace.getConfiguration('switchboard');
    this.setState({ phase: this.wasConnected ? 'reconnecting' : 'connecting', retryInSeconds: null });
    let socket;
    try {
      socket = await dial(paths.socket);
    } catch (err) {
      if (!(err instanceof DialError) || !err.noCore) return this.scheduleRetry('reconnecting', errorText(err));
      if (!cfg.get<boolean>('server.autoStart', true)) {
        return this.scheduleRetry('reconnecting', `no core is running for ${paths.home} and switchboard.server.autoStart is off (start one with "switchboard daemon start")`);
      }
      const spawned = await this.spawn(paths.home);
      if (!spawned) return;
      try {
        socket = await dial(paths.socket);
      } catch (err2) {
        return this.scheduleRetry('reconnecting', errorText(err2));
      }
    }
    if (this.stopped || this.isDisposed) {
      socket.destroy();
      return;
    }

    let first = true;
    const serverOptions = async (): Promise<StreamInfo> => {
      if (first) {
        first = false;
        return { reader: socket, writer: socket };
      }
      const s = await dial(paths.socket);
      return { reader: s, writer: s };
    };
    const ext = this.context.extension.packageJSON as { version?: string };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.log,
      revealOutputChannelOn: 4 /* RevealOutputChannelOn.Never */,
      initializationOptions: { client: { name: 'switchboard-vscode', version: ext.version ?? '0.0.0' }, protocol: PROTOCOL_VERSION },
      initializationFailedHandler: (error) => {
        this.log.error(`core refused initialize: ${errorText(error)}`);
        return false;
      },
      errorHandler: {
        error: (error) => {
          this.log.warn(`core link error: ${errorText(error)}`);
          return { action: ErrorAction.Continue, handled: true };
        },
        closed: () => {
          this.onClosed(client);
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient('switchboard', 'Switchboard Core', serverOptions, clientOptions);
    this.client = client;
    onCoreNotification(client, 'message/received', (e) => {
      if (this.client !== client) return;
      this.events.note(e.cursor);
      this._onMessageReceived.fire({ ...e, backlog: this.events.isBacklog(e.cursor) });
    });
    onCoreNotification(client, 'message/updated', (e) => {
      if (this.client !== client) return;
      this.events.note(e.cursor);
      this._onMessageUpdated.fire(e);
    });
    onCoreNotification(client, 'outbox/changed', (e) => {
      if (this.client !== client) return;
      this.events.note(e.cursor);
      this._onOutboxChanged.fire(e);
    });
    onCoreNotification(client, 'group/changed', (e) => {
      if (this.client !== client) return;
      this.events.note(e.cursor);
      this._onGroupChanged.fire(e);
    });
    onCoreNotification(client, 'transfer/progress', (p) => {
      if (this.client === client) this._onTransferProgress.fire(p);
    });
    onCoreNotification(client, 'trust/changed', (t) => {
      if (this.client === client) this._onTrustChanged.fire(t);
    });
    onCoreNotification(client, 'sync/status', (s) => {
      if (this.client === client) this._onSyncStatus.fire(s);
    });

    try {
      await withTimeout(client.start(), 15_000, 'the core\'s answer to initialize');
    } catch (err) {
      const msg = errorText(err);
      await this.drop(client);
      if (/protocol/i.test(msg)) {
        this.setState({ phase: 'incompatible', detail: `${msg}. Restart the core with "switchboard daemon restart".`, server: null });
        return;
      }
      return this.scheduleRetry('reconnecting', msg);
    }

    const init = initializeAnswer(client.initializeResult);
    const server = init?.server ?? init?.serverInfo ?? { name: 'switchboard', version: '?' };
    const detail = incompatibility(init);
    if (detail) {
      this.log.error(detail);
      await this.drop(client);
      this.setState({ phase: 'incompatible', detail, server });
      return;
    }

    try {
      this.events.resubscribing();
      const sub = await this.subscribe(client);
      this.events.subscribed(sub.cursor);
    } catch (err) {
      await this.drop(client);
      return this.scheduleRetry('reconnecting', `events/subscribe failed: ${errorText(err)}`);
    }

    const resumed = this.wasConnected;
    this.wasConnected = true;
    this.attempt = 0;
    this.log.info(`connected to core ${server.name} ${server.version} at ${paths.socket}${resumed ? ' (reconnected)' : ''}`);
    this.setState({ phase: 'connected', detail: null, retryInSeconds: null, server });
    this._onDidConnect.fire({ resumed });
  }

  /**
   * Resumes from our cursor. When the core has pruned the events after it, nothing can be
   * replayed: start from now; the reload every connection triggers is the resync.
   */
  private async subscribe(client: LanguageClient): Promise<SubscribeResult> {
    const params = this.events.subscribeParams();
    try {
      return await request(client, 'events/subscribe', params);
    } catch (err) {
      if (params.since === undefined || (err as { code?: unknown } | null)?.code !== ErrorCodes.CursorTooOld) throw err;
      this.log.warn(`events after cursor ${params.since} were pruned by the core; resyncing`);
      this.events.forget();
      return request(client, 'events/subscribe', {});
    }
  }

  private watcher: ReturnType<typeof setInterval> | undefined;

  /**
   * We cannot start a core here, but one may appear (started from a terminal or another
   * window): dial quietly every 15 s and connect when one answers.
   */
  private watchForCore(): void {
    if (this.watcher) return;
    this.watcher = setInterval(() => {
      if (this.state.phase !== 'noRuntime' || this.stopped) return this.unwatch();
      dial(this.paths().socket, 2000).then(
        (s) => {
          s.destroy();
          this.unwatch();
          this.log.info('a core appeared on the socket: connecting');
          this.kick(0);
        },
        () => undefined,
      );
    }, 15_000);
  }

  private unwatch(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
  }

  /** Another home: its event cursors mean nothing here. */
  forgetCursor(): void {
    this.events.forget();
  }

  /** Resolve a runtime and run `switchboard daemon start`; false when it failed (state set). */
  private async spawn(home: string): Promise<boolean> {
    this.setState({ phase: 'spawning', detail: null });
    const cliPath = join(this.context.extensionPath, 'dist', 'cli.js');
    if (!existsSync(cliPath)) {
      this.scheduleRetry('reconnecting', `the extension is incomplete: ${cliPath} is missing (run "npm run build")`);
      return false;
    }
    for (let round = 0; round < 2; round++) {
      const runtime = await this.runtimes.resolve();
      if (!runtime.ok) {
        this.setState({ phase: 'noRuntime', detail: runtime.advice, server: null });
        this.runtimes.reportFailure(runtime);
        this.watchForCore();
        return false;
      }
      const idle = vscode.workspace.getConfiguration('switchboard').get<number>('server.idleExitSeconds', 600);
      this.log.info(`starting a core for ${home} with ${runtime.runtime.path} (Node ${runtime.runtime.version}, idle exit ${idle}s)`);
      const r = await startCore({ runtime: runtime.runtime.path, cliPath, home, idleExitSeconds: idle });
      if (r.ok) return true;
      this.log.error(r.message);
      if (round === 0 && runtime.cached) {
        // the cached runtime may have been removed or upgraded: detect again once
        this.runtimes.invalidate();
        continue;
      }
      this.scheduleRetry('reconnecting', r.message);
      return false;
    }
    return false;
  }

  private onClosed(client: LanguageClient): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    this.log.warn('the core closed the connection');
    // the client cleans itself up after DoNotRestart; disposing it here only logs noise
    // reconnect at once: another window may have started a new core, or we start one
    this.setState({ phase: 'reconnecting', detail: 'the core went away', server: null });
    this.kick(this.attempt === 0 ? 200 : backoffMs(this.attempt));
    this.attempt++;
  }

  private async drop(client: LanguageClient): Promise<void> {
    if (this.client === client) this.client = undefined;
    try {
      await withTimeout(client.dispose(2000), 3000, 'stopping the language client');
    } catch {
      // already gone
    }
  }

  private async teardown(): Promise<void> {
    this.unwatch();
    if (this.timer) clearTimeout(this.timer);
    if (this.countdown) clearInterval(this.countdown);
    this.timer = undefined;
    this.countdown = undefined;
    await this.running?.catch(() => undefined);
    const c = this.client;
    if (c) await this.drop(c);
  }

  /** Ask the core to exit (`daemon/shutdown`) and stop reconnecting. Used by tests' clean-up. */
  async shutdownCore(): Promise<void> {
    this.stopped = true;
    const c = this.client;
    if (c && this.state.phase === 'connected') await request(c, 'daemon/shutdown', {}).catch(() => undefined);
    this.setState({ phase: 'stopped' });
    await this.teardown();
  }

  /** Leave politely (LSP shutdown + exit); the core keeps serving other windows and the CLI. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.setState({ phase: 'stopped' });
    await this.teardown();
  }

  override dispose(): void {
    void this.stop();
    super.dispose();
  }
}

