/**
 * `download`: copies a message's verified files out of the core's store into a directory the
 * person chose. The peer's names are data: each becomes a safe base name (lib/file-names.ts),
 * the joined path is checked to be directly inside the directory, an existing file is never
 * replaced without --force, and a symbolic link at the target is never written through. The
 * copy is streamed and checked against the file's SHA-256 once more on the way out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, lstatSync, mkdirSync, realpathSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { safeFileNames } from '../../lib/file-names';
import type { Attachment } from '../../protocol/rpc';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { errorMessage } from '../../lib/error-message';
import { inert } from './format';
import { readableFileProblem } from './file-errors';

export interface WrittenFile {
  index: number;
  /** The sender's name for it (peer text). */
  name: string;
  path: string;
  size: number;
  sha256: string;
  mime: string;
}

/** A ready attachment (its `path` set) and where it goes. */
export interface Planned {
  attachment: Attachment & { path: string };
  target: string;
}

/** Refuses a `--out` that exists and is not a directory (one that does not exist yet is fine). */
export function checkOutDirectory(out: string): void {
  const wanted = resolve(out);
  let st;
  try {
    st = statSync(wanted);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw usage(`--out ${wanted}: ${readableFileProblem(error)}`);
  }
  if (!st.isDirectory()) throw usage(`--out ${wanted} is not a directory`);
}

/** `--out` made absolute, created if missing, with symbolic links resolved: the directory every target must sit in. */
export function outDirectory(out: string): string {
  const wanted = resolve(out);
  try {
    mkdirSync(wanted, { recursive: true });
    const real = realpathSync(wanted);
    if (!statSync(real).isDirectory()) throw usage(`--out ${wanted} is not a directory`);
    return real;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') throw usage(`--out ${wanted} is not a directory`);
    throw usage(`--out ${wanted}: ${readableFileProblem(error)}`);
  }
}

/** What is at `path` now, without following a link there. */
function existing(path: string): 'none' | 'file' | 'link' | 'other' {
  try {
    const st = lstatSync(path);
    return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'none';
  }
}

/**
 * Where each file goes: a safe, distinct name directly inside `dir`. Refuses (writing nothing)
 * when a target exists and `force` is not given, or is a symbolic link or a directory at all.
 */
export function plan(dir: string, attachments: readonly (Attachment & { path: string })[], force: boolean): Planned[] {
  const names = safeFileNames(attachments.map((a) => a.name));
  const planned = attachments.map((attachment, i) => {
    const target = join(dir, names[i]!);
    // The name is a base name already; this holds the line whatever safeFileName might miss.
    if (dirname(target) !== dir || basename(target) !== names[i]) throw new CliError(`refusing to write ${inert(attachment.name)} outside ${dir}`);
    return { attachment, target };
  });
  const blocked: string[] = [];
  for (const { target } of planned) {
    const what = existing(target);
    if (what === 'link') throw new CliError(`${target} is a symbolic link; refusing to write through it`, ExitCode.Failed, { code: 'file_exists', hint: 'remove it, or choose another --out' });
    if (what === 'other') throw new CliError(`${target} exists and is not a file`, ExitCode.Failed, { code: 'file_exists', hint: 'remove it, or choose another --out' });
    if (what === 'file' && !force) blocked.push(target);
  }
  if (blocked.length > 0) {
    throw new CliError(`${blocked.join(', ')} already exist${blocked.length === 1 ? 's' : ''}; nothing was written`, ExitCode.Failed, { code: 'file_exists', hint: 'give --force to replace, or choose another --out' });
  }
  return planned;
}

/** Streams `source` into the open `handle`, returning the SHA-256 and size of what went through. */
async function copyInto(source: string, handle: FileHandle): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(source, { highWaterMark: 256 * 1024 })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.byteLength;
    let written = 0;
    while (written < bytes.byteLength) written += (await handle.write(bytes, written)).bytesWritten;
  }
  return { sha256: hash.digest('hex'), size };
}

function writeProblem(target: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return new CliError(`disk full at ${target}: it was not written; free some space and retry`, ExitCode.Failed, { code: 'disk_full' });
  if (code === 'EEXIST') return new CliError(`${target} appeared while writing; nothing was replaced`, ExitCode.Failed, { code: 'file_exists', hint: 'give --force to replace, or choose another --out' });
  if (code === 'ELOOP') return new CliError(`${target} is a symbolic link; refusing to write through it`, ExitCode.Failed, { code: 'file_exists' });
  return new CliError(`could not write ${target}: ${errorMessage(error)}`);
}

/**
 * Writes one file. Without `force` the target is created exclusively (never a file that
 * appeared since the plan, never through a link); with it, a temporary file beside it is
 * renamed over it once complete and verified, so the old file is replaced whole or not at all.
 */
async function writeOne({ attachment, target }: Planned, force: boolean): Promise<WrittenFile> {
  const dir = dirname(target);
  const into = force ? join(dir, `.switchboard-${randomBytes(8).toString('hex')}.part`) : target;
  let handle;
  try {
    handle = await open(into, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  } catch (error) {
    throw writeProblem(target, error);
  }
  try {
    const copied = await copyInto(attachment.path, handle).finally(() => handle.close());
    if (copied.sha256 !== attachment.sha256 || copied.size !== attachment.size) {
      throw new CliError(`the stored copy of ${inert(attachment.name)} does not match its SHA-256; nothing was written for it`, ExitCode.Failed, {
        code: 'not_downloaded',
        hint: 'the core keeps verified files only: restart it and download again',
      });
    }
    if (force) {
      // Checked again just before: a link or directory put there since the plan is not replaced.
      const now = existing(target);
      if (now === 'link' || now === 'other') throw new CliError(`${target} is now a symbolic link or not a file; refusing to replace it`, ExitCode.Failed, { code: 'file_exists' });
      renameSync(into, target);
    }
  } catch (error) {
    try {
      unlinkSync(into);
    } catch {
      // already gone
    }
    throw writeProblem(target, error);
  }
  return { index: attachment.index, name: attachment.name, path: target, size: attachment.size, sha256: attachment.sha256, mime: attachment.mime };
}

/** Writes every planned file in order; `written` hears each one as it lands (so a later failure still says what was written). */
export async function writeFiles(planned: readonly Planned[], force: boolean, written: (file: WrittenFile) => void = () => {}): Promise<WrittenFile[]> {
  const out: WrittenFile[] = [];
  for (const each of planned) {
    const file = await writeOne(each, force);
    out.push(file);
    written(file);
  }
  return out;
}
