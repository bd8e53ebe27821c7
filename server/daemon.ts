/**
 * The core as a process: `node dist/daemon.js --home <dir> [--idle-exit <seconds>] [--event-retention <age>]`, started
 * detached by `switchboard daemon start` and by the extension, or in the foreground by
 * `switchboard daemon`. Exit codes: 0 clean stop, 4 another core holds the store, 1 failure.
 */
import { parseArgs } from 'node:util';
import { parseAge } from '../lib/age';
import { Core } from './core';
import { LockedError, describeHolder } from './lock';
import { createLogger, type Logger } from '../lib/node/log';
import { homePaths, resolveHome, type HomePaths } from '../lib/node/paths';
import { errorMessage } from '../lib/error-message';

/** How long a starting core waits for a CLI verb that holds the store directly. */
const CLI_HOLDER_PATIENCE_MS = 15_000;
/** How long a crashing core may take to stop cleanly before it exits anyway. */
const CRASH_STOP_MS = 5_000;

export interface DaemonOptions {
  home: string;
  idleExitSeconds?: number;
  eventRetentionMs?: number;
}

export async function runDaemon(options: DaemonOptions): Promise<number> {
  process.umask(0o077);
  const log = createLogger();
  const paths = homePaths(options.home);
  // Every handler is in place before the core starts. A stop signal's default action would end
  // the process wherever the start is (lock taken, store half open, socket bound and never
  // removed); instead a signal during the start is remembered, a wait for the store ends at once,
  // and a core that did start is stopped the moment its start settles, like any other stop.
  let core: Core | undefined;
  let signalled = false;
  const stop = (signal: string) => {
    log.info(`${signal}: stopping`);
    signalled = true;
    void core?.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  const starting = startWhenFree(paths, log, options.idleExitSeconds, options.eventRetentionMs, () => signalled);
  let crashing = false;
  process.on('uncaughtException', (error) => {
    // Logging cannot throw (see log.ts); the first crash stops the core, later ones only log.
    log.error(`uncaught: ${error?.stack ?? String(error)}`);
    if (crashing) return;
    crashing = true;
    const exit = () => process.exit(1);
    // A stop that cannot finish (a wedged store) must not keep the lock held forever.
    setTimeout(exit, CRASH_STOP_MS);
    // A crash during the start stops the core once it has one (or exits when the start fails).
    starting.then((started) => started?.stop()).then(exit, exit);
  });
  try {
    core = await starting;
  } catch (error) {
    const why = error instanceof LockedError && error.holder ? `the store is held by ${describeHolder(error.holder)}` : errorMessage(error);
    process.stderr.write(`switchboard: cannot start a core: ${why}\n`);
    return error instanceof LockedError ? 4 : 1;
  }
  // Stopped while waiting for a CLI verb to let go of the store: nothing was started.
  if (!core) return 0;
  if (signalled) void core.stop();
  await core.whenStopped();
  return 0;
}

/**
 * Starts the core; a CLI verb holding the store directly is waited for, another core is not.
 * Undefined when a stop signal came (`stopped`) while waiting: the lock was never taken.
 */
async function startWhenFree(paths: HomePaths, log: Logger, idleExitSeconds: number | undefined, eventRetentionMs: number | undefined, stopped: () => boolean): Promise<Core | undefined> {
  const deadline = Date.now() + CLI_HOLDER_PATIENCE_MS;
  let waiting = false;
  for (;;) {
    try {
      return await Core.start(paths, { serve: true, log, idleExitMs: idleExitSeconds === undefined ? undefined : idleExitSeconds * 1000, eventRetentionMs });
    } catch (error) {
      if (!(error instanceof LockedError && error.holder?.kind === 'cli' && Date.now() < deadline)) throw error;
      if (stopped()) return undefined;
      if (!waiting) log.info(`the store is held by ${describeHolder(error.holder)}; waiting up to ${CLI_HOLDER_PATIENCE_MS / 1000} s for it`);
      waiting = true;
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (stopped()) return undefined;
    }
  }
}

function main(): void {
  const { values } = parseArgs({
    options: { home: { type: 'string' }, 'idle-exit': { type: 'string' }, 'event-retention': { type: 'string' } },
    strict: true,
  });
  const idle = values['idle-exit'] === undefined ? undefined : Number(values['idle-exit']);
  if (idle !== undefined && !(Number.isFinite(idle) && idle > 0)) {
    process.stderr.write('switchboard: --idle-exit takes a number of seconds greater than 0\n');
    process.exit(2);
  }
  const retentionFlag = values['event-retention'];
  const eventRetentionMs = retentionFlag === undefined ? undefined : parseAge(retentionFlag);
  if (retentionFlag !== undefined && eventRetentionMs === undefined) {
    process.stderr.write('switchboard: --event-retention takes an age such as 30d, 12h or 90s\n');
    process.exit(2);
  }
  void runDaemon({ home: resolveHome(values.home), idleExitSeconds: idle, eventRetentionMs }).then((code) => process.exit(code));
}

if (require.main === module) main();
