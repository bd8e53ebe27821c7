/**
 * Files on the extension host's side, without vscode: hashing a picked file (streamed, never
 * read whole), its MIME type from its name, a safe name to offer in Save As, the check that a
 * path the core gave is a verified store file, and the message → webview model of attachments.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, isSha256Hex } from '../protocol/files';
import type { Attachment } from '../protocol/rpc';
import type { ThreadAttachment } from '../protocol/webview';
import { IMAGE_MAGIC_BYTES, mayPreview } from '../lib/file-display';
import { mimeOfName } from '../lib/mime';
export { mimeOfName };

export interface PickedFile {
  path: string;
  name: string;
  size: number;
  mime: string;
}

/** Thrown for a file that cannot be sent; `message` is for a person and names the file. */
export class FileProblem extends Error {}

/** A picked path as a file to send: a regular file within the limit, else FileProblem. */
export async function pickedFile(path: string, maxBytes = DEFAULT_MAX_FILE_BYTES): Promise<PickedFile> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new FileProblem(`${path}: no such file`);
  }
  if (st.isDirectory()) throw new FileProblem(`${path} is a folder: attach the files in it`);
  if (!st.isFile()) throw new FileProblem(`${path} is not a regular file`);
  if (st.size > maxBytes) throw new FileProblem(`${path} is too large to send (${st.size} bytes; the limit is ${maxBytes})`);
  const name = basename(path);
  return { path, name, size: st.size, mime: mimeOfName(name) };
}

/** SHA-256 (lowercase hex) and size of a file, read in a stream; `onBytes` sees the running count. */
export function hashFile(path: string, onBytes?: (n: number) => void): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let size = 0;
    const s = createReadStream(path, { highWaterMark: 256 * 1024 });
    s.on('data', (chunk) => {
      const b = chunk as Buffer;
      h.update(b);
      size += b.length;
      onBytes?.(size);
    });
    s.on('error', reject);
    s.on('end', () => resolve({ sha256: h.digest('hex'), size }));
  });
}



/** The home's store of verified files (`<home>/files`). */
export function filesDir(home: string): string {
  return join(home, 'files');
}

/**
 * Whether `path` is the verified store file of `sha256` in `dir` (not a partial, not a link
 * out of the store): its real path is `<dir>/<sha256>` and it is a regular file.
 */
export async function isStoreFile(path: string, dir: string, sha256: string): Promise<boolean> {
  if (!isSha256Hex(sha256)) return false;
  try {
    const [real, realDir] = await Promise.all([realpath(path), realpath(dir)]);
    if (dirname(real) !== realDir || basename(real) !== sha256) return false;
    return (await stat(real)).isFile();
  } catch {
    return false;
  }
}

/** The first bytes of a file ([] when it cannot be read). */
export async function readHead(path: string, n = IMAGE_MAGIC_BYTES): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch {
    return new Uint8Array();
  } finally {
    await fh?.close();
  }
}

/**
 * One attachment for the webview. `preview` is the resource URI of its verified store file,
 * asked only when `previewable` said so (ready, an image type, bytes that agree).
 */
export function toThreadAttachment(a: Attachment, preview: string | null): ThreadAttachment {
  return { index: a.index, name: a.name || 'file', size: a.size, mime: a.mime, state: a.state, transferred: a.transferred, error: a.error, preview: a.state === 'ready' ? preview : null };
}

/** Whether a ready attachment may be previewed: its store file checks out and its bytes are the image its MIME type says. */
export async function previewable(a: Attachment, dir: string): Promise<boolean> {
  if (a.state !== 'ready' || !a.path) return false;
  if (!(await isStoreFile(a.path, dir, a.sha256))) return false;
  return mayPreview(a.mime, await readHead(a.path));
}
