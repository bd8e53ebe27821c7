/** A core's JSON-RPC error (delegated or direct, same shape) as the CLI's exit code and `--json` code. */
import { ErrorCodes, type RpcErrorObject } from '../../protocol/rpc';
import { CliError, ExitCode, type ErrorCodeName } from '../../lib/node/cli/errors';

const KIND_CODES: Partial<Record<string, ErrorCodeName>> = {
  not_found: 'not_found',
  invalid_state: 'invalid_state',
  not_sent: 'not_sent',
  disk_full: 'disk_full',
};

/** Maps a core error (delegated or direct, same shape) to the CLI's exit code. */
export function fromRpcError(error: RpcErrorObject): CliError {
  switch (error.code) {
    case ErrorCodes.Conflict:
      return new CliError(error.message, ExitCode.Conflict);
    case ErrorCodes.InvalidParams:
      return new CliError(error.message, ExitCode.Usage);
    case ErrorCodes.CursorTooOld:
      return new CliError(error.message, ExitCode.Failed, {
        code: 'cursor_too_old',
        hint: 'run `switchboard inbox` to catch up, then `switchboard inbox --follow` without --since',
      });
    case ErrorCodes.MethodNotFound:
      return new CliError(error.message, ExitCode.Failed, {
        code: 'core_too_old',
        hint: 'the running core is older than this command: restart it with `switchboard daemon restart`',
      });
    default: {
      const kind = (error.data as { kind?: unknown } | undefined)?.kind;
      return new CliError(error.message, ExitCode.Failed, { code: typeof kind === 'string' ? KIND_CODES[kind] : undefined });
    }
  }
}

export function isRpcError(error: unknown): error is RpcErrorObject {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string';
}
