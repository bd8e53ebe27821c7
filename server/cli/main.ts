/**
 * `switchboard`: every verb, run directly or delegated to a running core with the same
 * output. This bundle stays small; the store code loads only when a verb runs directly.
 */
import { homePaths, resolveHome, type HomePaths } from '../paths';
import { CliError, ExitCode, usage } from './errors';
import { inert } from './format';
import { checkHome } from './home-check';
import { VERBS, type VerbContext } from './verbs';

const HELP = `usage: switchboard [--home <dir>] <command> [options]

  init --relay <ws-url> --user <name> --token <token> [--insecure]
                                                        configure the relay (--insecure: allow ws:// to another host)
  daemon [start|stop|restart|status] [--idle-exit <s>] [--event-retention <age>]
                                                        run the core (foreground without a subcommand);
                                                        events older than --event-retention (default 30d) are pruned
  status [--json]                                       core, lock, socket, sync freshness, counts
  send --to <user> [-m <text> | --file <path>] [--reply-to <id>] [--client-id <id>]
       [--wait <seconds>] [--no-queue] [--json]         text from stdin when -m and --file are absent
  inbox [--unread] [--from <user>] [--limit N] [--json] [--follow [--since <cursor>]]
  read <id> [--json]
  reply <id> -m <text> [--wait <seconds>] [--json]
  ask --to <user> -m <text> [--timeout <seconds>] [--json]
  search <query> [--limit N] [--json]
  outbox [list [--state S]] [--json] | outbox requeue <id> | outbox abort <id>
                                                        S: pending, inflight, done, dead, aborted, expired
  peers [--json]
  doctor [--json]
  relay serve|add-user|revoke …                         run or administer a relay

The store is --home, or $SWITCHBOARD_HOME, or ~/.switchboard.
Exit codes: 0 ok, 1 failed, 2 usage, 3 queued, 4 locked and core unreachable, 5 conflict.`;

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

async function main(argv: string[]): Promise<number> {
  const { home, rest } = splitGlobal(argv);
  const [verb, ...args] = rest;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    process.stdout.write(HELP + '\n');
    return verb === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (verb === '--version' || verb === 'version') {
    const { VERSION } = await import('../version');
    process.stdout.write(`switchboard ${VERSION}\n`);
    return ExitCode.Ok;
  }
  if (verb === 'relay') {
    const relay = require(require('node:path').join(__dirname, 'relay.js')) as { runRelayCli(argv: string[]): Promise<number> };
    return relay.runRelayCli(args);
  }
  const run = VERBS[verb];
  if (!run) throw usage(`unknown command "${verb}"; see \`switchboard help\``);
  const resolvedHome = resolveHome(home);
  checkHome(resolvedHome, home !== undefined ? '--home' : process.env.SWITCHBOARD_HOME !== undefined ? 'SWITCHBOARD_HOME' : 'the default home');
  const paths: HomePaths = homePaths(resolvedHome);
  const context: VerbContext = { paths, out: (text) => process.stdout.write(text + '\n') };
  return run(args, context);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`switchboard: ${inert(error.message)}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`switchboard: ${inert((error as Error)?.message ?? String(error))}\n`);
      process.exitCode = ExitCode.Failed;
    }
  },
);
