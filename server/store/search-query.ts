/**
 * What a search for free text becomes. Words of scripts that put spaces between words go to
 * the word index (FTS5 `unicode61`: whole words, any case). Text in scripts written without
 * spaces (Chinese, Japanese, Thai, …) has no word boundaries that index could see, so
 * `日本語` would never find `日本語テキスト`: such a term is matched as a substring, by the
 * trigram index when it has at least three characters (trigrams are what that index holds),
 * and by LIKE over the newest messages in those scripts when it has one or two.
 *
 * User input never becomes FTS or LIKE syntax: every term is quoted or escaped here.
 */
import { UNSPACED_SCRIPT_RANGES } from './migrations';

/**
 * A query of only one- or two-character terms reads at most this many of the newest messages
 * written in those scripts (LIKE, no index matches so few characters). With a longer term or
 * a word beside it, an index drives the query and nothing is left out.
 */
export const SHORT_TERM_WINDOW = 100_000;

export interface SearchPlan {
  /** An FTS5 query for the word index (`messages_fts`), or null when no term goes there. */
  words: string | null;
  /** An FTS5 query for the trigram index (`messages_trigram`), or null. */
  substrings: string | null;
  /** LIKE patterns (escaped with `\`) every hit's body must match: the short unspaced terms. */
  short: string[];
}

const UNSPACED = new RegExp(`[${UNSPACED_SCRIPT_RANGES.map(([from, to]) => `\\u{${from.toString(16)}}-\\u{${to.toString(16)}}`).join('')}]`, 'u');

/** Whether `text` holds a character of a script written without spaces (its terms are substrings). */
export function hasUnspacedScript(text: string): boolean {
  return UNSPACED.test(text);
}

const quote = (term: string) => `"${term.replaceAll('"', '""')}"`;
const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Undefined when the query has no terms at all. Every term must match (AND). */
export function planSearch(query: string): SearchPlan | undefined {
  const terms = query.split(/\s+/).filter((term) => term.length > 0);
  if (terms.length === 0) return undefined;
  const words: string[] = [];
  const substrings: string[] = [];
  const short: string[] = [];
  for (const term of terms) {
    if (!hasUnspacedScript(term)) words.push(quote(term));
    else if ([...term].length >= 3) substrings.push(quote(term));
    else short.push(likePattern(term));
  }
  return { words: words.length > 0 ? words.join(' ') : null, substrings: substrings.length > 0 ? substrings.join(' ') : null, short };
}
