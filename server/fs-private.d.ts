/** Creates `dir` 0700 (and parents) or tightens an existing one; refuses a symlink or a foreign owner. */
export declare function ensurePrivateDir(dir: string): void;
/** Writes a 0600 file atomically: readers see the old content or the new, never half of it. */
export declare function writePrivateFile(path: string, content: string): void;
