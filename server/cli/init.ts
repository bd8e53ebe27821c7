/** `switchboard init`: stores the relay settings, through the core when one runs so it reconnects at once. */
import { RELAY_URL_PATTERN } from '../../protocol/rpc';
import { USER_NAME_RULE, canonicalUserName, isValidUserName } from '../../protocol/names';
import { cleartextRelayProblem } from '../../protocol/relay-url';
import { parseVerbArgs } from './args';
import { ExitCode, usage } from './errors';
import { loadDirect, tryDelegate } from './transport';
import type { Verb } from './verbs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readableFileProblem } from './file-errors';

export const initVerb: Verb = async (args, context) => {
  const { values, positionals } = parseVerbArgs(
    args,
    { relay: { type: 'string' }, user: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, insecure: { type: 'boolean' } },
    'init',
  );
  if (positionals.length > 0) throw usage(`init: unexpected argument "${positionals[0]}"`);
  const { relay } = values;
  if (!relay || !RELAY_URL_PATTERN.test(relay)) throw usage('init needs --relay <ws-url> (ws:// or wss://)');
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
};

function readTokenFile(file: string): string {
  const path = resolve(file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw usage(`--token-file ${path}: ${readableFileProblem(error)}`);
  }
}
