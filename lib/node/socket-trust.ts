/**
 * Whether a socket path can be trusted to lead to our own core, checked before every connect
 * (CLI, extension, probes) and before the core binds. Whoever answers on the socket receives
 * the relay token and every message body, and its verdicts are believed; a socket in a
 * directory another user controls is how they would get them (the tmux / ssh-agent /
 * gpg-agent rule). Two lstat calls and no dependencies: the CLI's delegated path runs it
 * on every command.
 */
import { lstatSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

/** Thrown when a socket or its directory is not ours alone; the message says what to do. */
export class UntrustedSocketError extends Error {
  readonly code = 'EUNTRUSTEDSOCKET';
}

/**
 * Throws UntrustedSocketError unless the socket's directory and (when present) the socket
 * belong to `uid`, are not symlinks and are closed to group and others. A missing directory
 * or socket is fine: connecting then fails with ENOENT, and nobody else can add one later
 * to a directory that only we may write.
 *
 * Windows: a named pipe is no file, so there is nothing to lstat and no uid; its default
 * ACL gives access to its creator, SYSTEM and Administrators only. Node cannot ask who serves
 * a pipe (GetNamedPipeServerProcessId needs native code), so the check is skipped there.
 */
export function assertTrustedSocket(path: string, uid: number | undefined = process.getuid?.(), platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32' || uid === undefined) return;
  const dir = dirname(path);
  const dirStat = lstatOrUndefined(dir);
  if (!dirStat) return;
  // Messages are built only on refusal: this runs before every delegated command.
  if (dirStat.isSymbolicLink()) refuse(path, `its directory ${dir} is a symlink`, removeDir(dir));
  if (!dirStat.isDirectory()) refuse(path, `${dir} is not a directory`, removeDir(dir));
  if (dirStat.uid !== uid) refuse(path, `its directory ${dir} belongs to uid ${dirStat.uid}, not to you (uid ${uid}), so another user may be posing as the core`, removeDir(dir));
  // Writable by others: anyone could plant a socket there, now or between this check and the connect.
  if (dirStat.mode & 0o022) refuse(path, `its directory ${dir} is writable by others (mode ${octal(dirStat.mode)})`, `run \`chmod 700 ${dir}\` and check what is inside`);
  const socketStat = lstatOrUndefined(path);
  // Nothing answers on a missing path or a plain file (the core says what to do with one).
  if (!socketStat || !(socketStat.isSocket() || socketStat.isSymbolicLink())) return;
  if (socketStat.isSymbolicLink()) refuse(path, 'it is a symlink', removeSocket(path));
  if (socketStat.uid !== uid) refuse(path, `it belongs to uid ${socketStat.uid}, not to you (uid ${uid}), so another user may be posing as the core`, removeSocket(path));
  if (socketStat.mode & 0o077) refuse(path, `it is open to others (mode ${octal(socketStat.mode)})`, `run \`chmod 600 ${path}\``);
  if (dirStat.mode & 0o077) refuse(path, `its directory ${dir} is open to others (mode ${octal(dirStat.mode)})`, `run \`chmod 700 ${dir}\``);
}

function refuse(path: string, what: string, fix: string): never {
  throw new UntrustedSocketError(`refusing to use the core's socket ${path}: ${what}; ${fix}`);
}

function removeDir(dir: string): string {
  return `if it is yours, \`chown -R $(id -u) ${dir} && chmod 700 ${dir}\`; if not, remove it (rm -r ${dir}; someone may be posing as the core) or set XDG_RUNTIME_DIR to a directory of your own, then start again`;
}

function removeSocket(path: string): string {
  return `remove it (rm ${path}) and start the core again`;
}

export function isUntrustedSocket(error: unknown): error is UntrustedSocketError {
  return error instanceof UntrustedSocketError;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}
