/**
 * The one definition of the limits every part enforces: the relay (add-user, frames), the
 * core (JSON-RPC params), the CLI and the extension; the user-name rule is in names.ts. No
 * runtime dependencies, so any part can import it. Changing a value here changes it everywhere
 * at once; that is the point.
 */

export { USER_NAME_MAX_LENGTH, USER_NAME_PATTERN, USER_NAME_RULE, isValidUserName, userNameProblem } from './names';

/** Longest identifier (message id, client_message_id, server_id, device, request_id), in characters. */
export const MAX_ID_LENGTH = 128;

/** Largest message body, in UTF-8 bytes: what the core stores and the relay accepts by default. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Longest search query, in characters. */
export const MAX_QUERY_LENGTH = 1000;

/** Longest relay token, in characters. */
export const MAX_TOKEN_LENGTH = 512;
