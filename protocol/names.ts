/**
 * The one user-name rule, applied wherever a name enters: `init --user`, `send --to`, every
 * JSON-RPC param naming a user, the relay's `add-user` and `revoke`, and the relay's hello and
 * send frames. No runtime dependencies, so any part can import it.
 *
 * Names are case-insensitive: `Bob` and `bob` are one account. Every entry point turns a name
 * into its canonical form (lower case) before it is stored, compared or shown, so the stores,
 * the relay's tables and every surface hold one spelling. The rule admits ASCII only, so lower
 * case is the same on every machine and in every locale (and SQLite's lower() agrees).
 */

/** Longest user name, in characters. */
export const USER_NAME_MAX_LENGTH = 64;
/**
 * A user name: a letter or digit, then letters, digits, ".", "_" or "-". Names appear in
 * frames, logs, shells and (wave 2) `@mentions` and `#groups`, so "@" and "#" stay out.
 */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** What a person is told when a name does not match, after `invalid user name "<name>": `. */
export const USER_NAME_RULE = `use 1-${USER_NAME_MAX_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit (case does not matter: Bob and bob are one account)`;

export function isValidUserName(name: string): boolean {
  return USER_NAME_PATTERN.test(name);
}

/** Undefined for a valid name, else one line that says what is wrong. */
export function userNameProblem(name: string): string | undefined {
  return isValidUserName(name) ? undefined : `invalid user name "${name}": ${USER_NAME_RULE}`;
}

/** The form a valid name is stored, compared and shown in. */
export function canonicalUserName(name: string): string {
  return name.toLowerCase();
}

/** Whether two valid names are the same account. */
export function sameUser(a: string, b: string): boolean {
  return canonicalUserName(a) === canonicalUserName(b);
}

/** A conversation is addressed as a user (`bob`) or a group: this prefix and a name under the user-name rule (`#team`). */
export const GROUP_ADDRESS_PREFIX = '#';

export function isGroupAddress(address: string): boolean {
  return address.startsWith(GROUP_ADDRESS_PREFIX);
}

/** `#team` for the group `team`. */
export function groupAddress(name: string): string {
  return `${GROUP_ADDRESS_PREFIX}${name}`;
}

/** The group's name in `#team` or `team`: the prefix is optional where only a group can be meant. */
export function groupNameOf(nameOrAddress: string): string {
  return isGroupAddress(nameOrAddress) ? nameOrAddress.slice(GROUP_ADDRESS_PREFIX.length) : nameOrAddress;
}

/**
 * An agent identity is named `<owner>.<name>` (`alice.claude`). Everywhere a person names one
 * of theirs (`agent create|revoke`, `mcp --agent`, `mcp install --agent`), a bare `claude` means
 * the owner's `alice.claude` and a name holding a "." is taken as the full name, so every verb
 * finds the same identity and the same home (`agentHome`, named by the full name).
 */
export function agentIdentityName(owner: string, name: string): string {
  const canonical = canonicalUserName(name);
  return canonical.includes('.') ? canonical : `${canonicalUserName(owner)}.${canonical}`;
}

/** The owner an agent name claims: the part before its first ".", when a non-empty name follows it. */
export function claimedOwner(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(0, dot) : undefined;
}
