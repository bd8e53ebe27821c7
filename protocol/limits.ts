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

/**
 * A string's length in UTF-8, as Buffer.byteLength and TextEncoder count it (a lone surrogate
 * is encoded as U+FFFD, three bytes), without either: protocol/ uses no node or DOM API.
 */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Longest search query, in characters. */
export const MAX_QUERY_LENGTH = 1000;

/** Longest relay token, in characters. */
export const MAX_TOKEN_LENGTH = 512;
