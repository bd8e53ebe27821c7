/** The user a home is set up as (config.json), read without the core's config module so the CLI bundle stays lean. */
import { readFileSync } from 'node:fs';
import { canonicalUserName, isValidUserName } from '../../protocol/names';
import type { HomePaths } from '../../lib/node/paths';

export function ownerName(paths: HomePaths): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(paths.config, 'utf8'));
    const user = typeof parsed === 'object' && parsed !== null && 'user' in parsed ? parsed.user : undefined;
    return typeof user === 'string' && isValidUserName(user) ? canonicalUserName(user) : undefined;
  } catch {
    return undefined;
  }
}
