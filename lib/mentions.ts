/**
 * `@name` mentions in a message body, as the sender's core computes them for the wire (the
 * relay keeps only the conversation's members) and as a surface may highlight them.
 */
import { USER_NAME_MAX_LENGTH, canonicalUserName } from '../protocol/names';

/**
 * `@` at the start or after a character that cannot be part of a name or an address (so
 * `me@host.org` names nobody), then a name under the user-name rule. Punctuation a sentence
 * puts after a name (`@bob.`, `@bob-`) is not taken as part of it.
 */
const MENTION = /(?<![A-Za-z0-9._@-])@([A-Za-z0-9][A-Za-z0-9._-]*)/g;

/** The names mentioned in `body`: canonical, each once, in order of first mention. */
export function mentionsIn(body: string): string[] {
  const seen = new Set<string>();
  for (const match of body.matchAll(MENTION)) {
    const name = match[1]!.replace(/[._-]+$/, '');
    if (name.length === 0 || name.length > USER_NAME_MAX_LENGTH) continue;
    seen.add(canonicalUserName(name));
  }
  return [...seen];
}
