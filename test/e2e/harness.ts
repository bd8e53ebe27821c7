/**
 * Browser-driven e2e harness: a real VS Code workbench (code-server, installed by
 * scripts/e2e-install.sh) in Debian's chromium, driven by playwright-core.
 *
 *   const wb = await startWorkbench({ scenario: 'send', vsix: 'switchboard.vsix',
 *                                     env: { SWITCHBOARD_HOME: home } });
 *   try { ...wb.page...; await wb.screenshot(); } finally { await wb.close(); }
 *
 * Everything it starts (code-server's process group, the browser) is stopped by close(), by
 * PID; every wait is bounded.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ARTIFACTS_DIR, tools } from './paths';
import { freePort } from '../support/ports';
import { Proc, run } from './proc';
import { withTimeout } from '../../lib/node/with-timeout';

export { missingTools } from './paths';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** User settings every session gets (a test's `settings` override them). */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false, // Restricted Mode would disable extensions
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
};

export interface WorkbenchOptions {
  /** Names the screenshot (artifacts/e2e/<scenario>.png) and the temp folder. */
  scenario: string;
  /** .vsix file(s) installed with --install-extension before start. */
  vsix?: string | string[];
  /** Extra user settings (merged over DEFAULT_SETTINGS). */
  settings?: Record<string, unknown>;
  /** Environment for code-server and so for the extension host (e.g. SWITCHBOARD_HOME). */
  env?: Record<string, string>;
  /** Workspace folder to open; a fresh empty temp folder when omitted. */
  folder?: string;
  viewport?: { width: number; height: number };
  /** Bound for server start + workbench load (default 90 s). */
  startTimeoutMs?: number;
  /** Default timeout for page actions and waits (default 20 s). */
  actionTimeoutMs?: number;
  /** Keep the temp folder after close (for debugging); also when E2E_KEEP_TMP=1. */
  keepTemp?: boolean;
}

export interface WorkbenchSession {
  readonly page: Page;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly url: string;
  readonly port: number;
  /** Temp root holding user-data, extensions, folder and logs. */
  readonly tmpDir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly folder: string;
  /** code-server's output so far. */
  serverLog(): string;
  /** Browser console errors and page errors seen so far. */
  consoleErrors(): string[];
  /** Saves artifacts/e2e/<name ?? scenario>.png (full page); returns its path. */
  screenshot(name?: string): Promise<string>;
  close(): Promise<void>;
}

export function screenshotPath(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return join(ARTIFACTS_DIR, `${safe}.png`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = screenshotPath(name);
  await page.screenshot({ path: file, timeout: 15_000 });
  return file;
}

/** Environment for code-server: ours, minus what would make it act as a CLI of another VS Code. */
function serverEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'NODE_OPTIONS') continue;
    if (k.startsWith('npm_')) continue;
    env[k] = v;
  }
  // No extension gallery: the machines reach no marketplace, and tests must not depend on one.
  env.EXTENSIONS_GALLERY = JSON.stringify({ serviceUrl: '' });
  return { ...env, ...extra };
}

export async function startWorkbench(opts: WorkbenchOptions): Promise<WorkbenchSession> {
  const t = tools();
  const startTimeout = opts.startTimeoutMs ?? 90_000;
  const actionTimeout = opts.actionTimeoutMs ?? 20_000;
  const safeName = opts.scenario.replace(/[^A-Za-z0-9._-]+/g, '-');
  const tmpDir = mkdtempSync(join(tmpdir(), `sb-e2e-${safeName}-`));
  const userDataDir = join(tmpDir, 'user-data');
  const extensionsDir = join(tmpDir, 'extensions');
  const folder = opts.folder ? resolve(opts.folder) : join(tmpDir, 'workspace');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2),
  );
  // Own config file, so code-server never writes into ~/.config/code-server.
  const configFile = join(tmpDir, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  const env = serverEnv(opts.env);
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  let server: Proc | undefined;
  let browser: Browser | undefined;
  const keep = opts.keepTemp || process.env.E2E_KEEP_TMP === '1';
  const cleanup = async () => {
    if (browser) await withTimeout(browser.close(), 15_000, 'browser close').catch(() => undefined);
    if (server) await server.stop(5_000);
    if (!keep) rmSync(tmpDir, { recursive: true, force: true, maxRetries: 3 });
  };

  try {
    const vsixes = opts.vsix === undefined ? [] : Array.isArray(opts.vsix) ? opts.vsix : [opts.vsix];
    for (const vsix of vsixes) {
      const out = await run(
        'code-server --install-extension',
        t.node,
        [t.codeServerEntry, ...common, '--install-extension', resolve(vsix)],
        { env, cwd: tmpDir, timeoutMs: 120_000 },
      );
      if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed:\n${out}`);
    }

    const port = await freePort();
    server = new Proc(
      'code-server',
      t.node,
      [
        t.codeServerEntry,
        ...common,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        folder,
      ],
      { env, cwd: tmpDir },
    );
    await server.waitFor(/HTTP server listening on/, startTimeout);
    const url = `http://127.0.0.1:${port}/`;

    browser = await chromium.launch({
      executablePath: t.chromium,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: startTimeout,
    });
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1400, height: 900 },
      // The workbench asks for clipboard access for copy commands.
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    context.setDefaultTimeout(actionTimeout);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`${url}?folder=${encodeURIComponent(folder)}`, { timeout: startTimeout });
    await page.locator('div.monaco-workbench').waitFor({ state: 'visible', timeout: startTimeout });

    const srv = server;
    const br = browser;
    let closed = false;
    return {
      page,
      browser: br,
      context,
      url,
      port,
      tmpDir,
      userDataDir,
      extensionsDir,
      folder,
      serverLog: () => srv.output,
      consoleErrors: () => [...errors],
      screenshot: (name?: string) => screenshot(page, name ?? opts.scenario),
      close: async () => {
        if (closed) return;
        closed = true;
        await cleanup();
      },
    };
  } catch (err) {
    const log = server ? `\n--- code-server output (tail) ---\n${server.tail()}` : '';
    await cleanup();
    if (err instanceof Error) err.message += log;
    throw err;
  }
}
