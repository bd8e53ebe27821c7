/**
 * The README's CLI section, generated from the command declarations (server/cli/commands.ts
 * and the relay's, relay/main.ts) so it always says what `--help` says.
 *   node --import tsx scripts/cli-readme.ts          exits 1 if README.md is out of date
 *   node --import tsx scripts/cli-readme.ts --write  rewrites the section
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELAY } from '../relay/main';
import { SWITCHBOARD } from '../server/cli/commands';
import { synopsis } from '../lib/node/cli/help';

export const README = join(__dirname, '..', 'README.md');
const BEGIN = '<!-- cli-usage: generated from the command declarations by `node --import tsx scripts/cli-readme.ts --write` -->';
const END = '<!-- /cli-usage -->';

/** Every form of every verb and sub-verb, one usage line each (wrapped), as `--help` prints them. */
export function cliUsageBlock(): string {
  const lines = [...synopsis(SWITCHBOARD, 'switchboard'), ...synopsis(RELAY, 'switchboard relay')];
  return ['```', ...lines, '```'].join('\n');
}

/** The README with its generated section replaced; throws if the markers are missing. */
export function withUsage(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin === -1 || end < begin) throw new Error(`README.md lacks the ${BEGIN} … ${END} markers`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${cliUsageBlock()}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const current = readFileSync(README, 'utf8');
  const wanted = withUsage(current);
  if (process.argv.includes('--write')) writeFileSync(README, wanted);
  else if (wanted !== current) {
    process.stderr.write('README.md: the CLI section is out of date; run `node --import tsx scripts/cli-readme.ts --write`\n');
    process.exitCode = 1;
  }
}
