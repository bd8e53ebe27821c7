/**
 * Send Selection…: the editor's selection (whole lines) as a fenced code block whose info
 * string says language, workspace-relative path, line range and, in a git checkout, the commit
 * (lib/file-refs.ts formatSnippet), to a person or group from the Send Message picker, with an
 * optional note. The CLI shows the body as is; the receiver's view reads the header back and
 * offers Open in Editor (webview/markdown.ts, extension/codeLinks.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { oneLine } from '../lib/display';
import { formatSnippet, selectedLines, type Snippet } from '../lib/file-refs';
import { MAX_BODY_BYTES } from '../protocol/limits';
import type { CommandHost } from './commandHost';
import { pickRecipient, sendAndReport } from './commands';
import { noLinks } from './format';
import { gitHead } from './git';
import { showError, showInfo } from './notices';

/** The snippet of the active editor's primary selection (the cursor's line when nothing is selected). */
async function snippetOf(editor: vscode.TextEditor): Promise<Snippet> {
  const doc = editor.document;
  const { start, end } = selectedLines(editor.selection);
  const code = doc.getText(new vscode.Range(start - 1, 0, end - 1, doc.lineAt(end - 1).text.length));
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
  // a file outside the workspace is named by its base name only: its full path says nothing to the receiver and something about this machine
  const rel = folder ? vscode.workspace.asRelativePath(doc.uri, false) : path.basename(doc.uri.path) || 'untitled';
  const commit = folder && folder.uri.scheme === 'file' && !doc.isUntitled ? await gitHead(folder.uri.fsPath) : null;
  return { path: rel.split(path.sep).join('/'), startLine: start, endLine: end, languageId: doc.languageId, commit, code };
}

export async function sendSelection(app: CommandHost): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void showInfo('Switchboard: open a file and select the lines to send.');
    return;
  }
  const snippet = await snippetOf(editor);
  const where = `${snippet.path}:${snippet.startLine}${snippet.endLine > snippet.startLine ? `-${snippet.endLine}` : ''}`;
  const to = await pickRecipient(app, noLinks(`Send Selection (${oneLine(where, 80)}): recipient`));
  if (!to) return;
  const note = await vscode.window.showInputBox({
    title: noLinks(`Send ${oneLine(where, 80)} to ${oneLine(to, 64)}`),
    prompt: 'A note to go with the code (optional). Enter sends.',
    placeHolder: 'e.g. why does this throw?',
  });
  if (note === undefined) return;
  const body = formatSnippet(snippet, note);
  const bytes = new TextEncoder().encode(body).length;
  if (bytes > MAX_BODY_BYTES) {
    void showError(`Switchboard: the selection is too large to send (${bytes} bytes with its header; a message holds at most ${MAX_BODY_BYTES}). Select fewer lines.`);
    return;
  }
  await sendAndReport(app, { to, body });
}
