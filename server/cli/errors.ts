/** Exit codes of the CLI contract (design §4.3) and the one-line errors that carry them. */
import { ErrorCodes } from '../../protocol/rpc';

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, Queued: 3, Locked: 4, Conflict: 5 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failed,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(message, ExitCode.Usage);

/** Maps a core error (delegated or direct, same shape) to the CLI's exit code. */
export function fromRpcError(error: { code: number; message: string }): CliError {
  switch (error.code) {
    case ErrorCodes.Conflict:
      return new CliError(error.message, ExitCode.Conflict);
    case ErrorCodes.InvalidParams:
      return new CliError(error.message, ExitCode.Usage);
    case ErrorCodes.CursorTooOld:
      return new CliError(`${error.message}: run \`switchboard inbox\` to catch up, then \`switchboard inbox --follow\` without --since`);
    case ErrorCodes.MethodNotFound:
      return new CliError(`${error.message}; the running core is older than this command: restart it with \`switchboard daemon restart\``);
    default:
      return new CliError(error.message);
  }
}

export function isRpcError(error: unknown): error is { code: number; message: string; data?: unknown } {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string';
}
