/** `switchboard daemon [start|stop|restart|status|install|uninstall]`: the headless core's lifecycle, and the core as a user service. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readHolder } from '../holder';
import { join } from 'node:path';
import { ensurePrivateDir } from '../fs-private';
import type { HomePaths } from '../../lib/node/paths';
import { socketAnswers } from '../socket-probe';
import { parseAge } from '../../lib/age';
import { command, group, type StringFlag } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { loadDirect, tryDelegate } from './transport';
import { JSON_FLAG } from './args';
import { status } from './verbs';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CORE_FLAGS = {
  'idle-exit': { type: 'string', value: 'seconds', description: 'stop the core after this many seconds with no client connected (default: never)' },
  'event-retention': { type: 'string', value: 'age', description: 'prune events older than this age, such as 30d, 12h or 90s (default 30d)' },
} as const satisfies Record<string, StringFlag>;

/** The core's own flags, checked here so a bad value is a usage error before anything starts. */
function coreOptions(values: { 'idle-exit'?: string; 'event-retention'?: string }) {
  const idle = values['idle-exit'];
  if (idle !== undefined && !(Number(idle) > 0)) throw usage('--idle-exit takes a number of seconds greater than 0');
  const retention = values['event-retention'];
  const eventRetentionMs = retention === undefined ? undefined : parseAge(retention);
  if (retention !== undefined && eventRetentionMs === undefined) throw usage('--event-retention takes an age such as 30d, 12h or 90s');
  const daemonArgs = [...(idle ? ['--idle-exit', idle] : []), ...(retention ? ['--event-retention', retention] : [])];
  return { idle, eventRetentionMs, daemonArgs };
}

const daemonStart = command(
  { name: 'start', summary: 'start a core in the background and wait until it answers', flags: CORE_FLAGS, examples: ['switchboard daemon start --idle-exit 3600'] },
  async ({ values }, context: VerbContext) => startDaemon(context, coreOptions(values).daemonArgs),
);

const daemonStop = command(
  { name: 'stop', summary: 'stop the running core and wait until it is gone', flags: {}, examples: ['switchboard daemon stop'] },
  async (_input, context: VerbContext) => stopDaemon(context),
);

const daemonRestart = command(
  { name: 'restart', summary: 'stop the running core (if any), then start a new one', flags: CORE_FLAGS, examples: ['switchboard daemon restart'] },
  async ({ values }, context: VerbContext) => {
    const { daemonArgs } = coreOptions(values);
    await stopDaemon(context);
    return startDaemon(context, daemonArgs);
  },
);

const SERVICE_DETAILS = [
  'Linux: a systemd user unit in $XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user), enabled with systemctl --user. macOS: a launchd agent in ~/Library/LaunchAgents, loaded with launchctl bootstrap gui/<uid>.',
  "It runs this node and this build's dist/daemon.js with --home <this home> (one unit per home; the default home's is switchboard-core), restarts it 5 s after a failure (a clean stop, such as `switchboard daemon stop`, stays stopped) and appends its output to <home>/core.log.",
  'Without a working service manager here (no user systemd session, no GUI session) the file is written but not enabled, the command that enables it is printed, and it exits 0. A file there that switchboard did not write is never touched (exit 1).',
  'Run it again after moving the build or changing node: the unit names both by absolute path.',
] as const;

const daemonInstall = command(
  {
    name: 'install',
    summary: "run this home's core as a user service: write a systemd user unit (Linux) or launchd agent (macOS) and enable it",
    details: [...SERVICE_DETAILS, 'An install that finds its own unit unchanged says so and only makes sure it is enabled. Details: docs/operations.md, "Running as a service".'],
    flags: {
      'event-retention': CORE_FLAGS['event-retention'],
      'dry-run': { type: 'boolean', description: 'show the file it would write (all of it) and where, write and enable nothing' },
      json: JSON_FLAG,
    },
    examples: ['switchboard daemon install', 'switchboard daemon install --dry-run', 'switchboard --home ~/work-home daemon install --json'],
  },
  async ({ values }, context: VerbContext) => {
    const { daemonArgs } = coreOptions(values);
    const { runCoreService } = await import('./core-service');
    return runCoreService('install', context.paths, daemonArgs, { json: values.json === true, dryRun: values['dry-run'] === true }, context.out);
  },
);

const daemonUninstall = command(
  {
    name: 'uninstall',
    summary: "stop, disable and remove this home's core service (only a unit switchboard wrote)",
    details: ['Stops the running service (systemctl --user disable --now, or launchctl bootout), then removes the file.', 'With nothing installed it says so and exits 0; a file switchboard did not write is left alone (exit 1).'],
    flags: { json: JSON_FLAG },
    examples: ['switchboard daemon uninstall'],
  },
  async ({ values }, context: VerbContext) => {
    const { runCoreService } = await import('./core-service');
    return runCoreService('uninstall', context.paths, [], { json: values.json === true }, context.out);
  },
);

const daemonStatus = { ...status, spec: { ...status.spec, summary: 'the same as `switchboard status`', examples: ['switchboard daemon status --json'] as const } };

export const daemon = group(
  {
    name: 'daemon',
    summary: 'run the core: in the foreground without a command (for service managers), or start, stop, restart it, or install it as a service',
    flags: CORE_FLAGS,
    examples: ['switchboard daemon', 'switchboard daemon start', 'switchboard daemon install'],
  },
  [daemonStart, daemonStop, daemonRestart, daemonStatus, daemonInstall, daemonUninstall],
  {
    handler: async ({ values }, context: VerbContext) => {
      // Foreground: the core runs in this process until stopped (for service managers).
      const { idle, eventRetentionMs } = coreOptions(values);
      return loadDirect().runDaemon({ home: context.paths.home, idleExitSeconds: idle === undefined ? undefined : Number(idle), eventRetentionMs });
    },
  },
);

function holderPid(paths: HomePaths): string {
  const holder = readHolder(paths);
  return holder ? `pid ${holder.pid}` : 'pid unknown';
}

/** Starts a detached core and returns once it answers on its socket. */
async function startDaemon(context: VerbContext, daemonArgs: string[]): Promise<number> {
  const { paths } = context;
  if (await socketAnswers(paths.socket)) {
    context.out(`core already running (${holderPid(paths)}) on ${paths.socket}`);
    return ExitCode.Ok;
  }
  ensurePrivateDir(paths.home);
  const log = openSync(paths.log, 'a', 0o600);
  const child = spawn(process.execPath, [join(__dirname, 'daemon.js'), '--home', paths.home, ...daemonArgs], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await socketAnswers(paths.socket, 500)) {
      context.out(`core started (pid ${child.pid}) on ${paths.socket}`);
      return ExitCode.Ok;
    }
    if (exited !== undefined) {
      // Lost a race with another starter: fine if the winner now answers.
      if (exited === ExitCode.Locked && (await socketAnswers(paths.socket))) {
        context.out(`core already running (${holderPid(paths)}) on ${paths.socket}`);
        return ExitCode.Ok;
      }
      throw new CliError(`the core exited with code ${exited} before it was ready: ${lastLogLine(paths)}`, exited === ExitCode.Locked ? ExitCode.Locked : ExitCode.Failed);
    }
    await sleep(25);
  }
  throw new CliError(`the core (pid ${child.pid}) did not answer on ${paths.socket} within ${START_TIMEOUT_MS / 1000} s; see ${paths.log}`);
}

function lastLogLine(paths: HomePaths): string {
  try {
    const lines = readFileSync(paths.log, 'utf8').trim().split('\n');
    return lines[lines.length - 1] ?? `see ${paths.log}`;
  } catch {
    return `see ${paths.log}`;
  }
}

async function stopDaemon(context: VerbContext): Promise<number> {
  const { paths } = context;
  const core = await tryDelegate(paths);
  if (!core) {
    context.out('no core is running');
    return ExitCode.Ok;
  }
  const pid = holderPid(paths);
  await core.call('daemon/shutdown', {});
  await core.close();
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!(await socketAnswers(paths.socket, 500)) && !loadDirect().isLocked(paths)) {
      context.out(`core stopped (${pid})`);
      return ExitCode.Ok;
    }
    await sleep(25);
  }
  throw new CliError(`the core (${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
}
