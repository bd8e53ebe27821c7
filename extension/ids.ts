/**
 * Every `switchboard.*` id the extension hands to VS Code, typed, in one place (GitLens's
 * constants.commands.ts style): command ids, view ids, the status bar item, the storage keys.
 * No `vscode` import, so test/unit/extension-ids.test.ts can hold package.json to these maps.
 * The ids are stable: package.json, keybindings, docs/extension.md and the e2e tests use them.
 */

/** Command ids, each contributed in package.json `contributes.commands`. */
export const Commands = {
  sendMessage: 'switchboard.sendMessage',
  reply: 'switchboard.reply',
  markRead: 'switchboard.markRead',
  markAllRead: 'switchboard.markAllRead',
  openConversation: 'switchboard.openConversation',
  copyMessage: 'switchboard.copyMessage',
  sendSelection: 'switchboard.sendSelection',
  findMessages: 'switchboard.findMessages',
  requeue: 'switchboard.requeue',
  abort: 'switchboard.abort',
  reconnect: 'switchboard.reconnect',
  showLog: 'switchboard.showLog',
  showExtensionLog: 'switchboard.showExtensionLog',
  configure: 'switchboard.configure',
  showActions: 'switchboard.showActions',
  refresh: 'switchboard.refresh',
  loadOlder: 'switchboard.loadOlder',
  createGroup: 'switchboard.createGroup',
  addMember: 'switchboard.addMember',
  leaveGroup: 'switchboard.leaveGroup',
  verifySafetyNumber: 'switchboard.verifySafetyNumber',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

/** View ids (package.json `contributes.views`). */
export const Views = {
  inbox: 'switchboard.inbox',
  outbox: 'switchboard.outbox',
} as const;
export type ViewId = (typeof Views)[keyof typeof Views];

/** The command VS Code itself registers for every view: reveal and focus it. */
export type ViewFocusCommand = `${ViewId}.focus`;
export function focusViewCommand(view: ViewId): ViewFocusCommand {
  return `${view}.focus`;
}

/** A command the extension may run or offer: one of its own, or a view's focus command. */
export type RunnableCommand = CommandId | ViewFocusCommand;

/** The status bar item's id (its DOM id in the workbench is `switchboard.switchboard.<id>`). */
export const STATUS_BAR_ID = 'switchboard.status';

/** SecretStorage key of the relay token. */
export const TOKEN_SECRET_KEY = 'switchboard.relay.token';

/** workspaceState key of a conversation's unsent composer text. */
export function draftKey(peer: string): string {
  return `switchboard.draft.v1:${peer}`;
}

/** globalState key of the runtime that last loaded better-sqlite3 (versioned: bump when its shape changes). */
export const RUNTIME_CACHE_KEY = 'switchboard.runtime.v1';

/** The MCP server definition provider's id (package.json `contributes.mcpServerDefinitionProviders`). */
export const MCP_PROVIDER_ID = 'switchboard';
