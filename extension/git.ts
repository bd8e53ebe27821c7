/** The commit a folder's checkout is at, asked of git itself (no vscode import, no shell). */
import { execFile } from 'node:child_process';

/** How long `git rev-parse` may take before the answer is "unknown". */
export const GIT_TIMEOUT_MS = 3000;

/**
 * `git rev-parse HEAD` in `folder`: the full commit id, or null when the folder is not in a git
 * repository, git is missing, it has no commit yet, or it did not answer within the timeout.
 */
export function gitHead(folder: string, timeoutMs = GIT_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: folder, timeout: timeoutMs, windowsHide: true, maxBuffer: 4096 }, (err, stdout) => {
      const head = String(stdout).trim();
      resolve(!err && /^[0-9a-f]{40,64}$/.test(head) ? head : null);
    });
  });
}

/** Whether a snippet's commit (abbreviated or full) is the checkout's. */
export function sameCommit(snippet: string, head: string): boolean {
  return snippet.length >= 7 && head.startsWith(snippet.toLowerCase());
}
