/**
 * Runs test/vscode/suite.ts inside a real desktop VS Code (Electron extension host) with
 * @vscode/test-electron. It needs an installed VS Code: set VSCODE_EXECUTABLE_PATH to its
 * executable. Without it the suite is skipped (test-electron would download VS Code, which
 * our CI machines cannot reach). `npm run test:vscode`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSuite, ROOT } from './build';

async function main(exe: string | undefined): Promise<void> {
  if (!exe) {
    console.log('test/vscode: SKIPPED — no desktop VS Code here. Set VSCODE_EXECUTABLE_PATH to a VS Code executable (e.g. /usr/share/code/code) to run the in-VS-Code suite.');
    return;
  }
  const { runTests } = await import('@vscode/test-electron');
  const suite = await buildSuite();
  const tmp = mkdtempSync(join(tmpdir(), 'sb-vscode-'));
  mkdirSync(join(tmp, 'workspace'));
  try {
    await runTests({
      vscodeExecutablePath: exe,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: suite,
      launchArgs: [join(tmp, 'workspace'), '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${join(tmp, 'user-data')}`, '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { SWITCHBOARD_HOME: join(tmp, 'home'), SWITCHBOARD_VSCODE_TEST: '1' },
    });
    console.log('test/vscode: passed');
  } catch (err) {
    console.error(`test/vscode: FAILED — ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

void main(process.env.VSCODE_EXECUTABLE_PATH);
