/**
 * `daemon install | uninstall`: the headless core of this home as a user service. Loaded only
 * when one of those verbs runs (daemon-verbs.ts imports it lazily), so other verbs never pay for it.
 *
 * The unit runs this node and dist/daemon.js with `--home <this home>` (absolute paths: a service
 * has no PATH or working directory of the user's), and appends its output to `<home>/core.log`,
 * the file `daemon start` logs to and `switchboard status` names.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../fs-private';
import { readHolder } from '../holder';
import { socketAnswers } from '../socket-probe';
import { resolveHome, type HomePaths } from '../../lib/node/paths';
import { CliError } from '../../lib/node/cli/errors';
import { checkWritable, runServiceVerb, shellWord } from '../../lib/node/service/install';
import { serviceName, type ServiceSpec } from '../../lib/node/service/units';

export function coreServiceSpec(paths: HomePaths, daemonArgs: readonly string[], env: NodeJS.ProcessEnv = process.env): ServiceSpec {
  const home = paths.home;
  checkWritable('the home', home);
  for (const arg of daemonArgs) checkWritable('the argument', arg);
  const daemon = join(__dirname, 'daemon.js');
  // Keyed on the resolved home: the default home gets the plain name, any other its own.
  const isDefault = home === resolveHome(undefined, { ...env, SWITCHBOARD_HOME: undefined });
  const uninstall = isDefault ? 'switchboard daemon uninstall' : `switchboard --home ${shellWord(home)} daemon uninstall`;
  return {
    kind: 'core',
    name: serviceName('core', home, isDefault),
    description: `Switchboard core for ${home}`,
    program: [process.execPath, daemon, '--home', home, ...daemonArgs],
    log: paths.log,
    uninstall,
  };
}

export async function runCoreService(op: 'install' | 'uninstall', paths: HomePaths, daemonArgs: readonly string[], options: { json: boolean; dryRun?: boolean }, out: (line: string) => void): Promise<number> {
  const spec = coreServiceSpec(paths, daemonArgs);
  if (op === 'install' && !existsSync(spec.program[1]!)) {
    throw new CliError(`${spec.program[1]} does not exist`, 1, { hint: 'build switchboard first (npm run build), then install from that build' });
  }
  // Asked before the service's own core can start: a core answering now was started some other way.
  const running = op === 'install' && !options.dryRun ? await runningCore(paths) : undefined;
  const prepare = () => {
    // The log is opened by the service manager, not by the core: it must exist with the core's modes first.
    ensurePrivateDir(paths.home);
    closeSync(openSync(paths.log, 'a', 0o600));
  };
  const code = runServiceVerb(op, { spec, prepare, dryRun: options.dryRun }, options.json, out);
  if (running !== undefined) {
    // On stderr, so --json's stdout stays one object.
    process.stderr.write(
      `switchboard: note: a core already runs for this home (${running}); the service's core retries every 5 s until it stops: \`switchboard daemon stop\` hands over now (nothing is lost)\n`,
    );
  }
  return code;
}

/** The holder of a core answering on the home's socket ("pid 123"), or undefined when none answers. */
async function runningCore(paths: HomePaths): Promise<string | undefined> {
  try {
    if (!(await socketAnswers(paths.socket))) return undefined;
  } catch {
    return undefined; // An untrusted socket: not a core of ours to hand over from.
  }
  const holder = readHolder(paths);
  return holder ? `pid ${holder.pid}` : 'pid unknown';
}
