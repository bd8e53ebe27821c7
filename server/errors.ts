/** Errors raised on purpose: they cross the socket as JSON-RPC errors and reach the user as one line. */
import { ErrorCodes, type ErrorCode, type ErrorData } from '../protocol/rpc';

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
export const invalidState = (message: string) => new CoreError(ErrorCodes.InvalidState, message, { kind: 'invalid_state' });
