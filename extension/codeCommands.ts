/** The code-aware commands (issue 15): Send Selection… and Find in Messages…. */
import * as vscode from 'vscode';
import type { CommandHost } from './commandHost';
import { findMessages } from './findMessages';
import { Commands } from './ids';
import type { IDisposable } from './lifecycle';
import { sendSelection } from './sendSelection';
import { showError } from './notices';
import { oneLine } from '../lib/display';

export function registerCodeCommands(app: CommandHost): IDisposable {
  const needCore = (): boolean => {
    if (app.connection.connected) return true;
    void showError(`Switchboard: not connected to the core${app.connection.current.detail ? ` (${oneLine(app.connection.current.detail, 200)})` : ''}.`);
    return false;
  };
  const subs = [
    vscode.commands.registerCommand(Commands.sendSelection, () => needCore() && sendSelection(app)),
    vscode.commands.registerCommand(Commands.findMessages, () => needCore() && findMessages(app.connection, (peer, id) => app.panels.show(peer, id))),
  ];
  return { dispose: () => subs.forEach((s) => s.dispose()) };
}
