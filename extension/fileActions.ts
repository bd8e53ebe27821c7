/**
 * What the extension does with files, shared by the conversation panel and the palette's Send
 * Message: pick files, hash them (streamed) and send them, follow an upload, download a
 * received file, Save As and Open. The core only ever offers verified store paths; this module
 * checks each is one before reading it, and writes only where the user chose.
 */
import { randomUUID } from 'node:crypto';
import { chmod, copyFile, mkdir, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Attachment, AttachmentInput, Message, SendParams, SendResult, TransferProgress } from '../protocol/rpc';
import { formatProgress, formatSize } from '../lib/file-display';
import { oneLine } from '../lib/display';
import type { CoreConnection } from './connection';
import { errorText, noLinks, plural } from './format';
import { FileProblem, filesDir, hashFile, isStoreFile, pickedFile, type PickedFile } from './files';
import { safeFileName } from '../lib/file-names';
import { showError, showInfo, showWarning } from './notices';

export type FileConnection = Pick<CoreConnection, 'request' | 'home' | 'onTransferProgress' | 'onMessageUpdated'>;

/** The open dialog (several files); each picked file checked (regular, within the limit), problems shown. */
export async function pickFiles(title = 'Attach Files'): Promise<PickedFile[]> {
  const uris = await vscode.window.showOpenDialog({ canSelectMany: true, canSelectFiles: true, canSelectFolders: false, openLabel: 'Attach', title });
  if (!uris?.length) return [];
  return filesFromUris(uris);
}

/** Files named by URIs (picked or dropped): local files only, each checked; the others said, then skipped. */
export async function filesFromUris(uris: readonly vscode.Uri[]): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const problems: string[] = [];
  for (const u of uris) {
    // the core reads the file itself: it must be on this machine (file:, or the remote host's own files)
    if (u.scheme !== 'file' && u.scheme !== 'vscode-remote') {
      problems.push(`${oneLine(u.toString(true), 200)} is not a file on this machine`);
      continue;
    }
    try {
      out.push(await pickedFile(u.scheme === 'file' ? u.fsPath : u.path));
    } catch (err) {
      problems.push(err instanceof FileProblem ? err.message : errorText(err));
    }
  }
  if (problems.length) void showError(`Switchboard: cannot attach ${problems.map((p) => oneLine(p, 300)).join('; ')}`);
  return out;
}

/** Hashes every file (streamed) under a progress notification: the inputs message/send needs. */
export async function prepareAttachments(files: readonly PickedFile[]): Promise<AttachmentInput[]> {
  const total = files.reduce((n, f) => n + f.size, 0);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: noLinks(`Switchboard: reading ${plural(files.length, 'file')}`) }, async (progress) => {
    const out: AttachmentInput[] = [];
    let done = 0;
    for (const f of files) {
      let last = 0;
      const { sha256, size } = await hashFile(f.path, (n) => {
        if (total > 0) progress.report({ increment: ((n - last) / total) * 100, message: noLinks(oneLine(f.name, 80)) });
        last = n;
      });
      done += size;
      out.push({ path: f.path, name: f.name, sha256, size, mime: f.mime });
    }
    void done;
    return out;
  });
}

/**
 * Sends a message with files: hashes them, hands them to the core (which copies them into its
 * store, refusing a file that changed: FileRefused), then follows the upload in a progress
 * notification. The result is the core's answer at once (usually queued, `uploading`).
 */
export async function sendWithFiles(conn: FileConnection, params: Pick<SendParams, 'to' | 'body' | 'reply_to'>, files: readonly PickedFile[]): Promise<SendResult> {
  const attachments = await prepareAttachments(files);
  const res = await conn.request('message/send', { ...params, client_message_id: randomUUID(), wait_ms: 0, attachments });
  if (res.status !== 'failed' && res.status !== 'duplicate') void followUpload(conn, res.id, params.to, attachments);
  return res;
}

/** A progress notification for one message's upload, until it is sent or fails (Hide only hides it). */
export function followUpload(conn: FileConnection, id: string, to: string, files: readonly Pick<AttachmentInput, 'size' | 'name'>[]): Thenable<void> {
  const total = files.reduce((n, f) => n + f.size, 0);
  const title = noLinks(`Switchboard: sending ${plural(files.length, 'file')} (${formatSize(total)}) to ${oneLine(to, 64)}`);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, cancel) => {
    const moved = new Map<number, number>();
    let shown = 0;
    return new Promise<void>((resolve) => {
      const subs: vscode.Disposable[] = [];
      const finish = (m: Message | null) => {
        subs.forEach((s) => s.dispose());
        resolve();
        if (m?.state === 'failed' || m?.state === 'aborted') void showError(noLinks(`Switchboard: the files to ${oneLine(to, 64)} were not sent (${m.state}); see the Outbox`));
      };
      const onProgress = (p: TransferProgress) => {
        if (p.id !== id || p.direction !== 'up') return;
        moved.set(p.index, p.transferred);
        const sum = [...moved.values()].reduce((a, b) => a + b, 0);
        const pct = total > 0 ? (Math.min(sum, total) / total) * 100 : 100;
        progress.report({ increment: pct - shown, message: formatProgress(Math.min(sum, total), total) });
        shown = pct;
      };
      subs.push(conn.onTransferProgress(onProgress));
      subs.push(
        conn.onMessageUpdated((e) => {
          if (e.message.id === id && e.message.state !== 'queued') finish(e.message);
        }),
      );
      subs.push(cancel.onCancellationRequested(() => finish(null)));
      // it may be sent already (small files, a fast relay)
      void conn.request('message/get', { id }).then(
        (m) => m.state !== 'queued' && finish(m),
        () => undefined,
      );
    });
  });
}

/** The attachment as the core has it now; NotFound becomes undefined. */
async function attachmentOf(conn: FileConnection, id: string, index: number): Promise<Attachment | undefined> {
  const m = await conn.request('message/get', { id });
  return m.attachments.find((a) => a.index === index);
}

/**
 * The attachment downloaded and verified (downloading it first under a progress notification
 * when it is not here yet); undefined when the user cancelled. Throws with the core's reason
 * when the download failed.
 */
export async function ensureReady(conn: FileConnection, id: string, index: number): Promise<Attachment | undefined> {
  const a = await attachmentOf(conn, id, index);
  if (!a) throw new Error('no such file on this message');
  if (a.state === 'ready' && a.path) return a;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: noLinks(`Switchboard: downloading ${oneLine(a.name, 80)} (${formatSize(a.size)})`), cancellable: true }, async (progress, cancel) => {
    let shown = 0;
    const sub = conn.onTransferProgress((p) => {
      if (p.id !== id || p.index !== index || p.direction !== 'down' || p.size <= 0) return;
      const pct = (Math.min(p.transferred, p.size) / p.size) * 100;
      progress.report({ increment: pct - shown, message: formatProgress(p.transferred, p.size) });
      shown = pct;
    });
    try {
      for (;;) {
        if (cancel.isCancellationRequested) return undefined;
        const res = await conn.request('attachment/download', { id, index, wait_ms: 2000 });
        const now = res.attachments.find((x) => x.index === index);
        if (!now) throw new Error('no such file on this message');
        if (now.state === 'ready' && now.path) return now;
        if (now.state === 'failed') throw new Error(now.error ?? 'the download failed');
      }
    } finally {
      sub.dispose();
    }
  });
}

/** The verified store file of a ready attachment; throws when the core's path is not one. */
async function verifiedPath(conn: FileConnection, a: Attachment): Promise<string> {
  if (!a.path || !(await isStoreFile(a.path, filesDir(conn.home()), a.sha256))) throw new Error(`${oneLine(a.name, 80)} is not a verified file in this home's store`);
  return a.path;
}

async function defaultSaveDir(): Promise<string> {
  const ws = vscode.workspace.workspaceFolders?.[0];
  if (ws?.uri.scheme === 'file') return ws.uri.fsPath;
  const downloads = join(homedir(), 'Downloads');
  try {
    if ((await stat(downloads)).isDirectory()) return downloads;
  } catch {
    // no Downloads folder
  }
  return homedir();
}

/** Save As…: the user picks where (the dialog asks before replacing a file), then the verified bytes are copied there. */
export async function saveAttachment(conn: FileConnection, id: string, index: number): Promise<vscode.Uri | undefined> {
  const first = await attachmentOf(conn, id, index);
  if (!first) throw new Error('no such file on this message');
  const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(await defaultSaveDir(), safeFileName(first.name))), saveLabel: 'Save', title: noLinks(`Save ${oneLine(first.name, 80)}`) });
  if (!target) return undefined;
  const a = await ensureReady(conn, id, index);
  if (!a) return undefined;
  const src = await verifiedPath(conn, a);
  if (target.scheme === 'file') await copyFile(src, target.fsPath);
  else await vscode.workspace.fs.copy(vscode.Uri.file(src), target, { overwrite: true });
  void showInfo(noLinks(`Switchboard: saved ${oneLine(a.name, 80)} to ${oneLine(target.scheme === 'file' ? target.fsPath : target.path, 200)}`));
  return target;
}

/**
 * Open: a read-only copy under the temp dir with the sender's name made safe (so the editor
 * matching its type opens it, and nothing can write to the store), then vscode.open.
 */
export async function openAttachment(conn: FileConnection, id: string, index: number): Promise<void> {
  const a = await ensureReady(conn, id, index);
  if (!a) return;
  const src = await verifiedPath(conn, a);
  const dir = join(tmpdir(), 'switchboard-open', a.sha256);
  const dest = join(dir, safeFileName(a.name));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await stat(dest);
  } catch {
    await copyFile(src, dest);
    await chmod(dest, 0o400);
  }
  await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(dest));
}

/** Download only (the thread's Download button): the state shows in the thread as it goes. */
export async function downloadAttachment(conn: FileConnection, id: string, index: number): Promise<void> {
  const res = await conn.request('attachment/download', { id, index });
  const a = res.attachments.find((x) => x.index === index);
  if (a?.state === 'failed') void showWarning(noLinks(`Switchboard: ${oneLine(a.name, 80)} could not be downloaded: ${oneLine(a.error ?? 'unknown error', 300)}`));
}

/** Runs a file action, saying what went wrong in a notification. */
export async function reportFileAction(what: string, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    void showError(`Switchboard: ${what} failed: ${errorText(err)}`);
  }
}
