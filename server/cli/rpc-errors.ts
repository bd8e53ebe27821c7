/** A core's JSON-RPC error (delegated or direct, same shape) as the CLI's exit code and `--json` code. */
import { ErrorCodes, type RpcErrorObject } from '../../protocol/rpc';
import { GROUP_REJECTION_CODES, type GroupRejectionCode } from '../../protocol/relay';
import { CliError, ExitCode, type ErrorCodeName } from '../../lib/node/cli/errors';

const KIND_CODES: Partial<Record<string, ErrorCodeName>> = {
  not_found: 'not_found',
  invalid_state: 'invalid_state',
  not_sent: 'not_sent',
  disk_full: 'disk_full',
};

/**
 * What to do about each of the relay's group refusals; `<name>` is the group as the verb was
 * given it (groupHint fills it in). Keyed by every code, so a new relay code fails to compile
 * here until it has its advice, and each one is a `--json` code of its own (ERROR_CODES).
 */
const GROUP_HINTS: Record<GroupRejectionCode, string | null> = {
  bad_name: null,
  group_exists: 'pick another name',
  unknown_group: '`switchboard group list` shows the groups you are in',
  not_member: '`switchboard group show <name>` lists its members',
  forbidden: '`switchboard group show <name>` names its owners and admins',
  unknown_user: "check the spelling; a relay's operator adds users with `switchboard relay add-user <user>`",
  last_owner: 'hand it over first: `switchboard group role <name> <user> owner`',
  limit: "the relay's operator sets the caps (`switchboard relay serve --max-group-members`, `--max-groups-per-user`)",
  rate_limit: 'wait a moment and retry',
  storage: 'retry later; if it persists, tell the relay’s operator',
};

/** Fails to compile naming a relay code that is not also a CLI `--json` code (lib/node/cli/errors.ts). */
type NoneOf<T extends never> = T;
export type GroupCodesListed = NoneOf<Exclude<GroupRejectionCode, ErrorCodeName>>;

function groupCode(data: unknown): GroupRejectionCode | undefined {
  const code = (data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (Object.values(GROUP_REJECTION_CODES) as string[]).includes(code) ? (code as GroupRejectionCode) : undefined;
}

/** The advice for a group refusal, naming the group the verb was given (as `#name`). */
export function groupHint(code: string, group: string): string | undefined {
  const hint = (GROUP_HINTS as Record<string, string | null>)[code];
  return hint ? hint.replaceAll('<name>', group) : undefined;
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
      const code = groupCode(error.data);
      // Generic advice here; a group verb names its group in the hint (group-verbs.ts).
      return new CliError(error.message, ExitCode.Failed, { code: code ?? 'failed', hint: code ? groupHint(code, '#<name>') : undefined });
    }
    default: {
      const kind = (error.data as { kind?: unknown } | undefined)?.kind;
      return new CliError(error.message, ExitCode.Failed, { code: typeof kind === 'string' ? KIND_CODES[kind] : undefined });
    }
  }
}

export function isRpcError(error: unknown): error is RpcErrorObject {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string';
}
