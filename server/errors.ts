/** Errors raised on purpose: they cross the socket as JSON-RPC errors and reach the user as one line. */
import { ErrorCodes, type ErrorCode, type ErrorData } from '../protocol/rpc';
import type { DiskFullError } from '../lib/node/storage-errors';

export class CoreError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data: ErrorData,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new CoreError(ErrorCodes.NotFound, `${what} not found`, { kind: 'not_found' });
export const invalidParams = (message: string) => new CoreError(ErrorCodes.InvalidParams, `invalid params: ${message}`, { kind: 'invalid_params' });
/** A write met a full disk: the message says where, and what to do. */
export const diskFull = (error: DiskFullError) =>
  new CoreError(ErrorCodes.DiskFull, `${error.message}: nothing was stored; free some space and retry`, { kind: 'disk_full' });
export const invalidState = (message: string) => new CoreError(ErrorCodes.InvalidState, message, { kind: 'invalid_state' });
