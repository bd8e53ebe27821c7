/** `switchboard doctor`: checks a home end to end and says what to fix. Works with or without a core. */
import { existsSync, statSync } from 'node:fs';
import { MAX_SOCKET_PATH_BYTES } from '../paths';
import { readHolder } from '../holder';
import { socketAnswers } from '../socket-probe';
import { assertTrustedSocket, isUntrustedSocket } from '../socket-trust';
import { JSON_FLAG } from './args';
import { command, spec } from './command';
import type { VerbContext } from './context';
import { ExitCode } from './errors';
import { inertJson } from './format';
import { loadDirect, tryDelegate } from './transport';

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}

const doctorSpec = spec({
  name: 'doctor',
  summary: 'check this home end to end and say what to fix (exit 1 when a check fails)',
  flags: { json: JSON_FLAG },
  examples: ['switchboard doctor', 'switchboard doctor --json | jq .ok'],
});

export const doctor = command(doctorSpec, async ({ values }, context: VerbContext) => {
  const { paths } = context;
  const checks: Check[] = [];
  const add = (name: string, status: Check['status'], detail: string) => checks.push({ name, status, detail });

  const major = Number(process.versions.node.split('.')[0]);
  add('node', major >= 20 ? 'ok' : 'fail', `node ${process.versions.node} (${process.platform}-${process.arch})${major >= 20 ? '' : '; switchboard needs node 20 or newer'}`);

  const homeMode = modeOf(paths.home);
  if (homeMode === undefined) add('home', 'warn', `${paths.home} does not exist yet; it is created on first use`);
  else add('home', homeMode & 0o077 ? 'fail' : 'ok', `${paths.home} mode ${homeMode.toString(8)}${homeMode & 0o077 ? '; run chmod 700 on it' : ''}`);

  let direct: ReturnType<typeof loadDirect> | undefined;
  try {
    direct = loadDirect();
    add('store engine', 'ok', 'better-sqlite3 loads');
  } catch (error) {
    add('store engine', 'fail', `better-sqlite3 does not load under node ${process.versions.node}: ${(error as Error).message.split('\n')[0]}; run \`npm rebuild better-sqlite3\``);
  }

  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH_BYTES) add('socket path', 'fail', `${paths.socket} is too long for a socket`);
  else add('socket path', 'ok', paths.socket);

  let trusted = true;
  try {
    assertTrustedSocket(paths.socket);
  } catch (error) {
    if (!isUntrustedSocket(error)) throw error;
    trusted = false;
    add('socket', 'fail', error.message);
  }

  const core = trusted ? await tryDelegate(paths) : undefined;
  if (core) {
    try {
      const status = await core.call('status/get', {});
      add('core', 'ok', `running, pid ${status.pid}, version ${status.version}, ${status.clients} client(s)`);
      add('sync', status.sync.state === 'online' ? 'ok' : status.sync.state === 'disabled' ? 'warn' : 'fail', describeSync(status.sync.state, status.sync.last_error));
      if (status.store.state === 'disk_full') add('store', 'fail', `${status.store.error ?? `disk full at ${status.store.path}`}; free some space: writes resume by themselves`);
      else add('store', 'ok', status.store.path);
      add('outbox', status.outbox.dead > 0 ? 'warn' : 'ok', `${status.outbox.pending} pending, ${status.outbox.dead} dead${status.outbox.dead > 0 ? '; see `switchboard outbox list --state dead`' : ''}`);
    } finally {
      await core.close();
    }
  } else if (direct) {
    if (trusted && existsSync(paths.socket) && !(await socketAnswers(paths.socket))) add('socket', 'warn', `${paths.socket} is stale; the next core removes it`);
    if (direct.isLocked(paths)) {
      const holder = readHolder(paths);
      add('core', 'fail', `the store is locked by pid ${holder?.pid ?? '?'} but nothing answers on ${paths.socket}; stop that process`);
    } else {
      add('core', 'warn', 'not running; verbs open the store directly (start one with `switchboard daemon start`)');
      if (existsSync(paths.store)) {
        let store: ReturnType<typeof direct.checkStore> | undefined;
        try {
          store = direct.checkStore(paths);
        } catch (error) {
          // A store SQLite cannot open (damaged, too new) is a finding, not a reason to stop checking.
          add('store', 'fail', (error as Error).message);
        }
        if (store?.locked) add('store', 'warn', 'a core or a command took the store while doctor ran; run doctor again');
        else if (store) add('store', store.result === 'ok' ? 'ok' : 'fail', `${paths.store} schema ${store.schema}, quick_check ${store.result}`);
      }
    }
    const config = direct.readConfig(paths);
    const tokenMode = modeOf(paths.token);
    if (!config.relay || !config.user) add('relay config', 'warn', 'no relay configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`');
    else add('relay config', tokenMode === undefined ? 'fail' : 'ok', `${config.user} on ${config.relay}${tokenMode === undefined ? '; the token file is missing, run `switchboard init` again' : ''}`);
    if (tokenMode !== undefined && tokenMode & 0o077) add('token', 'fail', `${paths.token} mode ${tokenMode.toString(8)}; run chmod 600 on it`);
  }

  const failed = checks.some((c) => c.status === 'fail');
  if (values.json) context.out(inertJson({ ok: !failed, checks }));
  else context.out(checks.map((c) => `${c.status.padEnd(4)}  ${c.name}: ${c.detail}`).join('\n'));
  return failed ? ExitCode.Failed : ExitCode.Ok;
});

function describeSync(state: string, lastError: string | null): string {
  if (state === 'disabled') return 'no relay configured; run `switchboard init`';
  return `${state}${lastError ? ` (last error: ${lastError})` : ''}`;
}
