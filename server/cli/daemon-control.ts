/**
 * `daemon start | stop | restart`'s work: spawning a detached core and waiting until it answers,
 * asking one to shut down and waiting until it is gone. A bundle of its own (bundles.ts): only
 * these verbs load node:child_process.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHolder } from '../holder';
import { ensurePrivateDir } from '../fs-private';
import type { HomePaths } from '../../lib/node/paths';
import { socketAnswers } from '../socket-probe';
import type { VerbContext } from './context';
import { CliError, ExitCode } from '../../lib/node/cli/errors';
import { loadDirect, tryDelegate } from './transport';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function holderPid(paths: HomePaths): string {
  const holder = readHolder(paths);
  return holder ? `pid ${holder.pid}` : 'pid unknown';
}

/** Starts a detached core and returns once it answers on its socket. */
export async function startDaemon(context: VerbContext, daemonArgs: string[]): Promise<number> {
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

export async function stopDaemon(context: VerbContext): Promise<number> {
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
