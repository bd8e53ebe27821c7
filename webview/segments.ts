/** A body's text cut at the `@name` mentions the relay checked. */
import { inertText } from '../lib/display';

const NAME_CHAR = /[A-Za-z0-9._-]/;

/** A run of a body's (already inert) text; `mention` is the member it names, as written. */
export interface BodySegment {
  text: string;
  mention?: string;
}

/**
 * The body, after the text-safety policy, cut at the `@name` of each member in `mentions` (the
 * relay's checked list: an `@word` that names no member stays plain text). A name matches
 * whole, case-insensitively (names are case-insensitive), not inside a longer word or address.
 * The segments' texts joined are exactly `inertText(body)`.
 */
export function bodySegments(body: string, mentions: readonly string[]): BodySegment[] {
  const text = inertText(body);
  if (!mentions.length) return [{ text }];
  const names = new Set(mentions.map((n) => n.toLowerCase()));
  const out: BodySegment[] = [];
  let plainFrom = 0;
  for (let i = text.indexOf('@'); i !== -1; i = text.indexOf('@', i + 1)) {
    if (i > 0 && (NAME_CHAR.test(text[i - 1]!) || text[i - 1] === '@')) continue; // an address like a@b (or @@x), not a mention
    let end = i + 1;
    while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
    // a sentence's full stop is not part of the name: "@bob." names bob
    while (end > i + 1 && !names.has(text.slice(i + 1, end).toLowerCase()) && /[._-]/.test(text[end - 1]!)) end--;
    const name = text.slice(i + 1, end);
    if (!name || !names.has(name.toLowerCase())) continue;
    if (i > plainFrom) out.push({ text: text.slice(plainFrom, i) });
    out.push({ text: text.slice(i, end), mention: name });
    plainFrom = end;
    i = end - 1;
  }
  if (plainFrom < text.length || !out.length) out.push({ text: text.slice(plainFrom) });
  return out;
}
