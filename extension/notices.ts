/**
 * Every notification and confirmation dialog the extension shows goes through here, so no text
 * in one — a peer's message, a relay's reason, an error — can form a link or an icon (see
 * `noLinks`). A unit test keeps the rest of extension/ from calling `vscode.window.show…Message`.
 */
import * as vscode from 'vscode';
import { noLinks } from './format';
import { Emitter } from './lifecycle';

export interface ShownNotice {
  severity: 'info' | 'warning' | 'error';
  /** Exactly the text handed to VS Code. */
  text: string;
  detail?: string;
}

const shown = new Emitter<ShownNotice>();
/** Each notice as VS Code receives it (the in-VS-Code suite watches it; VS Code offers no way to read a toast back). */
export const onDidShowNotice = shown.event;

function show(severity: ShownNotice['severity'], text: string, actions: string[], modalDetail?: string): Thenable<string | undefined> {
  const notice: ShownNotice = { severity, text: noLinks(text), ...(modalDetail !== undefined ? { detail: noLinks(modalDetail) } : {}) };
  shown.fire(notice);
  const api = severity === 'info' ? vscode.window.showInformationMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
  return notice.detail !== undefined ? api(notice.text, { modal: true, detail: notice.detail }, ...actions) : api(notice.text, ...actions);
}

export function showInfo(text: string, ...actions: string[]): Thenable<string | undefined> {
  return show('info', text, actions);
}

export function showWarning(text: string, ...actions: string[]): Thenable<string | undefined> {
  return show('warning', text, actions);
}

export function showError(text: string, ...actions: string[]): Thenable<string | undefined> {
  return show('error', text, actions);
}

/** A modal question; `detail` (often a message body) gets the same treatment. */
export function confirm(text: string, detail: string, action: string): Thenable<string | undefined> {
  return show('warning', text, [action], detail);
}

/** A modal with several answers (each a button); undefined when dismissed. `detail` gets the same treatment. */
export function ask(severity: ShownNotice['severity'], text: string, detail: string, ...actions: string[]): Thenable<string | undefined> {
  return show(severity, text, actions, detail);
}
