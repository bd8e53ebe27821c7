/**
 * What a conversation view's code-aware bodies ask of the host: open a link (through
 * openExternal, so VS Code's trusted-domain prompt applies), copy a code block, say which file
 * references are files in the workspace, and open one at its line (and say when a snippet's
 * commit is not the checkout's). Every argument arrived validated (webview-schemas.ts) and is
 * still treated as peer text: paths resolve inside the workspace folders only (fileRefs.ts).
 */
import * as vscode from 'vscode';
import { oneLine } from '../lib/display';
import type { OpenRef } from '../protocol/webview';
import { resolveRef } from './fileRefs';
import { gitHead, sameCommit } from './git';
import { showInfo, showWarning } from './notices';

/** The local workspace folders' paths (remote and virtual folders have no file to resolve against). */
export function workspaceFolderPaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/** Opens an http(s) or mailto link; anything else is refused again here, whatever the webview said. */
export async function openLink(url: string): Promise<void> {
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    return;
  }
  if (scheme !== 'http:' && scheme !== 'https:' && scheme !== 'mailto:') return;
  await vscode.env.openExternal(vscode.Uri.parse(url, true));
}

export async function copyText(text: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage('$(copy) Copied', 2000);
}

/** Which of `paths` are files inside a workspace folder. */
export async function resolvePaths(paths: readonly string[]): Promise<{ path: string; exists: boolean }[]> {
  const folders = workspaceFolderPaths();
  return Promise.all([...new Set(paths)].map(async (p) => ({ path: p, exists: (await resolveRef(folders, p)) !== null })));
}

/** Opens a reference at its line (a range: those lines selected); says so when it is not in this workspace or the checkout is elsewhere. */
export async function openRef(ref: OpenRef): Promise<void> {
  const hit = await resolveRef(workspaceFolderPaths(), ref.path);
  if (!hit) {
    void showWarning(`Switchboard: ${oneLine(ref.path, 200)} is not a file in this workspace.`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(hit.file));
  const start = new vscode.Position(ref.line - 1, ref.col !== null ? ref.col - 1 : 0);
  const range = ref.endLine !== null && ref.endLine > ref.line ? new vscode.Range(start, new vscode.Position(ref.endLine - 1, Number.MAX_SAFE_INTEGER)) : new vscode.Range(start, start);
  const selection = doc.validateRange(range);
  const editor = await vscode.window.showTextDocument(doc, { selection, preview: true });
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  if (ref.commit) {
    const head = await gitHead(hit.folder);
    if (head && !sameCommit(ref.commit, head)) {
      void showInfo(`Switchboard: this snippet is from commit ${ref.commit.slice(0, 7)}; your checkout of ${oneLine(ref.path, 120)} is at ${head.slice(0, 7)}, so the lines may differ.`);
    } else if (!head) {
      void showInfo(`Switchboard: this snippet is from commit ${ref.commit.slice(0, 7)}; this folder is not a git checkout, so the lines may differ.`);
    }
  }
}
