/**
 * The home must be a directory (or creatable as one). Checked once, before any verb touches
 * it, so a home that is a file gets one line naming it instead of a raw EEXIST or ENOTDIR from
 * deep inside the store or the socket code.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { usage } from '../../lib/node/cli/errors';
import { readableFileProblem } from './file-errors';

/** `source` names where the home came from (`--home`, `SWITCHBOARD_HOME`, the default). */
export function checkHome(home: string, source: string): void {
  const problem = homeProblem(home);
  if (problem) throw usage(`${source} ${home}: ${problem}`);
}

function homeProblem(home: string): string | undefined {
  for (let path = home; ; path = dirname(path)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Missing: it (and any missing parent) is created on first use, if the nearest existing one is a directory.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(path) !== path) continue;
      return readableFileProblem(error);
    }
    if (isDirectory) return undefined;
    return path === home ? 'is a file, not a directory; give a directory for the store (it is created if missing)' : `cannot be created: ${path} is a file, not a directory`;
  }
}
