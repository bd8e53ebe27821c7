/**
 * Where blob bytes live on the relay's disk, and the few careful steps around them. Complete
 * blobs are immutable and content-addressed (`blobs/ab/abcdef…`); uploads in progress are
 * partial files per uploading user (`blobs/partial/<user>/<sha256>`), so one user's bytes can
 * never become part of another's upload. A blob becomes complete only by rename after its whole
 * content was hashed and fsynced, with the directory fsynced after the rename.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export class BlobFiles {
  readonly root: string;
  private readonly partialRoot: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'blobs');
    this.partialRoot = join(this.root, 'partial');
  }

  blobPath(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  /** User names follow the user-name rule (no `/`, never `.` or `..` first): safe as a directory name. */
  partialPath(user: string, sha256: string): string {
    return join(this.partialRoot, user, sha256);
  }

  /**
   * Opens the user's partial upload of `sha256` for appending, creating it when there is none.
   * What it already holds (after a dropped link, a relay restart or a kill -9) is hashed again
   * from disk: `have` is what the relay can vouch for, and the hash continues from there. A
   * partial longer than the blob can only be garbage and starts over.
   */
  async openPartial(user: string, sha256: string, size: number): Promise<{ handle: FileHandle; have: number; hash: Hash }> {
    const dir = join(this.partialRoot, user);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, sha256);
    const hash = createHash('sha256');
    let have = 0;
    try {
      have = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (have > size) {
      await truncate(path, 0);
      have = 0;
    }
    if (have > 0) {
      for await (const chunk of createReadStream(path, { start: 0, end: have - 1, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
    }
    // O_APPEND: every write lands at the end, which is where the next expected byte goes.
    const handle = await open(path, 'a', 0o600);
    return { handle, have, hash };
  }

  async discardPartial(user: string, sha256: string): Promise<void> {
    await unlink(this.partialPath(user, sha256)).catch(() => undefined);
  }

  /** The partial, fsynced and verified by the caller, becomes the blob: rename, then fsync the directory. */
  async promote(user: string, sha256: string): Promise<void> {
    const dir = join(this.root, sha256.slice(0, 2));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rename(this.partialPath(user, sha256), join(dir, sha256));
    await syncDir(dir);
  }

  async openBlob(sha256: string): Promise<FileHandle> {
    return open(this.blobPath(sha256), 'r');
  }

  async deleteBlob(sha256: string): Promise<void> {
    await unlink(this.blobPath(sha256)).catch(() => undefined);
  }

  /** Deletes partial uploads not written to since `cutoff`, except those `active` says are in use. Returns how many. */
  async sweepPartials(cutoff: Date, active: (user: string, sha256: string) => boolean): Promise<number> {
    let removed = 0;
    let users: string[];
    try {
      users = await readdir(this.partialRoot);
    } catch {
      return 0;
    }
    for (const user of users) {
      let names: string[];
      try {
        names = await readdir(join(this.partialRoot, user));
      } catch {
        continue;
      }
      for (const name of names) {
        if (active(user, name)) continue;
        const path = join(this.partialRoot, user, name);
        try {
          if ((await stat(path)).mtimeMs < cutoff.getTime()) {
            await unlink(path);
            removed++;
          }
        } catch {
          // gone meanwhile
        }
      }
    }
    return removed;
  }
}

/** A rename is durable only once its directory is: fsync the directory itself (not possible on Windows). */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
