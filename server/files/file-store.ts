/**
 * The home's file store: verified blobs, content-addressed, beside the SQLite store.
 *
 *   <home>/files/<sha256>           complete and verified (0600, in a 0700 directory)
 *   <home>/files/partial/<sha256>   a download in progress (resumed from its length)
 *   <home>/files/partial/*.snap     a send's snapshot being copied in (never resumed)
 *
 * A file only ever reaches `files/<sha256>` by a rename after its whole content was hashed
 * and matched the name, so whatever is there is what its name says: uploads read it, clients
 * are offered it, and nothing half-written is ever offered.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCodes, type AttachmentInput } from '../../protocol/rpc';
import { DiskFullError, isDiskFull } from '../../lib/node/storage-errors';
import { CoreError } from '../errors';
import { ensurePrivateDir } from '../fs-private';
import { errorMessage } from '../../lib/error-message';
import { mimeOfName } from '../../lib/mime';

/** What a send's file became in the store: what the message names and the upload reads. */
export interface StoredFile {
  sha256: string;
  size: number;
  name: string;
  mime: string;
  /** This snapshot put the blob in the store (it was not there before). */
  created: boolean;
}

export class FileStore {
  readonly dir: string;
  readonly partialDir: string;

  /** `dir`: `<home>/files` (Repository.filesDir). */
  constructor(dir: string) {
    this.dir = dir;
    this.partialDir = join(dir, 'partial');
  }

  /** Creates both directories 0700 (or tightens them). */
  ensure(): void {
    ensurePrivateDir(this.dir);
    ensurePrivateDir(this.partialDir);
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }

  partialPathOf(sha256: string): string {
    return join(this.partialDir, sha256);
  }

  /** Whether the verified blob is here (of the size it must have). */
  has(sha256: string, size: number): boolean {
    try {
      const st = statSync(this.pathOf(sha256));
      return st.isFile() && st.size === size;
    } catch {
      return false;
    }
  }

  /** Bytes of a download in progress (0 when none). */
  partialLength(sha256: string): number {
    try {
      return statSync(this.partialPathOf(sha256)).size;
    } catch {
      return 0;
    }
  }

  /**
   * Removes snapshots a killed process left half-copied (they are never resumed: the send that
   * made them got no answer, and its client sends again). Called under the store lock.
   */
  sweepSnapshots(): void {
    let names: string[];
    try {
      names = readdirSync(this.partialDir);
    } catch {
      return;
    }
    for (const name of names) if (name.endsWith('.snap')) rmSync(join(this.partialDir, name), { force: true });
  }

  /** Removes a verified blob (a send that stored nothing else took it in). */
  removeBlob(sha256: string): void {
    try {
      unlinkSync(this.pathOf(sha256));
    } catch {
      // already gone
    }
  }

  removePartial(sha256: string): void {
    try {
      unlinkSync(this.partialPathOf(sha256));
    } catch {
      // already gone
    }
  }

  /**
   * Copies a file being sent into the store while hashing it, streamed (never whole in
   * memory), to a temporary name then renamed: a file that is missing, not a regular file,
   * over `maxBytes`, or whose bytes differ from what the client measured is refused with
   * FileRefused and nothing stays behind; a full disk is a DiskFullError, nothing stored.
   */
  async snapshot(input: AttachmentInput, maxBytes: number): Promise<StoredFile> {
    const path = input.path;
    const refuse = (why: string) => new CoreError(ErrorCodes.FileRefused, `${path} ${why}`, { kind: 'file', path });
    let size: number;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw refuse('is a directory; attach the files in it one by one (or an archive of it)');
      if (!st.isFile()) throw refuse('is not a regular file');
      size = st.size;
    } catch (error) {
      if (error instanceof CoreError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw refuse('is missing (no such file)');
      throw refuse(`cannot be read: ${errorMessage(error)}`);
    }
    if (size > maxBytes) throw refuse(`is ${size} bytes, over the relay's limit of ${maxBytes} bytes per file`);
    if (size !== input.size) throw refuse(`changed while it was being sent (it was ${input.size} bytes, now ${size}); send it again`);
    this.ensure();
    const tmp = join(this.partialDir, `${randomUUID()}.snap`);
    const hash = createHash('sha256');
    let copied = 0;
    let handle;
    try {
      handle = await open(tmp, 'wx', 0o600);
      for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        copied += chunk.byteLength;
        if (copied > input.size) break;
        hash.update(chunk);
        await handle.write(chunk);
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      const digest = hash.digest('hex');
      if (copied !== input.size || digest !== input.sha256) {
        await unlink(tmp).catch(() => {});
        throw refuse(`changed while it was being sent (its bytes no longer match the SHA-256 measured before sending); send it again`);
      }
      const final = this.pathOf(digest);
      const created = !existsSync(final);
      if (created) await rename(tmp, final);
      else await unlink(tmp);
      return { sha256: digest, size: copied, name: input.name ?? basename(path), mime: input.mime ?? mimeOfName(input.name ?? path), created };
    } catch (error) {
      await handle?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      if (error instanceof CoreError) throw error;
      if (isDiskFull(error)) throw new DiskFullError(this.dir, { cause: error });
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT') throw refuse('is missing (it was removed while being sent)');
      if (code === 'EISDIR') throw refuse('is a directory; attach the files in it one by one (or an archive of it)');
      throw refuse(`cannot be read: ${errorMessage(error)}`);
    }
  }

  /**
   * A download's partial is complete: hashes the whole of it and, when it matches, syncs it
   * and renames it to its verified name (true). A mismatch deletes it (false).
   */
  async publishPartial(sha256: string, size: number): Promise<boolean> {
    const partial = this.partialPathOf(sha256);
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of createReadStream(partial, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      length += chunk.byteLength;
      hash.update(chunk);
    }
    if (length !== size || hash.digest('hex') !== sha256) {
      this.removePartial(sha256);
      return false;
    }
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, this.pathOf(sha256));
    return true;
  }
}

