/**
 * Exit codes of the command-line contract (design §4.3) and the one-line errors that carry them,
 * shared by `switchboard` and `switchboard relay`.
 */

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
  // A group request the relay refused: its own code (protocol/relay.ts GROUP_REJECTION_CODES), exit 1.
  bad_name: 'the relay refused the group name (exit 1)',
  group_exists: 'a group of that name exists (exit 1)',
  unknown_group: 'no group of that name (exit 1)',
  not_member: 'you, or a user named, are not a member of the group (exit 1)',
  forbidden: 'your role in the group does not allow it (exit 1)',
  unknown_user: 'a user named has no account at the relay (exit 1)',
  last_owner: 'it would leave the group without an owner (exit 1)',
  limit: "the group or a user is at the relay's cap (exit 1)",
  rate_limit: 'your rate at the relay is spent; retry in a moment (exit 1)',
  storage: 'the relay could not store it; retry later (exit 1)',
  file_refused: 'an --attach file could not be taken: it changed while it was being sent, or the relay refuses its size (exit 1)',
  file_exists: '`download` would overwrite a file (give --force) or write through a symbolic link (exit 1)',
  not_downloaded: '`download`: a file is not downloaded and verified yet, or its download failed (exit 1)',
  // An agent request the relay refused: its own code (protocol/relay.ts AGENT_REJECTION_CODES), exit 1;
  // bad_name, forbidden, limit, rate_limit and storage above are shared with groups.
  not_owner: '`agent create`: the name is under another user\'s name (exit 1)',
  agent_exists: '`agent create`: an account of that name exists at the relay (exit 1)',
  unknown_agent: '`agent revoke`: you have no active agent of that name (exit 1)',
  not_ours: '`daemon install|uninstall`, `relay install|uninstall`: the unit file there was not written by switchboard, so it is left as it is (exit 1)',
  // Trust in a user's device keys (-32015 TrustRefused, docs/security.md).
  key_changed: "the user's keys changed: compare the safety number, then `verify <user> --accept-change` (exit 1)",
  safety_number_mismatch: '`verify --confirm`: that is not the safety number (exit 1)',
  no_keys: 'no device keys are known for the user (exit 1)',
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

/**
 * A CliError thrown in another bundle (each of the CLI's bundles, server/cli/bundles.ts, has its own copy of this module) is
 * not an instance of this bundle's class, so the program would print it as a bare failure (exit
 * 1, no hint, no code): rebuilt here with its message, exit code, code and hint. Anything else
 * passes through as it is.
 */
export function fromOtherBundle(error: unknown): unknown {
  if (error instanceof CliError || !(error instanceof Error)) return error;
  const { exitCode, code, hint } = error as Error & Partial<Record<'exitCode' | 'code' | 'hint', unknown>>;
  if (typeof exitCode !== 'number' || typeof code !== 'string' || !Object.hasOwn(ERROR_CODES, code)) return error;
  return new CliError(error.message, exitCode, { code: code as ErrorCodeName, hint: typeof hint === 'string' ? hint : undefined });
}
