/**
 * `switchboard init`: checks the relay URL, stores the settings (through the core when one
 * runs, so it reconnects at once), then tries them: a hello with the token, bounded in time,
 * and one line saying what it found.
 */
import type { RelayCheck } from '../../protocol/rpc';
import { USER_NAME_RULE, canonicalUserName, isValidUserName } from '../../protocol/names';
import { cleartextRelayProblem, relayUrlProblem } from '../../protocol/relay-url';
import { command, spec } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { loadDirect, tryDelegate } from './transport';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isDiskFull } from '../../lib/node/storage-errors';
import { readableFileProblem } from './file-errors';

/** How long init waits for the relay's welcome before saying it got no answer. */
export const INIT_CHECK_MS = 10_000;

/** Outcomes after which the settings may work later as they are: nothing for the user to fix. */
const TRANSIENT: ReadonlySet<RelayCheck['outcome']> = new Set(['unreachable', 'timeout', 'refused', 'pending']);

const initSpec = spec({
  name: 'init',
  summary: 'configure the relay and the account (through the running core, which reconnects at once)',
  flags: {
    relay: { type: 'string', value: 'ws-url', required: true, description: 'the relay, ws:// or wss://' },
    user: { type: 'string', value: 'name', required: true, description: 'your account on the relay' },
    token: { type: 'string', value: 'token', conflicts: ['token-file'], description: 'the token `relay add-user` printed (stored in a 0600 file)' },
    'token-file': { type: 'string', value: 'path', description: 'read the token from a file instead' },
    insecure: { type: 'boolean', description: 'allow ws:// to a host other than this machine (token and messages in clear)' },
  },
  examples: ['switchboard init --relay wss://relay.example.org --user bob --token-file ~/bob.token', 'switchboard init --relay ws://127.0.0.1:8787 --user bob --token "$TOKEN"'],
});

export const init = command(initSpec, async ({ values }, context: VerbContext) => {
  const { relay } = values;
  if (!relay) throw usage('init needs --relay <ws-url> (ws:// or wss://)');
  // Malformed: refused before anything is written, so no core ever reads it.
  const malformed = relayUrlProblem(relay);
  if (malformed) throw usage(`init: ${malformed}`);
  const insecure = values.insecure === true;
  const cleartext = cleartextRelayProblem(relay, insecure);
  if (cleartext) throw usage(cleartext);
  if (!values.user) throw usage('init needs --user <name>');
  if (!isValidUserName(values.user)) throw usage(`init: invalid user name "${values.user}": ${USER_NAME_RULE}`);
  // Names are case-insensitive: the home is configured, and named back, in the canonical form.
  const user = canonicalUserName(values.user);
  if (values.token !== undefined && values['token-file'] !== undefined) throw usage('give --token or --token-file, not both');
  const token = values['token-file'] !== undefined ? readTokenFile(values['token-file']) : values.token;
  if (!token) throw usage('init needs --token <token> (or --token-file <path>)');
  const { paths } = context;
  const core = await tryDelegate(paths);
  let check: RelayCheck;
  if (core) {
    // The core tries the new settings itself and answers with what its first attempt found.
    try {
      const result = await core.call('config/set', { relay, user, token, ...(insecure ? { insecure } : {}), wait_ms: INIT_CHECK_MS });
      check = result.check ?? { outcome: 'pending', message: `the core took the settings but did not say whether it reached ${relay}` };
    } finally {
      await core.close();
    }
  } else {
    const direct = loadDirect();
    // A config.json that cannot be read is replaced: that is what init is for. Its device id stays when readable.
    const config = { ...direct.loadConfig(paths).config, relay, user, insecure };
    try {
      direct.writeConfig(paths, config, token);
    } catch (error) {
      if (isDiskFull(error)) throw new CliError(`disk full at ${paths.config}: the settings were not saved; free some space and retry`);
      throw error;
    }
    check = await direct.probeRelay({ url: relay, user, token, device: config.device, timeoutMs: INIT_CHECK_MS });
  }
  context.out(`configured ${user} on ${relay} in ${paths.home}`);
  if (check.outcome === 'connected') {
    context.out(check.message);
    return ExitCode.Ok;
  }
  const retried = core ? 'the core keeps trying' : 'a core retries it while it runs (`switchboard daemon start`)';
  if (TRANSIENT.has(check.outcome)) {
    process.stderr.write(`switchboard: ${check.message}; the settings are saved and ${retried}\n`);
    return ExitCode.Ok;
  }
  throw new CliError(`${check.message}; the settings are saved, but will not work until you run \`switchboard init\` again with a working relay URL and token`);
});

function readTokenFile(file: string): string {
  const path = resolve(file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw usage(`--token-file ${path}: ${readableFileProblem(error)}`);
  }
}
