/**
 * Installing and removing a service definition (units.ts) and telling the user's service
 * manager about it: `systemctl --user` on Linux, `launchctl` in the `gui/<uid>` domain on macOS.
 *
 * The file is always written; enabling it needs a manager that answers (a container or an SSH
 * session may have no user systemd or no GUI domain). Then nothing is enabled, the report says
 * why and which command enables it later, and the install still succeeds: the file is what was
 * asked for, and the next login (or that command) starts it. A manager that answers and then
 * refuses is a failure (exit 1). A file switchboard did not write is never rewritten or removed.
 *
 * SWITCHBOARD_SYSTEMCTL / SWITCHBOARD_LAUNCHCTL name the manager's binary (the tests point them at
 * a script that records its argv) and SWITCHBOARD_SERVICE_MANAGER picks systemd or launchd where
 * the platform would pick the other.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../cli/errors';
import { errorMessage } from '../../error-message';
import { isOurs, launchdLabel, serviceFile, unwritable, type ServiceKind, type ServiceManager, type ServiceSpec } from './units';

export type InstallAction = 'created' | 'updated' | 'unchanged';
export type UninstallAction = 'removed' | 'absent';

/** What install did; under `--json` it is printed as is (docs/protocol.md, "CLI `--json` output"). */
export interface InstallReport {
  service: ServiceKind;
  manager: ServiceManager;
  /** `switchboard-core.service` (systemd) or the launchd label. */
  unit: string;
  path: string;
  action: InstallAction;
  /** The argv the service runs, and where its output goes. */
  exec: readonly string[];
  log: string;
  /** The manager runs it now and at every login. */
  enabled: boolean;
  /** The manager commands that ran, in order, each as one shell-quoted line. */
  ran: string[];
  /** The command that enables it, by hand. */
  enable_command: string;
  /** Why the manager was not asked (not found, no user session); null when it was. */
  not_enabled_reason: string | null;
  /** `--dry-run`: nothing was written and nothing run; `action` says what an install would do. */
  dry_run: boolean;
}

/** What uninstall did. */
export interface UninstallReport {
  service: ServiceKind;
  manager: ServiceManager;
  unit: string;
  path: string;
  /** `absent`: there was no file, so nothing was done. */
  action: UninstallAction;
  /** The manager stopped and disabled it (false when it was not reachable, or nothing was installed). */
  stopped: boolean;
  ran: string[];
  /** The command that stops it, by hand. */
  stop_command: string;
  not_stopped_reason: string | null;
}

export interface ServiceRequest {
  spec: ServiceSpec;
  /** Install only: say what would be written, write and run nothing. */
  dryRun?: boolean;
  /** Run before the file is written: creates the log's directory and file with their modes. */
  prepare?: () => void;
}

const MANAGER_TIMEOUT_MS = 60_000;

export function chooseManager(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): ServiceManager {
  const forced = env.SWITCHBOARD_SERVICE_MANAGER;
  if (forced === 'systemd' || forced === 'launchd') return forced;
  if (forced !== undefined && forced !== '') throw new CliError(`SWITCHBOARD_SERVICE_MANAGER is "${forced}"`, ExitCode.Usage, { hint: 'set it to systemd or launchd, or unset it' });
  if (platform === 'darwin') return 'launchd';
  if (platform === 'linux') return 'systemd';
  throw new CliError(`services are installed with systemd (Linux) or launchd (macOS); ${platform} has neither`, ExitCode.Failed, { hint: 'start it with `switchboard daemon start` or your own service manager' });
}

function userHome(env: NodeJS.ProcessEnv): string {
  return resolve(env.HOME || homedir());
}

/** Where the file goes: `$XDG_CONFIG_HOME/systemd/user` (else ~/.config/…), or ~/Library/LaunchAgents. */
export function serviceFilePath(manager: ServiceManager, name: string, env: NodeJS.ProcessEnv): string {
  if (manager === 'launchd') return join(userHome(env), 'Library', 'LaunchAgents', `${launchdLabel(name)}.plist`);
  // The XDG spec says a relative XDG_CONFIG_HOME is to be ignored; systemd does the same.
  const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(userHome(env), '.config');
  return join(config, 'systemd', 'user', `${name}.service`);
}

function unitName(manager: ServiceManager, spec: ServiceSpec): string {
  return manager === 'systemd' ? `${spec.name}.service` : launchdLabel(spec.name);
}

export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

interface Outcome {
  ok: boolean;
  /** The binary is not there at all. */
  missing: boolean;
  problem: string;
}

/** Runs the service manager and records the command line. */
class Manager {
  readonly ran: string[] = [];
  private readonly bin: string;
  private readonly display: string;

  constructor(
    readonly kind: ServiceManager,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    const variable = kind === 'systemd' ? 'SWITCHBOARD_SYSTEMCTL' : 'SWITCHBOARD_LAUNCHCTL';
    this.display = kind === 'systemd' ? 'systemctl' : 'launchctl';
    this.bin = env[variable] || this.display;
  }

  /** The domain launchd agents live in: the logged-in user's GUI session. */
  get domain(): string {
    return `gui/${process.getuid?.() ?? 0}`;
  }

  /** `systemctl --user …` or `launchctl …`, as a person would type it. */
  line(args: readonly string[]): string {
    return [this.display, ...(this.kind === 'systemd' ? ['--user'] : []), ...args].map(shellWord).join(' ');
  }

  run(args: readonly string[], record = true): Outcome {
    const argv = this.kind === 'systemd' ? ['--user', ...args] : [...args];
    if (record) this.ran.push(this.line(args));
    const r = spawnSync(this.bin, argv, { env: this.env, encoding: 'utf8', timeout: MANAGER_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) {
      const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
      return { ok: false, missing, problem: missing ? `${this.display} was not found` : `${this.display} could not run: ${errorMessage(r.error)}` };
    }
    if (r.status === 0) return { ok: true, missing: false, problem: '' };
    const said = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
    return { ok: false, missing: false, problem: `\`${this.line(args)}\` exited ${r.status ?? r.signal}${said ? `: ${said}` : ''}` };
  }

  /**
   * Whether the manager answers here at all: systemd's `daemon-reload` (which install needs
   * anyway) or launchd's `print gui/<uid>`. Undefined when it does, else why not.
   */
  probe(): string | undefined {
    const r = this.kind === 'systemd' ? this.run(['daemon-reload']) : this.run(['print', this.domain], false);
    if (r.ok) return undefined;
    if (r.missing) return r.problem;
    return this.kind === 'systemd' ? `${r.problem} (no user systemd session here?)` : `${r.problem} (no GUI session for this user?)`;
  }

  loaded(label: string): boolean {
    return this.run(['print', `${this.domain}/${label}`], false).ok;
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${errorMessage(error)}`);
  }
}

function notOurs(path: string, verb: 'install' | 'uninstall'): CliError {
  const what = verb === 'install' ? 'not overwriting it' : 'not removing it';
  return new CliError(`${path} exists and was not written by switchboard; ${what}`, ExitCode.Failed, {
    code: 'not_ours',
    hint: verb === 'install' ? 'move it aside (or remove it) and run this again' : 'stop and remove it with your service manager if you mean to',
  });
}

/** Writes the file (if it changed) and enables it. Throws `not_ours` for a file switchboard did not write. */
export function installService(request: ServiceRequest, env: NodeJS.ProcessEnv = process.env): { report: InstallReport; exitCode: number; problem?: string; content?: string } {
  const { spec } = request;
  const kind = chooseManager(env);
  const path = serviceFilePath(kind, spec.name, env);
  const content = serviceFile(kind, spec);
  const existing = readIfExists(path);
  if (existing !== undefined && !isOurs(kind, existing)) throw notOurs(path, 'install');
  const action: InstallAction = existing === undefined ? 'created' : existing === content ? 'unchanged' : 'updated';
  const dryRun = request.dryRun === true;
  if (!dryRun) {
    request.prepare?.();
    if (action !== 'unchanged') writeAtomically(path, content);
  }

  const manager = new Manager(kind, env);
  const unit = unitName(kind, spec);
  const manual =
    kind === 'systemd'
      ? `${manager.line(['daemon-reload'])} && ${manager.line(['enable', '--now', unit])}`
      : `${manager.line(['enable', `${manager.domain}/${unit}`])} && ${manager.line(['bootstrap', manager.domain, path])}`;
  const report: InstallReport = { service: spec.kind, manager: kind, unit, path, action, exec: spec.program, log: spec.log, enabled: false, ran: manager.ran, enable_command: manual, not_enabled_reason: null, dry_run: dryRun };
  if (dryRun) return { report, exitCode: ExitCode.Ok, content };
  const unavailable = manager.probe();
  if (unavailable !== undefined) {
    report.not_enabled_reason = unavailable;
    return { report, exitCode: ExitCode.Ok };
  }
  const steps: string[][] = [];
  if (kind === 'systemd') {
    steps.push(['enable', '--now', unit]);
    // enable --now leaves a running service on its old definition.
    if (action === 'updated') steps.push(['restart', unit]);
  } else {
    const loaded = manager.loaded(unit);
    if (loaded && action !== 'unchanged') steps.push(['bootout', `${manager.domain}/${unit}`]);
    if (!loaded || action !== 'unchanged') steps.push(['enable', `${manager.domain}/${unit}`], ['bootstrap', manager.domain, path]);
  }
  for (const step of steps) {
    const r = manager.run(step);
    if (!r.ok) return { report, exitCode: ExitCode.Failed, problem: r.problem };
  }
  report.enabled = true;
  return { report, exitCode: ExitCode.Ok };
}

/** Stops, disables and removes the file, when switchboard wrote it. Throws `not_ours` otherwise. */
export function uninstallService(spec: ServiceSpec, env: NodeJS.ProcessEnv = process.env): { report: UninstallReport; exitCode: number; problem?: string } {
  const kind = chooseManager(env);
  const path = serviceFilePath(kind, spec.name, env);
  const existing = readIfExists(path);
  const manager = new Manager(kind, env);
  const unit = unitName(kind, spec);
  const manual = kind === 'systemd' ? manager.line(['disable', '--now', unit]) : manager.line(['bootout', `${manager.domain}/${unit}`]);
  const report: UninstallReport = { service: spec.kind, manager: kind, unit, path, action: 'absent', stopped: false, ran: manager.ran, stop_command: manual, not_stopped_reason: null };
  if (existing === undefined) return { report, exitCode: ExitCode.Ok };
  if (!isOurs(kind, existing)) throw notOurs(path, 'uninstall');
  const unavailable = manager.probe();
  if (unavailable === undefined) {
    const stop = kind === 'systemd' ? ['disable', '--now', unit] : manager.loaded(unit) ? ['bootout', `${manager.domain}/${unit}`] : undefined;
    const r = stop ? manager.run(stop) : undefined;
    if (r && !r.ok) return { report, exitCode: ExitCode.Failed, problem: r.problem };
    report.stopped = true;
  } else report.not_stopped_reason = unavailable;
  unlinkSync(path);
  if (kind === 'systemd') {
    removeWantsLink(path, unit);
    if (unavailable === undefined) manager.run(['daemon-reload']);
  }
  report.action = 'removed';
  return { report, exitCode: ExitCode.Ok };
}

/** `enable` made default.target.wants/<unit> point at our file; without a manager to disable it, that link would dangle. */
function removeWantsLink(path: string, unit: string): void {
  const link = join(dirname(path), 'default.target.wants', unit);
  try {
    if (lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === path) unlinkSync(link);
  } catch {
    // No link: nothing to tidy.
  }
}

function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (error) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw new CliError(`cannot write ${path}: ${errorMessage(error)}`);
  }
}

function managerWhat(report: { manager: ServiceManager }): string {
  return report.manager === 'systemd' ? 'systemd user unit' : 'launchd agent';
}

/** The lines a person reads after install. */
export function describeInstall(report: InstallReport): string[] {
  const verb = report.dry_run
    ? report.action === 'unchanged' ? 'would leave unchanged' : report.action === 'created' ? 'would write' : 'would rewrite'
    : report.action === 'unchanged' ? 'unchanged' : report.action === 'created' ? 'wrote' : 'rewrote';
  const lines = [
    `${verb} ${report.path} (${managerWhat(report)} ${report.unit}):`,
    `  runs:    ${report.exec.map(shellWord).join(' ')}`,
    `  restart: on failure, after ${report.manager === 'systemd' ? '5 s' : 'at least 5 s'}; a clean stop stays stopped`,
    `  log:     ${report.log}`,
  ];
  if (report.dry_run) lines.push(`nothing written or enabled (--dry-run); an install then runs: ${report.enable_command}`);
  else if (report.not_enabled_reason) lines.push(`not enabled: ${report.not_enabled_reason}; enable it with: ${report.enable_command}`);
  else if (report.enabled) lines.push(`enabled and started: ${report.ran.join(' && ')}`);
  return lines;
}

/** The lines a person reads after uninstall. */
export function describeUninstall(report: UninstallReport): string[] {
  if (report.action === 'absent') return [`no ${report.service} service installed here: ${report.path} does not exist`];
  const head = `removed ${report.path} (${managerWhat(report)} ${report.unit})`;
  if (report.not_stopped_reason) return [head, `not stopped: ${report.not_stopped_reason}; if it runs elsewhere, stop it with: ${report.stop_command}`];
  return [head, report.ran.length > 0 ? `stopped and disabled: ${report.ran.join(' && ')}` : 'it was not loaded'];
}

/**
 * Runs install or uninstall for a verb and prints its report: the lines above, or one JSON
 * object under `--json`. A manager that answered and refused is thrown after the report (the
 * file is written; the line says what to run once it is fixed).
 */
export function runServiceVerb(op: 'install' | 'uninstall', request: ServiceRequest, json: boolean, out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): number {
  if (op === 'uninstall') {
    const { report, exitCode, problem } = uninstallService(request.spec, env);
    if (problem !== undefined) throw new CliError(`${report.path} is left in place: ${problem}`, ExitCode.Failed, { hint: `fix that, then run this again (or stop it by hand: ${report.stop_command})` });
    out(json ? JSON.stringify(report) : describeUninstall(report).join('\n'));
    return exitCode;
  }
  const { report, exitCode, problem, content } = installService(request, env);
  // A dry run shows the whole file (under --json too, as `content`): that is what it is for.
  out(json ? JSON.stringify(content === undefined ? report : { ...report, content }) : [...describeInstall(report), ...(content === undefined ? [] : ['', content.trimEnd()])].join('\n'));
  if (problem !== undefined) throw new CliError(`${report.path} is written but not enabled: ${problem}`, exitCode, { hint: `fix that, then run: ${report.enable_command}` });
  return exitCode;
}

/** Refuses a path or argument a unit cannot hold (a line break would end the line, or start a new key). */
export function checkWritable(what: string, text: string): void {
  if (unwritable(text)) throw new CliError(`${what} ${JSON.stringify(text)} holds a control character, which a service file cannot hold`, ExitCode.Usage, { hint: 'use a path without line breaks or control characters' });
}
