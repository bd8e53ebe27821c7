/**
 * Finding a Node runtime that can run the core. The core needs better-sqlite3, a native
 * addon built for one Node ABI: VS Code desktop runs extensions under Electron, code-server
 * under its own Node, so `process.execPath` is often the wrong binary. No `vscode` import.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type CandidateSource = 'setting' | 'extension host' | 'PATH' | 'common location';

export interface RuntimeCandidate {
  path: string;
  source: CandidateSource;
}

export interface CandidateEnv {
  setting: string | undefined;
  execPath: string;
  /** process.versions.electron: set when the extension host is Electron. */
  electron: string | undefined;
  pathEnv: string | undefined;
  platform: NodeJS.Platform;
  home: string;
  isExecutable: (path: string) => boolean;
  listDir: (path: string) => string[];
}

export function defaultCandidateEnv(setting: string | undefined): CandidateEnv {
  return {
    setting,
    execPath: process.execPath,
    electron: process.versions.electron,
    pathEnv: process.env.PATH ?? process.env.Path,
    platform: process.platform,
    home: process.env.HOME ?? process.env.USERPROFILE ?? '',
    isExecutable: (p) => {
      try {
        accessSync(p, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    listDir: (p) => {
      try {
        return readdirSync(p);
      } catch {
        return [];
      }
    },
  };
}

/** Newest first: "v22.3.0" before "v20.11.1". */
function byVersionDesc(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** The binaries to try, in order, without duplicates. Nothing is executed here. */
export function runtimeCandidates(env: CandidateEnv): RuntimeCandidate[] {
  const out: RuntimeCandidate[] = [];
  const seen = new Set<string>();
  const add = (path: string | undefined, source: CandidateSource, mustExist: boolean) => {
    if (!path || seen.has(path)) return;
    if (mustExist && !env.isExecutable(path)) return;
    seen.add(path);
    out.push({ path, source });
  };
  const win = env.platform === 'win32';
  const exe = win ? 'node.exe' : 'node';
  const setting = env.setting?.trim();
  if (setting) add(setting, 'setting', false); // probed even if missing: the failure says why
  if (!env.electron) add(env.execPath, 'extension host', false);
  for (const dir of (env.pathEnv ?? '').split(win ? ';' : delimiter)) {
    if (dir) add(join(dir, exe), 'PATH', true);
  }
  const common: string[] = win
    ? ['C:\\Program Files\\nodejs\\node.exe']
    : ['/usr/local/bin/node', '/usr/bin/node', '/opt/homebrew/bin/node', join(env.home, '.volta/bin/node')];
  if (env.home) {
    const nvm = join(env.home, '.nvm', 'versions', 'node');
    for (const v of env.listDir(nvm).sort(byVersionDesc)) common.push(join(nvm, v, 'bin', 'node'));
    const fnm = join(env.home, '.local', 'share', 'fnm', 'node-versions');
    for (const v of env.listDir(fnm).sort(byVersionDesc)) common.push(join(fnm, v, 'installation', 'bin', 'node'));
  }
  for (const p of common) add(p, 'common location', true);
  return out;
}

export interface ProbeOk {
  ok: true;
  version: string;
}
export interface ProbeFail {
  ok: false;
  /** One line: why this runtime cannot run the core. */
  reason: string;
  /** When the addon was built for another ABI: the NODE_MODULE_VERSION it needs. */
  wantsAbi?: number;
}
export type ProbeResult = ProbeOk | ProbeFail;
export type Probe = (candidate: RuntimeCandidate) => Promise<ProbeResult>;

/** NODE_MODULE_VERSION → Node major, for the ABIs better-sqlite3 ships for. */
const ABI_TO_NODE: Record<number, number> = { 108: 18, 115: 20, 120: 21, 127: 22, 131: 23, 137: 24, 141: 25 };

export function nodeMajorForAbi(abi: number): number | undefined {
  return ABI_TO_NODE[abi];
}

/** Turn a failed `require('better-sqlite3')` into one line (no stack). */
export function interpretProbeError(stderr: string, error: { code?: unknown; killed?: boolean; signal?: unknown; message?: string } | null): ProbeFail {
  if (error && error.code === 'ENOENT') return { ok: false, reason: 'not found' };
  if (error && (error.code === 'EACCES' || error.code === 'EPERM')) return { ok: false, reason: 'not executable' };
  if (error && (error.killed || error.signal === 'SIGTERM')) return { ok: false, reason: 'timed out' };
  const abi = /compiled against a different Node\.js version using\s+NODE_MODULE_VERSION (\d+)\.\s+This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(stderr);
  if (abi) {
    const wants = Number(abi[1]);
    const has = Number(abi[2]);
    const wantsNode = nodeMajorForAbi(wants);
    const hasNode = nodeMajorForAbi(has);
    return {
      ok: false,
      wantsAbi: wants,
      reason: `better-sqlite3 is built for ${wantsNode ? `Node ${wantsNode}` : `NODE_MODULE_VERSION ${wants}`}, this is ${hasNode ? `Node ${hasNode}` : `NODE_MODULE_VERSION ${has}`}`,
    };
  }
  if (/Cannot find module/.test(stderr)) return { ok: false, reason: 'better-sqlite3 is missing from the extension (reinstall the extension)' };
  const firstLine = stderr.split('\n').map((l) => l.trim()).find((l) => /Error/.test(l)) ?? stderr.split('\n')[0]?.trim() ?? '';
  return { ok: false, reason: firstLine ? firstLine.slice(0, 200) : (error?.message?.split('\n')[0] ?? 'failed') };
}

/** The script a candidate runs: load the addon for real (open an in-memory db) and say its version. */
export function probeScript(addonPath: string): string {
  return `const D=require(${JSON.stringify(addonPath)});new D(':memory:').close();process.stdout.write(process.versions.node)`;
}

export function makeProbe(addonPath: string, timeoutMs = 10_000): Probe {
  return (candidate) =>
    new Promise((resolve) => {
      execFile(
        candidate.path,
        ['-e', probeScript(addonPath)],
        { timeout: timeoutMs, windowsHide: true, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (!error) {
            const version = String(stdout).trim();
            const major = Number(version.split('.')[0]);
            if (!(major >= 20)) resolve({ ok: false, reason: `Node ${version || '?'} is too old (the core needs Node 20 or newer)` });
            else resolve({ ok: true, version });
            return;
          }
          resolve(interpretProbeError(String(stderr ?? ''), error as { code?: unknown; killed?: boolean; signal?: unknown; message?: string }));
        },
      );
    });
}

export interface DetectedRuntime {
  path: string;
  source: CandidateSource;
  version: string;
}

export interface DetectionFailure {
  tried: { candidate: RuntimeCandidate; reason: string }[];
  /** What the user should do, in one or two sentences. */
  advice: string;
  wantsNode: number | undefined;
}

export type DetectionResult = { ok: true; runtime: DetectedRuntime; tried: { candidate: RuntimeCandidate; reason: string }[] } | ({ ok: false } & DetectionFailure);

/** Probe candidates in order; the first that loads the addon wins. */
export async function detectRuntime(candidates: RuntimeCandidate[], probe: Probe): Promise<DetectionResult> {
  const tried: { candidate: RuntimeCandidate; reason: string }[] = [];
  let wantsAbi: number | undefined;
  for (const candidate of candidates) {
    const r = await probe(candidate);
    if (r.ok) return { ok: true, runtime: { path: candidate.path, source: candidate.source, version: r.version }, tried };
    tried.push({ candidate, reason: r.reason });
    wantsAbi ??= r.wantsAbi;
  }
  const wantsNode = wantsAbi === undefined ? undefined : nodeMajorForAbi(wantsAbi);
  return { ok: false, tried, wantsNode, advice: noRuntimeAdvice(wantsNode, tried.some((t) => t.candidate.source === 'setting')) };
}

export function noRuntimeAdvice(wantsNode: number | undefined, settingTried: boolean): string {
  const node = wantsNode ? `Node.js ${wantsNode}` : 'Node.js 20 or newer';
  const fix = settingTried ? `Point the setting "switchboard.server.runtime" at a ${node} binary (the one now set cannot load it)` : `Install ${node} and put "node" on PATH, or set "switchboard.server.runtime" to the path of a ${node} binary`;
  return `Switchboard cannot start its core: no Node.js runtime here can load its database module (better-sqlite3). ${fix}, then run "Switchboard: Reconnect".`;
}

/** A short summary of what was tried, for the log and the notification's detail. */
export function describeTried(tried: { candidate: RuntimeCandidate; reason: string }[]): string {
  if (!tried.length) return 'no Node.js binary found (setting, extension host, PATH, common locations)';
  return tried.map((t) => `${t.candidate.path} (${t.candidate.source}): ${t.reason}`).join('; ');
}
