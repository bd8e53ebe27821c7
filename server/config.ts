/** The home's relay settings: `config.json` (relay URL, user, device id) and `token` (0600). */
import { readFileSync } from 'node:fs';
import { canonicalUserName } from '../protocol/names';
import { newId } from './ids';
import type { HomePaths } from './paths';
import { writePrivateFile } from './fs-private';

export interface RelayConfig {
  relay: string | null;
  user: string | null;
  /** Stable per home: the relay tracks delivery per device. */
  device: string;
  /** The user allowed a `ws://` relay on another machine (`init --insecure`); see protocol/relay-url.ts. */
  insecure: boolean;
}

export function readConfig(paths: HomePaths): RelayConfig {
  let parsed: Partial<RelayConfig> = {};
  try {
    parsed = JSON.parse(readFileSync(paths.config, 'utf8')) as Partial<RelayConfig>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${paths.config} is not valid JSON; fix or remove it (${(error as Error).message})`);
  }
  return {
    relay: typeof parsed.relay === 'string' ? parsed.relay : null,
    // Written before names were case-insensitive, it may hold another spelling: use the canonical one.
    user: typeof parsed.user === 'string' ? canonicalUserName(parsed.user) : null,
    device: typeof parsed.device === 'string' ? parsed.device : newId(),
    insecure: parsed.insecure === true,
  };
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
}
