/**
 * Versioned schema migrations. Each entry runs once, in order, inside one transaction with
 * the `user_version` bump, so a crash mid-migration leaves the previous version intact.
 */
/**
 * Code-point ranges of the scripts written without spaces between words (Han, Hiragana,
 * Katakana, Thai, Lao, Tibetan, Myanmar, Khmer) and of Hangul, whose particles attach to the
 * word before them. A body holding any of them is also put in the trigram index, and a query
 * term holding any of them is matched as a substring (search-query.ts). Migration 6 and the
 * delete trigger it creates are built from this list: changing it needs a new migration that
 * rebuilds messages_trigram.
 */
export declare const UNSPACED_SCRIPT_RANGES: readonly (readonly [number, number])[];
export declare const MIGRATIONS: readonly string[];
/** For Repository.indexForSearch: the same test migration 6 applies. */
export declare const UNSPACED_BODY_GLOB: string;
