/**
 * The one definition of the limits every part enforces: the relay (add-user, frames), the
 * core (JSON-RPC params), the CLI and the extension. No runtime dependencies, so any part can
 * import it. Changing a value here changes it everywhere at once; that is the point.
 */

/** Longest user name, in characters. */
export const USER_NAME_MAX_LENGTH = 64;
/**
 * A user name: a letter or digit, then letters, digits, ".", "_" or "-". Names appear in
 * frames, logs, shells and (wave 2) `@mentions` and `#groups`, so "@" and "#" stay out.
 */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** What a person is told when a name does not match, after `invalid user name "<name>": `. */
export const USER_NAME_RULE = `use 1-${USER_NAME_MAX_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit`;

/** Longest identifier (message id, client_message_id, server_id, device, request_id), in characters. */
export const MAX_ID_LENGTH = 128;

/** Largest message body, in UTF-8 bytes: what the core stores and the relay accepts by default. */
export const MAX_BODY_BYTES = 64 * 1024;

export function isValidUserName(name: string): boolean {
  return USER_NAME_PATTERN.test(name);
}

/** Undefined for a valid name, else one line that says what is wrong. */
export function userNameProblem(name: string): string | undefined {
  return isValidUserName(name) ? undefined : `invalid user name "${name}": ${USER_NAME_RULE}`;
}
