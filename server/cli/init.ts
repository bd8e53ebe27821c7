/** `switchboard init`: stores the relay settings, through the core when one runs so it reconnects at once. */
import { RELAY_URL_PATTERN } from '../../protocol/rpc';
import { USER_NAME_RULE, isValidUserName } from '../../protocol/limits';
import { cleartextRelayProblem } from '../../protocol/relay-url';
import { command, spec } from './command';
import type { VerbContext } from './context';
import { ExitCode, usage } from './errors';
import { loadDirect, tryDelegate } from './transport';
import { readFileSync } from 'node:fs';

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
  const { relay, user } = values;
  if (!relay || !RELAY_URL_PATTERN.test(relay)) throw usage('init needs --relay <ws-url> (ws:// or wss://)');
  const insecure = values.insecure === true;
  const cleartext = cleartextRelayProblem(relay, insecure);
  if (cleartext) throw usage(cleartext);
  if (!user) throw usage('init needs --user <name>');
  if (!isValidUserName(user)) throw usage(`init: invalid user name "${user}": ${USER_NAME_RULE}`);
  if (values.token !== undefined && values['token-file'] !== undefined) throw usage('give --token or --token-file, not both');
  const token = values['token-file'] !== undefined ? readFileSync(values['token-file'], 'utf8').trim() : values.token;
  if (!token) throw usage('init needs --token <token> (or --token-file <path>)');
  const { paths } = context;
  const core = await tryDelegate(paths);
  if (core) {
    try {
      await core.call('config/set', { relay, user, token, ...(insecure ? { insecure } : {}) });
    } finally {
      await core.close();
    }
  } else {
    const direct = loadDirect();
    direct.writeConfig(paths, { ...direct.readConfig(paths), relay, user, insecure }, token);
  }
  context.out(`configured ${user} on ${relay} in ${paths.home}`);
  return ExitCode.Ok;
});
