/** The Inbox and Outbox tree views: render the models, nothing more. */
import * as vscode from 'vscode';
import { conversationIconId, conversationItemText, errorText, messageIconId, messageItemText, outboxItemText } from './format';
import { oneLine } from '../lib/display';
import { Commands } from './ids';
import type { InboxModel, InboxNode } from './inboxModel';
import { Disposable } from './lifecycle';
import { showWarning } from './notices';
import type { OutboxModel, OutboxNode } from './outboxModel';

export class InboxTreeProvider extends Disposable implements vscode.TreeDataProvider<InboxNode> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<InboxNode | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;

  constructor(private readonly model: InboxModel) {
    super();
    this._register(model.onDidChange((node) => this._onDidChangeTreeData.fire(node)));
    // relative times age: re-render once a minute
    const t = setInterval(() => this._onDidChangeTreeData.fire(undefined), 60_000);
    this._register({ dispose: () => clearInterval(t) });
  }

  getTreeItem(node: InboxNode): vscode.TreeItem {
    switch (node.kind) {
      case 'conversation': {
        const text = conversationItemText(node);
        const item = new vscode.TreeItem(text.label, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `conversation:${node.peer}`;
        item.description = text.description;
        item.tooltip = text.tooltip;
        if (node.conversationKind === 'group') {
          // `conversation.group[.left][.unread]`: the menus' `^conversation` and `\.unread$` still match
          const left = node.group?.role === null;
          item.iconPath = new vscode.ThemeIcon(conversationIconId(node));
          item.contextValue = `conversation.group${left ? '.left' : ''}${node.unread ? '.unread' : ''}`;
          item.accessibilityInformation = { label: `Group ${text.label}, ${text.description}` };
        } else {
          const icon = conversationIconId(node);
          // a changed key is the row's badge: the warning icon in the theme's warning colour
          item.iconPath = icon === 'warning' ? new vscode.ThemeIcon(icon, new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon(icon);
          item.contextValue = node.unread ? 'conversation.unread' : 'conversation';
          const agent = node.owner ? `, an agent of ${node.owner}` : '';
          const keys = node.trust === 'changed' ? ', keys changed' : '';
          item.accessibilityInformation = { label: `Conversation with ${text.label}${agent}${keys}, ${node.unread} unread` };
        }
        return item;
      }
      case 'message': {
        const m = node.message;
        const unread = m.direction === 'in' && !m.read;
        const text = messageItemText(m);
        const item = new vscode.TreeItem(text.label, vscode.TreeItemCollapsibleState.None);
        item.id = `message:${m.id}`;
        item.iconPath = new vscode.ThemeIcon(messageIconId(m));
        item.description = text.description;
        item.tooltip = text.tooltip;
        item.contextValue = m.direction === 'in' ? (unread ? 'message.in.unread' : 'message.in') : 'message.out';
        item.command = { command: Commands.openConversation, title: 'Open Conversation', arguments: [node] };
        return item;
      }
      case 'loadMore': {
        const item = new vscode.TreeItem(node.loading ? 'Loading older messages…' : 'Load older messages…', vscode.TreeItemCollapsibleState.None);
        item.id = `more:${node.peer}`;
        item.iconPath = new vscode.ThemeIcon(node.loading ? 'loading~spin' : 'history');
        item.contextValue = 'loadMore';
        item.command = { command: Commands.loadOlder, title: 'Load Older Messages', arguments: [node] };
        return item;
      }
    }
  }

  async getChildren(node?: InboxNode): Promise<InboxNode[]> {
    if (!node) return this.model.conversations();
    if (node.kind !== 'conversation') return [];
    const loaded = this.model.children(node);
    if (loaded) return loaded;
    try {
      await this.model.ensureMessages(node.peer);
    } catch (err) {
      void showWarning(`Switchboard: could not load the conversation with ${oneLine(node.peer, 64)}: ${errorText(err)}`);
      return [];
    }
    return this.model.children(node) ?? [];
  }

  getParent(node: InboxNode): InboxNode | undefined {
    if (node.kind === 'conversation') return undefined;
    return this.model.conversation(node.peer);
  }
}

export class OutboxTreeProvider extends Disposable implements vscode.TreeDataProvider<OutboxNode> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<OutboxNode | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;

  constructor(private readonly model: OutboxModel) {
    super();
    this._register(model.onDidChange(() => this._onDidChangeTreeData.fire(undefined)));
  }

  getTreeItem(node: OutboxNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const n = this.model.children(node.group).length;
      const item = new vscode.TreeItem(node.group === 'queued' ? 'Queued' : 'Failed', vscode.TreeItemCollapsibleState.Expanded);
      item.id = `outbox-group:${node.group}`;
      item.description = String(n);
      item.iconPath = new vscode.ThemeIcon(node.group === 'queued' ? 'watch' : 'error');
      item.contextValue = `outboxGroup.${node.group}`;
      return item;
    }
    const it = node.item;
    const text = outboxItemText(it);
    const item = new vscode.TreeItem(text.label, vscode.TreeItemCollapsibleState.None);
    item.id = `outbox:${it.id}`;
    item.description = text.description;
    item.iconPath = new vscode.ThemeIcon(it.state === 'dead' ? 'error' : it.state === 'expired' ? 'history' : it.state === 'inflight' ? 'sync~spin' : 'watch');
    item.tooltip = text.tooltip;
    // Expired items can be requeued, not aborted (the relay already dropped them).
    item.contextValue = it.state === 'dead' ? 'outbox.failed' : it.state === 'expired' ? 'outbox.expired' : 'outbox.queued';
    return item;
  }

  getChildren(node?: OutboxNode): OutboxNode[] {
    if (!node) return this.model.roots();
    if (node.kind === 'group') return this.model.children(node.group);
    return [];
  }
}
