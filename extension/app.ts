/**
 * Wires the connection, models, views, notifications and commands together. One per window.
 * Every source of status (the link to the core, the core's sync and store status, the counts)
 * goes into one StatusModel; the status bar, the context keys (so the welcome views) and the
 * conversation banner each subscribe to its one change event.
 */
import * as vscode from 'vscode';
import type { CoreStatus, SyncStatus } from '../protocol/rpc';
import type { CommandHost } from './commandHost';
import { registerCommands, runCommand } from './commands';
import { registerCodeCommands } from './codeCommands';
import { CoreConnection } from './connection';
import { CoreStatusFeed } from './coreStatusFeed';
import { ContextKeySync } from './contextKeySync';
import { ConversationPanels } from './conversationPanel';
import { errorText, messageNotice, notificationSetting, notifies, plural } from './format';
import { oneLine } from '../lib/display';
import { Commands, focusViewCommand, TOKEN_SECRET_KEY, Views } from './ids';
import { InboxModel, type InboxNode, type MessageNode } from './inboxModel';
import { Disposable } from './lifecycle';
import { onDidShowNotice, showInfo, showWarning } from './notices';
import { CoreLogTail } from './logTail';
import { OutboxModel, type OutboxNode } from './outboxModel';
import { RuntimeResolver } from './runtimeResolver';
import { StatusBar } from './statusBar';
import { StatusModel } from './statusModel';
import { InboxTreeProvider, OutboxTreeProvider } from './trees';
import { McpProvider } from './mcpProvider';

export class App extends Disposable implements CommandHost {
  readonly log: vscode.LogOutputChannel;
  readonly connection: CoreConnection;
  readonly inbox: InboxModel;
  readonly outbox: OutboxModel;
  readonly panels: ConversationPanels;
  readonly coreLog: CoreLogTail;
  readonly inboxView: vscode.TreeView<InboxNode>;
  readonly outboxView: vscode.TreeView<OutboxNode>;
  readonly inboxTree: InboxTreeProvider;
  readonly outboxTree: OutboxTreeProvider;
  /** This window's one status: what the status bar, context keys and banner show. */
  readonly status: StatusModel;
  /** Every notification as VS Code receives it. */
  readonly onDidShowNotice = onDidShowNotice;
  /** Finds the Node that runs the core (the suite runs the relay and CLI with it too). */
  readonly runtimes: RuntimeResolver;
  /** Switchboard's MCP server for VS Code's agent mode (the suite starts what it defines). */
  readonly mcp: McpProvider;
  /** The core's unread count, until the inbox has loaded its own. */
  private coreUnread = 0;
  /** Asks `status/get` when the core's store may have filled or freed up (the core sends no notice). */
  private readonly coreStatus: CoreStatusFeed;
  private backlog: { count: number; timer: ReturnType<typeof setTimeout> | undefined; last: MessageNode['message'] | undefined } = { count: 0, timer: undefined, last: undefined };

  constructor(readonly context: vscode.ExtensionContext) {
    super();
    this.log = this._register(vscode.window.createOutputChannel('Switchboard', { log: true }));
    this.runtimes = new RuntimeResolver(context, this.log);
    this.status = this._register(new StatusModel());
    this.connection = this._register(new CoreConnection(context, this.log, this.runtimes));
    const rpc = () => (this.connection.connected ? this.connection : undefined);
    this.inbox = this._register(new InboxModel(rpc));
    this.outbox = this._register(new OutboxModel(rpc));
    this.coreLog = this._register(new CoreLogTail());

    this.inboxTree = this._register(new InboxTreeProvider(this.inbox));
    this.inboxView = this._register(vscode.window.createTreeView(Views.inbox, { treeDataProvider: this.inboxTree, showCollapseAll: true, canSelectMany: true }));
    this.outboxTree = this._register(new OutboxTreeProvider(this.outbox));
    this.outboxView = this._register(vscode.window.createTreeView(Views.outbox, { treeDataProvider: this.outboxTree }));

    this._register(new StatusBar(this.status));
    this._register(new ContextKeySync(this.status));
    this.panels = this._register(new ConversationPanels(context, this.connection, this.inbox, this.log, this.status));
    this.coreStatus = this._register(new CoreStatusFeed(rpc, (s) => this.coreStatusChanged(s), (err) => this.log.warn(`status/get failed: ${errorText(err)}`)));
    this._register(this.status.onDidChange((s) => this.coreStatus.watch(s.diskFull !== null)));

    this._register(this.inbox.onDidChange(() => this.countsChanged()));
    this._register(this.outbox.onDidChange(() => this.countsChanged()));
    this._register(this.connection.onDidChangeState((st) => this.status.update({ phase: st.phase, phaseDetail: st.detail, retryInSeconds: st.retryInSeconds })));
    this._register(this.connection.onDidConnect((e) => void this.onConnected(e.resumed)));
    this._register(
      this.connection.onSyncStatus((s) => {
        const prev = this.status.current.sync;
        this.syncChanged(s);
        // a link that failed or came back may be the store filling or freeing up: ask
        if (prev && (prev.state !== s.state || prev.last_error !== s.last_error)) void this.coreStatus.refresh();
      }),
    );
    this._register(this.connection.onDiskFull(() => void this.coreStatus.refresh()));
    this._register(
      this.connection.onMessageReceived((e) => {
        this.inbox.applyMessage(e.message, 'received');
        this.notify(e.message, e.backlog);
      }),
    );
    this._register(this.connection.onMessageUpdated((e) => this.inbox.applyMessage(e.message, 'updated')));
    this._register(this.connection.onOutboxChanged((e) => this.outbox.apply(e.item)));
    this._register(this.connection.onGroupChanged((e) => this.inbox.applyGroup(e.group)));
    // the core found a changed key, or it was accepted or verified (here, in another window, by the CLI)
    this._register(this.connection.onTrustChanged((t) => this.inbox.applyTrust(t.user, t.trust)));
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
        if (e.affectsConfiguration('switchboard.receipts.read')) void this.pushSettings();
      }),
    );
    this._register(registerCommands(this));
    // After the configuration handler above, so a changed runtime setting is forgotten before agent mode asks again.
    this.mcp = this._register(new McpProvider(context, this.log, this.runtimes, () => this.connection.home(), (listener) => this.connection.onDidConnect(listener)));
    this._register(registerCodeCommands(this));
    const st = this.connection.current;
    this.status.update({ phase: st.phase, phaseDetail: st.detail, retryInSeconds: st.retryInSeconds });
  }

  start(): void {
    this.connection.start();
  }

  private countsChanged(): void {
    const unread = this.inbox.totalUnread;
    const mentions = this.inbox.totalUnreadMentions;
    this.inboxView.badge = unread > 0 ? { value: unread, tooltip: `${plural(unread, 'unread message')}${mentions ? `, ${mentions} mentioning you` : ''}` } : undefined;
    const { queued, failed } = this.outbox.counts();
    this.outboxView.badge = queued + failed > 0 ? { value: queued + failed, tooltip: `${queued} queued, ${failed} failed` } : undefined;
    this.status.update({ unread: this.inbox.isLoaded ? unread : this.coreUnread, queued, failed });
  }

  private syncChanged(s: SyncStatus): void {
    const prev = this.status.current.sync?.state;
    this.status.update({ sync: s });
    if (prev && prev !== s.state) this.log.info(`relay link: ${prev} → ${s.state}${s.last_error ? ` (${oneLine(s.last_error, 300)})` : ''}`);
    if (s.state === 'unauthorized' && prev !== 'unauthorized') {
      void showWarning(`Switchboard: the relay refused the token for ${s.user ? oneLine(s.user, 64) : 'this user'}.`, 'Configure Relay…').then((p) => p && runCommand(Commands.configure));
    }
  }

  /** What `status/get` said: the core, its store, its relay link, its unread count. */
  private coreStatusChanged(status: CoreStatus): void {
    const wasFull = this.status.current.store?.state === 'disk_full';
    this.coreUnread = status.unread;
    this.status.update({ core: { version: status.version, pid: status.pid, home: status.home }, store: status.store });
    if (!wasFull && status.store.state === 'disk_full') this.log.warn(`the core's store refuses writes: ${oneLine(status.store.error ?? status.store.path, 300)}`);
    if (wasFull && status.store.state === 'ok') this.log.info('the core\'s store accepts writes again');
    this.syncChanged(status.sync);
    this.countsChanged();
  }

  private async onConnected(resumed: boolean): Promise<void> {
    if (resumed) void vscode.window.setStatusBarMessage('$(pass) Switchboard: reconnected to the core', 4000);
    try {
      const status = await this.connection.request('status/get', {});
      this.coreStatusChanged(status);
      await this.applyStoredConfig(status.sync);
    } catch (err) {
      this.log.warn(`status/get failed: ${errorText(err)}`);
    }
    await this.pushSettings();
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

  /**
   * This user's choices the core keeps (read receipts): the core is told on every connection
   * and on every change, so a core started elsewhere (the CLI) follows this window's setting.
   */
  private async pushSettings(): Promise<void> {
    if (!this.connection.connected) return;
    const receiptsRead = vscode.workspace.getConfiguration('switchboard').get<boolean>('receipts.read', true) !== false;
    try {
      const s = await this.connection.request('settings/set', { receipts_read: receiptsRead });
      this.log.info(`read receipts ${s.receipts_read ? 'on' : 'off'}`);
    } catch (err) {
      this.log.warn(`settings/set failed: ${errorText(err)}`);
    }
  }

  private notify(m: MessageNode['message'], backlog: boolean): void {
    if (!notifies(notificationSetting(vscode.workspace.getConfiguration('switchboard').get<unknown>('notifications')), m)) return;
    if (this.panels.isActive(m.conversation)) return;
    if (backlog) {
      // what arrived while this window was away: one summary, not a flood
      this.backlog.count++;
      this.backlog.last = m;
      this.backlog.timer ??= setTimeout(() => {
        const { count, last } = this.backlog;
        this.backlog = { count: 0, timer: undefined, last: undefined };
        if (count === 1 && last) this.showMessageNotification(last);
        else if (count > 1) void showInfo(`Switchboard: ${count} new messages`, 'Show Inbox').then((p) => p && runCommand(focusViewCommand(Views.inbox)));
      }, 1000);
      return;
    }
    this.showMessageNotification(m);
  }

  private showMessageNotification(m: MessageNode['message']): void {
    void showInfo(messageNotice(m), 'Reply', 'Open').then((pick) => {
      if (pick === 'Reply') void runCommand(Commands.reply, { kind: 'message', peer: m.conversation, message: m } satisfies MessageNode);
      if (pick === 'Open') void runCommand(Commands.openConversation, m.conversation);
    });
  }

  override dispose(): void {
    if (this.backlog.timer) clearTimeout(this.backlog.timer);
    super.dispose();
  }
}
