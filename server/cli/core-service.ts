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

export function runCoreService(op: 'install' | 'uninstall', paths: HomePaths, daemonArgs: readonly string[], json: boolean, out: (line: string) => void): number {
  const spec = coreServiceSpec(paths, daemonArgs);
  if (op === 'install' && !existsSync(spec.program[1]!)) {
    throw new CliError(`${spec.program[1]} does not exist`, 1, { hint: 'build switchboard first (npm run build), then install from that build' });
  }
  const prepare = () => {
    // The log is opened by the service manager, not by the core: it must exist with the core's modes first.
    ensurePrivateDir(paths.home);
    closeSync(openSync(paths.log, 'a', 0o600));
  };
  return runServiceVerb(op, { spec, prepare }, json, out);
}
