/** Exit codes of the CLI contract (design §4.3) and the one-line errors that carry them. */
import { ErrorCodes } from '../../protocol/rpc';

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, Queued: 3, Locked: 4, Conflict: 5, Timeout: 6 } as const;

/** What each exit code means: printed by `switchboard help` and checked against README and docs/protocol.md. */
export const EXIT_CODE_MEANINGS: readonly [number, string][] = [
  [ExitCode.Ok, 'ok (sent or duplicate)'],
  [ExitCode.Failed, 'failed'],
  [ExitCode.Usage, 'usage'],
  [ExitCode.Queued, 'queued (stored, not yet at the relay)'],
  [ExitCode.Locked, 'store locked and its core unreachable'],
  [ExitCode.Conflict, 'client id already used for different content'],
  [ExitCode.Timeout, '`ask` got no reply in time'],
];

/**
 * The stable `error.code` strings of `--json` errors. Scripts branch on these, so a code is
 * never renamed; new ones may be added.
 */
export const ERROR_CODES = {
  usage: 'bad flags or arguments, or parameters the core refused (exit 2)',
  failed: 'anything not listed below (exit 1)',
  not_found: 'no message or outbox entry with that id (exit 1)',
  conflict: 'the client id was already used for different content (exit 5)',
  locked: 'the store is locked and no core answers on its socket (exit 4)',
  timeout: '`ask` got no reply within --timeout (exit 6)',
  invalid_state: 'the outbox entry is in a state that forbids this (exit 1)',
  not_sent: '`--no-queue` and the relay is not reachable (exit 1)',
  disk_full: 'the disk holding the store is full (exit 1)',
  cursor_too_old: '`--since` names events the core has pruned (exit 1)',
  core_too_old: 'the running core lacks a method this command needs (exit 1)',
  core_lost: 'the core went away during the command (exit 1)',
} as const;

export type ErrorCodeName = keyof typeof ERROR_CODES;

const DEFAULT_CODE: Record<number, ErrorCodeName> = {
  [ExitCode.Usage]: 'usage',
  [ExitCode.Locked]: 'locked',
  [ExitCode.Conflict]: 'conflict',
  [ExitCode.Timeout]: 'timeout',
};

export class CliError extends Error {
  readonly code: ErrorCodeName;
  /** What to do about it, when there is something to say beyond the message. */
  readonly hint: string | null;

  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failed,
    details: { code?: ErrorCodeName; hint?: string } = {},
  ) {
    super(message);
    this.code = details.code ?? DEFAULT_CODE[exitCode] ?? 'failed';
    this.hint = details.hint ?? null;
  }

  /** The one line a person reads on stderr. */
  get line(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

export const usage = (message: string, hint?: string) => new CliError(message, ExitCode.Usage, { hint });

const KIND_CODES: Partial<Record<string, ErrorCodeName>> = {
  not_found: 'not_found',
  invalid_state: 'invalid_state',
  not_sent: 'not_sent',
  disk_full: 'disk_full',
};

/** Maps a core error (delegated or direct, same shape) to the CLI's exit code. */
export function fromRpcError(error: { code: number; message: string; data?: unknown }): CliError {
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

export function isRpcError(error: unknown): error is { code: number; message: string; data?: unknown } {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string';
}
