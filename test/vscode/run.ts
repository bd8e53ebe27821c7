/**
 * Runs test/vscode/suite.ts inside a real VS Code extension host:
 *
 * - desktop VS Code (Electron host) with @vscode/test-electron when VSCODE_EXECUTABLE_PATH
 *   names an installed VS Code executable (test-electron would otherwise download one, which
 *   our CI machines cannot reach);
 * - else code-server (plain Node host) when scripts/e2e-install.sh has installed it: the
 *   packaged extension plus a tiny runner extension (test/vscode/runner) that runs the suite
 *   on startup and writes the outcome to a file (code-server ignores --extensionTestsPath);
 * - else it says SKIPPED and why, and exits 0.
 *
 * `npm run test:vscode` (builds first).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSuite, ROOT, SUITE_OUT } from './build';
import { errorMessage } from '../../lib/error-message';

async function inDesktopVsCode(exe: string): Promise<boolean> {
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
      extensionTestsEnv: { SWITCHBOARD_HOME: join(tmp, 'home') },
    });
    return true;
  } catch (err) {
    console.error(`test/vscode: ${errorMessage(err)}`);
    return false;
  } finally {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function inCodeServer(): Promise<boolean> {
  const { startWorkbench } = await import('../e2e/harness');
  const { packVsix } = await import('../e2e/vsix');
  await buildSuite();
  const tmp = mkdtempSync(join(tmpdir(), 'sb-vscode-cs-'));
  try {
    const extVsix = join(tmp, 'switchboard.vsix');
    const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    execFileSync(process.execPath, [vsce, 'package', '--no-update-package-json', '--no-git-tag-version', '--allow-missing-repository', '--skip-license', '--readme-path', 'docs/extension.md', '-o', extVsix], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    const runnerDir = join(tmp, 'runner');
    mkdirSync(runnerDir);
    for (const f of ['package.json', 'runner.js']) copyFileSync(join(__dirname, 'runner', f), join(runnerDir, f));
    copyFileSync(SUITE_OUT, join(runnerDir, 'suite.js'));
    const runnerVsix = join(tmp, 'runner.vsix');
    packVsix(runnerDir, runnerVsix);
    const result = join(tmp, 'result.txt');
    const wb = await startWorkbench({ scenario: 'vscode-suite', vsix: [extVsix, runnerVsix], env: { SWITCHBOARD_HOME: join(tmp, 'home'), SWITCHBOARD_SUITE_RESULT: result } });
    try {
      const deadline = Date.now() + 180_000;
      while (!existsSync(result) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      if (!existsSync(result)) {
        console.error('test/vscode: the suite did not finish within 180 s');
        return false;
      }
      await new Promise((r) => setTimeout(r, 200)); // let the write complete
      const text = readFileSync(result, 'utf8');
      console.log(text.trimEnd());
      return text.startsWith('PASS');
    } finally {
      await wb.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function main(): Promise<void> {
  const exe = process.env.VSCODE_EXECUTABLE_PATH;
  if (exe) {
    const ok = await inDesktopVsCode(exe);
    console.log(`test/vscode (desktop VS Code): ${ok ? 'passed' : 'FAILED'}`);
    if (!ok) process.exitCode = 1;
    return;
  }
  const { missingTools } = await import('../e2e/harness');
  const missing = missingTools();
  if (missing) {
    console.log(`test/vscode: SKIPPED — no desktop VS Code (set VSCODE_EXECUTABLE_PATH) and no code-server (${missing}; run scripts/e2e-install.sh).`);
    return;
  }
  const ok = await inCodeServer();
  console.log(`test/vscode (code-server): ${ok ? 'passed' : 'FAILED'}`);
  if (!ok) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`test/vscode: ${errorMessage(err)}`);
  process.exitCode = 1;
});
