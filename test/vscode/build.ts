/** Bundles the in-VS-Code suite to out/vscode-tests/suite.js (CommonJS, `vscode` external). */
import { build } from 'esbuild';
import { join } from 'node:path';
import { errorMessage } from '../../lib/error-message';

export const ROOT = join(__dirname, '..', '..');
export const SUITE_OUT = join(ROOT, 'out', 'vscode-tests', 'suite.js');

export async function buildSuite(): Promise<string> {
  await build({
    entryPoints: [join(ROOT, 'test', 'vscode', 'suite.ts')],
    outfile: SUITE_OUT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: true,
    logLevel: 'warning',
  });
  return SUITE_OUT;
}

if (require.main === module) {
  buildSuite().catch((err) => {
    console.error(errorMessage(err));
    process.exitCode = 1;
  });
}
