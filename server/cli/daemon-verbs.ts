/**
 * `switchboard daemon [start|stop|restart|status|install|uninstall]`: the headless core's
 * lifecycle, and the core as a user service. Declarations and flag checks only: starting and
 * stopping a core is daemon-control.ts, installing it as a service core-service.ts, each a
 * bundle of its own (bundles.ts), so no other verb loads node:child_process or the unit writers.
 */
import { parseAge } from '../../lib/age';
import { command, group, type StringFlag } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { usage } from '../../lib/node/cli/errors';
import { loadDirect } from './transport';
import { JSON_FLAG } from './args';
import { status } from './verbs';
import { bundle, inBundle } from './bundles';
import type * as Control from './daemon-control';
import type * as CoreService from './core-service';

const control = () => bundle<typeof Control>('daemon-control');
const coreService = () => bundle<typeof CoreService>('core-service');

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
  async ({ values }, context: VerbContext) => {
    const { daemonArgs } = coreOptions(values);
    return inBundle(() => control().startDaemon(context, daemonArgs));
  },
);

const daemonStop = command(
  { name: 'stop', summary: 'stop the running core and wait until it is gone', flags: {}, examples: ['switchboard daemon stop'] },
  async (_input, context: VerbContext) => inBundle(() => control().stopDaemon(context)),
);

const daemonRestart = command(
  { name: 'restart', summary: 'stop the running core (if any), then start a new one', flags: CORE_FLAGS, examples: ['switchboard daemon restart'] },
  async ({ values }, context: VerbContext) => {
    const { daemonArgs } = coreOptions(values);
    return inBundle(async () => {
      await control().stopDaemon(context);
      return control().startDaemon(context, daemonArgs);
    });
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
    return inBundle(() => coreService().runCoreService('install', context.paths, daemonArgs, { json: values.json === true, dryRun: values['dry-run'] === true }, context.out));
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
    return inBundle(() => coreService().runCoreService('uninstall', context.paths, [], { json: values.json === true }, context.out));
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
