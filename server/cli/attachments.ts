/**
 * `send --attach <path>`: each file is checked and measured here, before delegation, so a
 * missing file, a directory, an unreadable or over-large one gets the same one line (exit 2)
 * whether a core runs or not, and before anything is stored. The core then copies the file
 * into its store checking the bytes against what was measured here (a file that changed in
 * between fails the send as FileRefused). Lean on purpose: node:fs and node:crypto only.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, MAX_ATTACHMENTS, MAX_ATTACHMENT_NAME_BYTES } from '../../protocol/files';
import { utf8ByteLength } from '../../protocol/limits';
import type { AttachmentInput } from '../../protocol/rpc';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { formatBytes } from './bytes';
import { readableFileProblem } from './file-errors';

/** A file about to be sent, as `send --json` sums it up. */
export interface AttachmentSummary {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

function tooLarge(path: string, size: number, maxBytes: number): CliError {
  return usage(`--attach ${path} is ${formatBytes(size)} (${size} bytes); a file may be at most ${formatBytes(maxBytes)} (${maxBytes} bytes)`, 'send a smaller file, or split it (split -b 50M)');
}

/** Stats one path: where it is, its name and size, or the usage error that says what is wrong with it. */
function checkPath(given: string, maxBytes: number): { path: string; name: string; size: number } {
  const path = resolve(given);
  let st;
  try {
    st = statSync(path);
  } catch (error) {
    throw usage(`--attach ${path}: ${readableFileProblem(error)}`);
  }
  if (st.isDirectory()) throw usage(`--attach ${path} is a directory, not a file`, 'attach its files one by one, or an archive of it (tar czf dir.tgz dir)');
  if (!st.isFile()) throw usage(`--attach ${path} is not a regular file`);
  if (st.size > maxBytes) throw tooLarge(path, st.size, maxBytes);
  const name = basename(path);
  if (utf8ByteLength(name) > MAX_ATTACHMENT_NAME_BYTES) throw usage(`--attach ${path}: its name is longer than ${MAX_ATTACHMENT_NAME_BYTES} bytes (UTF-8)`);
  return { path, name, size: st.size };
}

/** SHA-256 and size of the bytes read from one open file, streamed (a file is never held whole). */
async function hashFile(path: string, maxBytes: number): Promise<{ sha256: string; size: number }> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    // stat needs no read permission: an unreadable file fails only here.
    throw usage(`--attach ${path}: ${readableFileProblem(error)}`);
  }
  let expected: number;
  try {
    expected = fstatSync(fd).size;
  } catch (error) {
    closeSync(fd);
    throw usage(`--attach ${path}: ${readableFileProblem(error)}`);
  }
  if (expected > maxBytes) {
    closeSync(fd);
    throw tooLarge(path, expected, maxBytes);
  }
  const hash = createHash('sha256');
  let size = 0;
  try {
    // autoClose closes fd when the stream ends or fails.
    for await (const chunk of createReadStream('', { fd, autoClose: true, highWaterMark: 256 * 1024 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
  } catch (error) {
    throw usage(`--attach ${path}: ${readableFileProblem(error)}`);
  }
  if (size !== expected) throw new CliError(`--attach ${path} changed while it was being read (${expected} bytes, then ${size}); send it once nothing writes to it`, ExitCode.Failed, { code: 'file_refused' });
  return { sha256: hash.digest('hex'), size };
}

/**
 * Every `--attach` path checked (all of them first: a typo in the last is said before the
 * first is hashed), then hashed. Throws the first problem as a one-line CliError.
 */
export async function measureAttachments(paths: readonly string[], maxBytes = DEFAULT_MAX_FILE_BYTES): Promise<{ inputs: AttachmentInput[]; summary: AttachmentSummary[] }> {
  if (paths.length > MAX_ATTACHMENTS) throw usage(`send takes at most ${MAX_ATTACHMENTS} --attach files; got ${paths.length}`, 'send an archive of them instead');
  const checked = paths.map((p) => checkPath(p, maxBytes));
  const inputs: AttachmentInput[] = [];
  const summary: AttachmentSummary[] = [];
  for (const file of checked) {
    const { sha256, size } = await hashFile(file.path, maxBytes);
    inputs.push({ path: file.path, name: file.name, sha256, size });
    summary.push({ name: file.name, path: file.path, size, sha256 });
  }
  return { inputs, summary };
}
