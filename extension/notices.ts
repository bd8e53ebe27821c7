/**
 * Every notification and confirmation dialog the extension shows goes through here, so no text
 * in one — a peer's message, a relay's reason, an error — can form a link or an icon (see
 * `noLinks`). A unit test keeps the rest of extension/ from calling `vscode.window.show…Message`.
 */
import * as vscode from 'vscode';
import { noLinks } from './format';

export function showInfo(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showInformationMessage(noLinks(text), ...actions);
}

export function showWarning(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(noLinks(text), ...actions);
}

export function showError(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(noLinks(text), ...actions);
}

/** A modal question; `detail` (often a message body) gets the same treatment. */
export function confirm(text: string, detail: string, action: string): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(noLinks(text), { modal: true, detail: noLinks(detail) }, action);
}
