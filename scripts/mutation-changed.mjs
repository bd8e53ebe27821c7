#!/usr/bin/env node
// `npm run test:mutation:changed [-- <base>]`: mutation-tests only the in-scope modules that
// differ from <base> (default: main), incrementally, so a run costs minutes, not hours.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import config from '../stryker.config.mjs';

const base = process.argv[2] ?? 'main';
const changed = execFileSync('git', ['diff', '--name-only', `${base}...HEAD`], { encoding: 'utf8' })
  .split('\n')
  .concat(execFileSync('git', ['diff', '--name-only', 'HEAD'], { encoding: 'utf8' }).split('\n'))
  .filter(Boolean);
// The scope's entries are paths or globs of one `*` within a folder (server/outbox/*.ts).
const inScopePattern = (entry) => new RegExp(`^${entry.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
const patterns = config.mutate.map(inScopePattern);
const inScope = [...new Set(changed)].filter((file) => patterns.some((p) => p.test(file)) && existsSync(file));
if (inScope.length === 0) {
  console.log(`no module in the mutation scope differs from ${base}; nothing to do`);
  process.exit(0);
}
console.log(`mutating ${inScope.join(', ')}`);
const result = spawnSync('npx', ['stryker', 'run', '--mutate', inScope.join(',')], { stdio: 'inherit' });
process.exit(result.status ?? 1);
