/** A core's JSON-RPC error (delegated or direct, same shape) as the CLI's exit code and `--json` code. */
import { ErrorCodes, type RpcErrorObject } from '../../protocol/rpc';
import { AGENT_REJECTION_CODES, GROUP_REJECTION_CODES, type AgentRejectionCode, type GroupRejectionCode } from '../../protocol/relay';
import { CliError, ExitCode, type ErrorCodeName } from '../../lib/node/cli/errors';

const KIND_CODES: Partial<Record<string, ErrorCodeName>> = {
  not_found: 'not_found',
  invalid_state: 'invalid_state',
  not_sent: 'not_sent',
  disk_full: 'disk_full',
};

/** Fails to compile naming a relay code that is not also a CLI `--json` code (lib/node/cli/errors.ts): each is one. */
type NoneOf<T extends never> = T;
export type GroupCodesListed = NoneOf<Exclude<GroupRejectionCode, ErrorCodeName>>;
export type AgentCodesListed = NoneOf<Exclude<AgentRejectionCode, ErrorCodeName>>;

function agentCode(data: unknown): AgentRejectionCode | undefined {
  const code = (data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (Object.values(AGENT_REJECTION_CODES) as string[]).includes(code) ? (code as AgentRejectionCode) : undefined;
}

function groupCode(data: unknown): GroupRejectionCode | undefined {
  const code = (data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (Object.values(GROUP_REJECTION_CODES) as string[]).includes(code) ? (code as GroupRejectionCode) : undefined;
}

const TRUST_CODES = ['key_changed', 'safety_number_mismatch', 'no_keys'] as const;

function trustCode(data: unknown): (typeof TRUST_CODES)[number] | undefined {
  const code = (data as { code?: unknown } | undefined)?.code;
  return TRUST_CODES.find((c) => c === code);
}

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
    case ErrorCodes.GroupRefused: {
      // The core's message is the relay's reason and what to do (server/group-service.ts); the code is the relay's own.
      return new CliError(error.message, ExitCode.Failed, { code: groupCode(error.data) ?? 'failed' });
    }
    case ErrorCodes.AgentRefused:
      // The core's message is the relay's reason and what to do (server/agent-service.ts).
      return new CliError(error.message, ExitCode.Failed, { code: agentCode(error.data) ?? 'failed' });
    case ErrorCodes.TrustRefused:
      // The core's message says what to do (`verify <user> --accept-change`, compare again); the code is data.code.
      return new CliError(error.message, ExitCode.Failed, { code: trustCode(error.data) ?? 'failed' });
    case ErrorCodes.FileRefused:
      // The core's message names the file and what happened to it ("<path> changed while it was being sent").
      return new CliError(error.message, ExitCode.Failed, { code: 'file_refused' });
    default: {
      const kind = (error.data as { kind?: unknown } | undefined)?.kind;
      return new CliError(error.message, ExitCode.Failed, { code: typeof kind === 'string' ? KIND_CODES[kind] : undefined });
    }
  }
}

export function isRpcError(error: unknown): error is RpcErrorObject {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string';
}
