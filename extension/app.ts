/**
 * Wires the connection, models, views, notifications and commands together. One per window.
 */
import * as vscode from 'vscode';
import type { CoreStatus, SyncStatus } from '../protocol/rpc';
import type { HostToWebview } from '../protocol/webview';
import { registerCommands } from './commands';
import { CoreConnection } from './connection';
import { ConversationPanels } from './conversationPanel';
import { errorText, messageNotice, plural, statusKind, type StatusInput } from './format';
import { oneLine } from '../lib/display';
import { InboxModel, type MessageNode } from './inboxModel';
import { Disposable } from './lifecycle';
import { onDidShowNotice, showInfo, showWarning } from './notices';
import { CoreLogTail } from './logTail';
import { OutboxModel } from './outboxModel';
import { RuntimeResolver } from './runtimeResolver';
import { StatusBar } from './statusBar';
import { INBOX_VIEW_ID, InboxTreeProvider, OUTBOX_VIEW_ID, OutboxTreeProvider } from './trees';

export const TOKEN_SECRET_KEY = 'switchboard.relay.token';

export class App extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly connection: CoreConnection;
  readonly inbox: InboxModel;
  readonly outbox: OutboxModel;
  readonly panels: ConversationPanels;
  readonly coreLog: CoreLogTail;
  readonly inboxView: vscode.TreeView<import('./inboxModel').InboxNode>;
  readonly outboxView: vscode.TreeView<import('./outboxModel').OutboxNode>;
  readonly inboxTree: InboxTreeProvider;
  readonly outboxTree: OutboxTreeProvider;
  /** Every notification as VS Code receives it. */
  readonly onDidShowNotice = onDidShowNotice;
  private readonly statusBar: StatusBar;
  /** Finds the Node that runs the core (the suite runs the relay and CLI with it too). */
  readonly runtimes: RuntimeResolver;
  sync: SyncStatus | null = null;
  core: CoreStatus | null = null;
  private backlog: { count: number; timer: ReturnType<typeof setTimeout> | undefined; last: MessageNode['message'] | undefined } = { count: 0, timer: undefined, last: undefined };

  constructor(readonly context: vscode.ExtensionContext) {
    super();
    this.log = this._register(vscode.window.createOutputChannel('Switchboard', { log: true }));
    this.runtimes = new RuntimeResolver(context, this.log);
    this.connection = this._register(new CoreConnection(context, this.log, this.runtimes));
    const rpc = () => (this.connection.connected ? this.connection : undefined);
    this.inbox = this._register(new InboxModel(rpc));
    this.outbox = this._register(new OutboxModel(rpc));
    this.coreLog = this._register(new CoreLogTail());

    this.inboxTree = this._register(new InboxTreeProvider(this.inbox));
    this.inboxView = this._register(vscode.window.createTreeView(INBOX_VIEW_ID, { treeDataProvider: this.inboxTree, showCollapseAll: true, canSelectMany: true }));
    this.outboxTree = this._register(new OutboxTreeProvider(this.outbox));
    this.outboxView = this._register(vscode.window.createTreeView(OUTBOX_VIEW_ID, { treeDataProvider: this.outboxTree }));

    this.statusBar = this._register(new StatusBar(() => this.statusInput()));
    this.panels = this._register(new ConversationPanels(context, this.connection, this.inbox, this.log, () => this.sync?.user ?? null, () => this.connectionMessage()));

    this._register(this.inbox.onDidChange(() => this.countsChanged()));
    this._register(this.outbox.onDidChange(() => this.countsChanged()));
    this._register(this.connection.onDidChangeState(() => this.stateChanged()));
    this._register(this.connection.onDidConnect((e) => void this.onConnected(e.resumed)));
    this._register(this.connection.onSyncStatus((s) => this.syncChanged(s)));
    this._register(
      this.connection.onMessageReceived((e) => {
        this.inbox.applyMessage(e.message, 'received');
        this.notify(e.message, e.backlog);
      }),
    );
    this._register(this.connection.onMessageUpdated((e) => this.inbox.applyMessage(e.message, 'updated')));
    this._register(this.connection.onOutboxChanged((e) => this.outbox.apply(e.item)));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('switchboard.home') || e.affectsConfiguration('switchboard.server.runtime')) {
          this.log.info('home or runtime setting changed: reconnecting');
          if (e.affectsConfiguration('switchboard.server.runtime')) this.runtimes.invalidate();
          if (e.affectsConfiguration('switchboard.home')) this.connection.forgetCursor();
          this.inbox.clear();
          this.outbox.clear();
          void this.connection.reconnect();
        }
      }),
    );
    this._register(registerCommands(this));
    this.stateChanged();
  }

  start(): void {
    this.connection.start();
  }

  statusInput(): StatusInput {
    const st = this.connection.current;
    const counts = this.outbox.counts();
    return {
      phase: st.phase,
      phaseDetail: st.detail,
      sync: this.sync,
      unread: this.inbox.isLoaded ? this.inbox.totalUnread : (this.core?.unread ?? 0),
      queued: counts.queued,
      failed: counts.failed,
      core: this.core ? { version: this.core.version, pid: this.core.pid, home: this.core.home } : null,
      retryInSeconds: st.retryInSeconds,
    };
  }

  connectionMessage(): HostToWebview {
    const input = this.statusInput();
    const { label } = statusKind(input);
    const connected = input.phase === 'connected';
    const detail = connected
      ? this.sync?.state === 'online'
        ? 'Online'
        : this.sync?.state === 'disabled'
          ? 'Not configured: messages you send are queued until you run "Switchboard: Configure Relay…"'
          : this.sync?.state === 'connecting'
            ? 'Connecting to the relay…'
            : `Relay ${label}: messages you send are queued and sent when it is reachable${this.sync?.last_error ? ` (${oneLine(this.sync.last_error, 120)})` : ''}`
      : `Switchboard core ${label}${input.phaseDetail ? `: ${oneLine(input.phaseDetail, 160)}` : ''}`;
    return { type: 'connection', connected, sync: connected ? (this.sync?.state ?? null) : null, detail };
  }

  private countsChanged(): void {
    const unread = this.inbox.totalUnread;
    this.inboxView.badge = unread > 0 ? { value: unread, tooltip: `${plural(unread, 'unread message')}` } : undefined;
    const { queued, failed } = this.outbox.counts();
    this.outboxView.badge = queued + failed > 0 ? { value: queued + failed, tooltip: `${queued} queued, ${failed} failed` } : undefined;
    this.statusBar.update();
  }

  private stateChanged(): void {
    const st = this.connection.current;
    void vscode.commands.executeCommand('setContext', 'switchboard.connection', st.phase === 'connected' ? 'connected' : st.phase === 'noRuntime' ? 'noRuntime' : st.phase === 'incompatible' ? 'incompatible' : st.phase === 'reconnecting' ? 'unreachable' : 'connecting');
    void vscode.commands.executeCommand('setContext', 'switchboard.connected', st.phase === 'connected');
    this.statusBar.update();
  }

  private syncChanged(s: SyncStatus): void {
    const prev = this.sync?.state;
    this.sync = s;
    void vscode.commands.executeCommand('setContext', 'switchboard.configured', s.state !== 'disabled');
    void vscode.commands.executeCommand('setContext', 'switchboard.syncState', s.state);
    if (prev && prev !== s.state) this.log.info(`relay link: ${prev} → ${s.state}${s.last_error ? ` (${oneLine(s.last_error, 300)})` : ''}`);
    if (s.state === 'unauthorized' && prev !== 'unauthorized') {
      void showWarning(`Switchboard: the relay refused the token for ${s.user ? oneLine(s.user, 64) : 'this user'}.`, 'Configure Relay…').then((p) => p && vscode.commands.executeCommand('switchboard.configure'));
    }
    this.statusBar.update();
    this.panels.broadcastConnection();
  }

  private async onConnected(resumed: boolean): Promise<void> {
    if (resumed) void vscode.window.setStatusBarMessage('$(pass) Switchboard: reconnected to the core', 4000);
    try {
      const status = await this.connection.request('status/get', {});
      this.core = status;
      this.syncChanged(status.sync);
      await this.applyStoredConfig(status.sync);
    } catch (err) {
      this.log.warn(`status/get failed: ${errorText(err)}`);
    }
    await Promise.all([this.inbox.refresh(), this.outbox.refresh()]).catch((err) => this.log.warn(`refresh failed: ${errorText(err)}`));
    this.countsChanged();
  }

  /** A core without relay config, and settings + a stored token here: hand them over. */
  private async applyStoredConfig(sync: SyncStatus): Promise<void> {
    if (sync.state !== 'disabled') return;
    const cfg = vscode.workspace.getConfiguration('switchboard');
    const relay = cfg.get<string>('relay.url', '').trim();
    const user = cfg.get<string>('relay.user', '').trim();
    const token = await this.context.secrets.get(TOKEN_SECRET_KEY);
    if (!relay || !user || !token) return;
    this.log.info(`the core has no relay configured: applying ${oneLine(relay, 200)} as ${oneLine(user, 64)} from settings`);
    try {
      this.syncChanged(await this.connection.request('config/set', { relay, user, token }));
    } catch (err) {
      this.log.warn(`config/set failed: ${errorText(err)}`);
    }
  }

  private notify(m: MessageNode['message'], backlog: boolean): void {
    if (m.direction !== 'in' || m.read) return;
    if (vscode.workspace.getConfiguration('switchboard').get<string>('notifications', 'all') === 'none') return;
    if (this.panels.isActive(m.conversation)) return;
    if (backlog) {
      // what arrived while this window was away: one summary, not a flood
      this.backlog.count++;
      this.backlog.last = m;
      this.backlog.timer ??= setTimeout(() => {
        const { count, last } = this.backlog;
        this.backlog = { count: 0, timer: undefined, last: undefined };
        if (count === 1 && last) this.showMessageNotification(last);
        else if (count > 1) void showInfo(`Switchboard: ${count} new messages`, 'Show Inbox').then((p) => p && vscode.commands.executeCommand(`${INBOX_VIEW_ID}.focus`));
      }, 1000);
      return;
    }
    this.showMessageNotification(m);
  }

  private showMessageNotification(m: MessageNode['message']): void {
    void showInfo(messageNotice(m), 'Reply', 'Open').then((pick) => {
      if (pick === 'Reply') void vscode.commands.executeCommand('switchboard.reply', { kind: 'message', peer: m.conversation, message: m } satisfies MessageNode);
      if (pick === 'Open') void vscode.commands.executeCommand('switchboard.openConversation', m.conversation);
    });
  }

  override dispose(): void {
    if (this.backlog.timer) clearTimeout(this.backlog.timer);
    super.dispose();
  }
}
