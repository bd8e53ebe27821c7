/**
 * Chooses the Node binary that runs the core (see runtime.ts) and remembers the choice in
 * globalState, keyed by the extension's path and version so an update re-detects.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { defaultCandidateEnv, describeTried, detectRuntime, makeProbe, runtimeCandidates, type DetectedRuntime, type DetectionFailure } from './runtime';
import { RUNTIME_CACHE_KEY } from './ids';
import { showError } from './notices';

interface Cached {
  key: string;
  runtime: DetectedRuntime;
}

export type Resolved = { ok: true; runtime: DetectedRuntime; cached: boolean } | ({ ok: false } & DetectionFailure);

export class RuntimeResolver {
  private memo: Resolved | undefined;
  private reported = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  private cacheKey(setting: string): string {
    const version = (this.context.extension.packageJSON as { version?: string }).version ?? '';
    return `${this.context.extensionPath}|${version}|${setting}`;
  }

  private setting(): string {
    return vscode.workspace.getConfiguration('switchboard').get<string>('server.runtime', '').trim();
  }

  async resolve(): Promise<Resolved> {
    if (this.memo?.ok) return this.memo;
    const setting = this.setting();
    const key = this.cacheKey(setting);
    const cached = this.context.globalState.get<Cached>(RUNTIME_CACHE_KEY);
    if (cached && cached.key === key && existsSync(cached.runtime.path)) {
      this.memo = { ok: true, runtime: cached.runtime, cached: true };
      return this.memo;
    }
    const addon = join(this.context.extensionPath, 'node_modules', 'better-sqlite3');
    const candidates = runtimeCandidates(defaultCandidateEnv(setting || undefined));
    this.log.info(`looking for a Node runtime that can load ${addon}: ${candidates.map((c) => c.path).join(', ') || '(no candidates)'}`);
    const result = await detectRuntime(candidates, makeProbe(addon));
    if (result.tried.length) this.log.info(`runtimes rejected: ${describeTried(result.tried)}`);
    if (result.ok) {
      this.log.info(`using ${result.runtime.path} (Node ${result.runtime.version}, from ${result.runtime.source})`);
      await this.context.globalState.update(RUNTIME_CACHE_KEY, { key, runtime: result.runtime } satisfies Cached);
      this.memo = { ok: true, runtime: result.runtime, cached: false };
      this.reported = false;
      return this.memo;
    }
    this.memo = result;
    return result;
  }

  /** Drop the cached choice (it failed to start a core, or the setting changed). */
  invalidate(): void {
    this.memo = undefined;
    void this.context.globalState.update(RUNTIME_CACHE_KEY, undefined);
  }

  /** Forget a failed detection so the next resolve probes again (Reconnect, setting change). */
  forgetFailure(): void {
    if (this.memo && !this.memo.ok) this.memo = undefined;
    this.reported = false;
  }

  /** Say once, plainly, what to install or set. No stack trace. */
  reportFailure(failure: DetectionFailure): void {
    this.log.error(`${failure.advice} Tried: ${describeTried(failure.tried)}`);
    if (this.reported) return;
    this.reported = true;
    void showError(failure.advice, 'Open Settings', 'Show Log').then((pick) => {
      if (pick === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'switchboard.server.runtime');
      if (pick === 'Show Log') this.log.show(true);
    });
  }
}
