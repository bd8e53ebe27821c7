/**
 * What commands need of the window, the narrow interface App implements. Its own module so
 * that command modules (commands.ts, codeCommands.ts, trustCommands.ts, sendSelection.ts) can
 * name it without importing one another.
 */
import type * as vscode from 'vscode';
import type { CoreConnection } from './connection';
import type { InboxModel, InboxNode } from './inboxModel';
import type { OutboxModel, OutboxNode } from './outboxModel';
import type { Status } from './statusModel';

/** What the commands need of the window (App implements it). */
export interface CommandHost {
  readonly context: Pick<vscode.ExtensionContext, 'secrets'>;
  readonly log: vscode.LogOutputChannel;
  readonly connection: Pick<CoreConnection, 'connected' | 'current' | 'request' | 'reconnect' | 'paths' | 'home' | 'onTransferProgress' | 'onMessageUpdated'>;
  readonly inbox: InboxModel;
  readonly outbox: OutboxModel;
  readonly inboxView: vscode.TreeView<InboxNode>;
  readonly outboxView: vscode.TreeView<OutboxNode>;
  readonly panels: { show(peer: string, messageId?: string): unknown; draft(peer: string): string; saveDraft(peer: string, draft: string): Promise<void> };
  readonly coreLog: { show(path: string): void };
  readonly status: { readonly current: Status };
}
