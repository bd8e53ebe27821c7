/**
 * A query of only one- or two-character terms reads at most this many of the newest messages
 * written in those scripts (LIKE, no index matches so few characters). With a longer term or
 * a word beside it, an index drives the query and nothing is left out.
 */
export declare const SHORT_TERM_WINDOW = 100000;
export interface SearchPlan {
    /** An FTS5 query for the word index (`messages_fts`), or null when no term goes there. */
    words: string | null;
    /** An FTS5 query for the trigram index (`messages_trigram`), or null. */
    substrings: string | null;
    /** LIKE patterns (escaped with `\`) every hit's body must match: the short unspaced terms. */
    short: string[];
}
/** Whether `text` holds a character of a script written without spaces (its terms are substrings). */
export declare function hasUnspacedScript(text: string): boolean;
/** Undefined when the query has no terms at all. Every term must match (AND). */
export declare function planSearch(query: string): SearchPlan | undefined;
