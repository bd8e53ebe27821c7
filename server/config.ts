/** The home's relay settings: `config.json` (relay URL, user, device id) and `token` (0600). */
import { loadOrCreateIdentity } from '../lib/node/e2e/identity';
import { readFileSync } from 'node:fs';
import { canonicalUserName, userNameProblem } from '../protocol/names';
import { newId } from '../lib/node/ids';
import type { HomePaths } from '../lib/node/paths';
import { writePrivateFile } from './fs-private';
import { errorMessage } from '../lib/error-message';

export interface RelayConfig {
  relay: string | null;
  user: string | null;
  /** Stable per home: the relay tracks delivery per device. */
  device: string;
  /** The user allowed a `ws://` relay on another machine (`init --insecure`); see protocol/relay-url.ts. */
  insecure: boolean;
}

/**
 * The settings as far as they can be read, and what is wrong with the file when something
 * is: a core reports `problem` as its sync error and keeps serving, rather than refusing to
 * start over a file a person edited. `device` is kept whenever it can be read.
 */
export interface LoadedConfig {
  config: RelayConfig;
  problem: string | null;
}

export function loadConfig(paths: HomePaths): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(paths.config, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { config: fromFields({}), problem: null };
    return { config: fromFields({}), problem: `cannot read ${paths.config}: ${errorMessage(error)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { config: fromFields({}), problem: `${paths.config} is not valid JSON (${errorMessage(error)}); fix it, or run \`switchboard init\` to write it afresh` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { config: fromFields({}), problem: `${paths.config} does not hold a JSON object; run \`switchboard init\` to write it afresh` };
  }
  const fields = parsed as Record<string, unknown>;
  const config = fromFields(fields);
  const wrongType = (['relay', 'user'] as const).find((key) => fields[key] !== undefined && fields[key] !== null && typeof fields[key] !== 'string');
  if (wrongType) return { config, problem: `"${wrongType}" in ${paths.config} is not a string; fix it with \`switchboard init\`` };
  const badName = config.user === null ? undefined : userNameProblem(config.user);
  if (badName) return { config, problem: `the user in ${paths.config} is unusable: ${badName}; fix it with \`switchboard init\`` };
  return { config, problem: null };
}

function fromFields(parsed: Record<string, unknown>): RelayConfig {
  return {
    relay: typeof parsed.relay === 'string' ? parsed.relay : null,
    // Written before names were case-insensitive, it may hold another spelling: use the canonical one.
    user: typeof parsed.user === 'string' ? canonicalUserName(parsed.user) : null,
    device: typeof parsed.device === 'string' && parsed.device.length > 0 ? parsed.device : newId(),
    insecure: parsed.insecure === true,
  };
}

/** The settings, or an error saying what is wrong with the file (for callers that cannot go on without them). */
export function readConfig(paths: HomePaths): RelayConfig {
  const { config, problem } = loadConfig(paths);
  if (problem) throw new Error(problem);
  return config;
}

export function readToken(paths: HomePaths): string | null {
  try {
    return readFileSync(paths.token, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function writeConfig(paths: HomePaths, config: RelayConfig, token?: string): void {
  writePrivateFile(paths.config, JSON.stringify(config, null, 2) + '\n');
  if (token !== undefined) writePrivateFile(paths.token, token + '\n');
  // The home's device keys (end-to-end encryption) are made with its first settings: `init`,
  // `config/set`, an agent's home. A home configured before keys existed gets them on first connect.
  loadOrCreateIdentity(paths.home);
}
