/**
 * `switchboard`: every verb, run directly or delegated to a running core with the same
 * output. This bundle stays small; the store code loads only when a verb runs directly.
 */
import { homePaths, resolveHome } from '../../lib/node/paths';
import { resolve } from '../../lib/node/cli/command';
import { RELAY_SUMMARY, SWITCHBOARD, SWITCHBOARD_HELP } from './commands';
import type { VerbContext } from './context';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { inert, inertJson } from './format';
import { checkHome } from './home-check';
import { commandHelp, overview } from '../../lib/node/cli/help';
import { openStdout } from './stdout';
import { errorMessage } from '../../lib/error-message';

/** Pulls the global `--home` out wherever it appears, so each verb parses only its own flags. */
function splitGlobal(argv: string[]): { home: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let home: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--home') {
      home = argv[++i];
      if (home === undefined) throw usage('--home needs a directory');
    } else if (arg.startsWith('--home=')) home = arg.slice('--home='.length);
    else rest.push(arg);
  }
  return { home, rest };
}

/** `--json` anywhere before `--`: errors are then printed as JSON too, even a bad flag's. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function runRelay(args: string[]): Promise<number> {
  const relay = require(require('node:path').join(__dirname, 'relay.js')) as { runRelayCli(argv: string[]): Promise<number> };
  return relay.runRelayCli(args);
}

const stdout = openStdout();

async function main(argv: string[]): Promise<number> {
  const { home, rest } = splitGlobal(argv);
  const [verb, ...args] = rest;
  if (verb === '--version' || verb === 'version') {
    const { VERSION } = await import('../version');
    stdout.out(`switchboard ${VERSION}`);
    return ExitCode.Ok;
  }
  if (verb === 'relay') return runRelay(args);
  if (verb === 'help' && args[0] === 'relay') return runRelay([...args.slice(1), '--help']);
  const resolved = resolve(SWITCHBOARD, verb === 'help' ? [...args, '--help'] : rest);
  if (resolved.kind === 'help') {
    const top = resolved.path.length === 1;
    stdout.out(top ? overview(SWITCHBOARD, { ...SWITCHBOARD_HELP, extra: [[RELAY_SUMMARY.usage, RELAY_SUMMARY.summary]] }) : commandHelp(resolved.path, SWITCHBOARD_HELP));
    return resolved.exitCode;
  }
  const resolvedHome = resolveHome(home);
  checkHome(resolvedHome, home !== undefined ? '--home' : process.env.SWITCHBOARD_HOME !== undefined ? 'SWITCHBOARD_HOME' : 'the default home');
  const context: VerbContext = { paths: homePaths(resolvedHome), out: stdout.out, stdoutClosed: stdout.closed };
  return resolved.run(context);
}

const json = wantsJson(process.argv.slice(2));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = stdout.failed ? ExitCode.Failed : code;
  },
  (error: unknown) => {
    const cli = error instanceof CliError ? error : new CliError(errorMessage(error));
    if (json) process.stderr.write(`${inertJson({ error: { code: cli.code, message: cli.message, hint: cli.hint } })}\n`);
    else process.stderr.write(`switchboard: ${inert(cli.line)}\n`);
    process.exitCode = cli.exitCode;
  },
);
