/**
 * Telling a full disk apart from other storage failures, and saying so in words a person can
 * act on: "disk full at <store path>" rather than SQLITE_FULL or ENOSPC.
 */

/** A write could not be stored because the disk (or the store's size cap) is full. */
export class DiskFullError extends Error {
  readonly code = 'disk_full';
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`disk full at ${path}`, options);
  }
}

/** SQLITE_FULL (any extended code) from SQLite, ENOSPC/EDQUOT from the file system. */
export function isDiskFull(error: unknown): boolean {
  if (error instanceof DiskFullError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT')) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /database or disk is full|ENOSPC|no space left on device/i.test(message);
}

/** `error` as a DiskFullError naming `path` when it is one; otherwise `error` itself. */
export function asStorageError(error: unknown, path: string): unknown {
  if (error instanceof DiskFullError || !isDiskFull(error)) return error;
  return new DiskFullError(path, { cause: error });
}
