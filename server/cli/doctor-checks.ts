/**
 * `switchboard doctor`'s checks (its declaration is doctor.ts): a home end to end, and what to
 * fix. Works with or without a core. Whatever it finds (a read-only home, a damaged config, a
 * relay that refuses the token) is a check that fails, never a crash; it exits 1 when any check
 * fails. A bundle of its own (bundles.ts).
 */
import { existsSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SOCKET_PATH_BYTES } from '../../lib/node/paths';
import { readHolder } from '../holder';
import { socketAnswers } from '../socket-probe';
import { assertTrustedSocket, isUntrustedSocket } from '../../lib/node/socket-trust';
import type { VerbContext } from './context';
import { ExitCode } from '../../lib/node/cli/errors';
import { inertJson } from './format';
import { loadDirect, tryDelegate } from './transport';
import { errorMessage } from '../../lib/error-message';

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** How long the relay check waits for the relay's welcome. */
const RELAY_CHECK_MS = 5_000;

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}

export async function runDoctor(json: boolean, context: VerbContext): Promise<number> {
  const { paths } = context;
  const checks: Check[] = [];
  const add = (name: string, status: Check['status'], detail: string) => checks.push({ name, status, detail });

  const major = Number(process.versions.node.split('.')[0]);
  add('node', major >= 20 ? 'ok' : 'fail', `node ${process.versions.node} (${process.platform}-${process.arch})${major >= 20 ? '' : '; switchboard needs node 20 or newer'}`);

  const home = checkHome(paths.home);
  add('home', home.status, home.detail);

  let direct: ReturnType<typeof loadDirect> | undefined;
  try {
    direct = loadDirect();
    add('store engine', 'ok', 'better-sqlite3 loads');
  } catch (error) {
    add('store engine', 'fail', `better-sqlite3 does not load under node ${process.versions.node}: ${errorMessage(error).split('\n')[0]}; run \`npm rebuild better-sqlite3\``);
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
  } else if (direct && home.usable) {
    if (trusted && existsSync(paths.socket) && !(await socketAnswers(paths.socket))) add('socket', 'warn', `${paths.socket} is stale; the next core removes it`);
    let locked: boolean | undefined;
    try {
      locked = direct.isLocked(paths);
    } catch (error) {
      add('store', 'fail', `cannot take the store lock in ${paths.home}: ${firstLine(error)}`);
    }
    if (locked) {
      const holder = readHolder(paths);
      add('core', 'fail', `the store is locked by pid ${holder?.pid ?? '?'} but nothing answers on ${paths.socket}; stop that process`);
    } else if (locked === false) {
      add('core', 'warn', 'not running; verbs open the store directly (start one with `switchboard daemon start`)');
      if (existsSync(paths.store)) {
        let store: ReturnType<typeof direct.checkStore> | undefined;
        try {
          store = direct.checkStore(paths);
        } catch (error) {
          // A store SQLite cannot open (damaged, too new) is a finding, not a reason to stop checking.
          add('store', 'fail', firstLine(error));
        }
        if (store?.locked) add('store', 'warn', 'a core or a command took the store while doctor ran; run doctor again');
        else if (store) add('store', store.result === 'ok' ? 'ok' : 'fail', `${paths.store} schema ${store.schema}, quick_check ${store.result}`);
      }
    }
    let config: ReturnType<typeof direct.readConfig> | undefined;
    try {
      config = direct.readConfig(paths);
    } catch (error) {
      add('relay config', 'fail', firstLine(error));
    }
    const tokenMode = modeOf(paths.token);
    if (config && (!config.relay || !config.user)) add('relay config', 'warn', 'no relay configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`');
    else if (config) add('relay config', tokenMode === undefined ? 'fail' : 'ok', `${config.user} on ${config.relay}${tokenMode === undefined ? '; the token file is missing, run `switchboard init` again' : ''}`);
    if (tokenMode !== undefined && tokenMode & 0o077) add('token', 'fail', `${paths.token} mode ${tokenMode.toString(8)}; run chmod 600 on it`);
    // A real hello with the token: a wrong port, a refused token or a TLS problem shows here.
    if (config?.relay && config.user && tokenMode !== undefined && !locked) {
      const relay = await direct.checkRelay(paths, RELAY_CHECK_MS);
      if (relay.ok) add('relay', 'ok', `connected to ${relay.relay} as ${relay.user}`);
      else add('relay', 'fail', relay.problem.message);
    }
  } else if (direct) add('store', 'fail', `not checked: ${paths.home} is not usable (see the home check)`);

  const failed = checks.some((c) => c.status === 'fail');
  if (json) context.out(inertJson({ ok: !failed, checks }));
  else context.out(checks.map((c) => `${c.status.padEnd(4)}  ${c.name}: ${c.detail}`).join('\n'));
  return failed ? ExitCode.Failed : ExitCode.Ok;
}

function firstLine(error: unknown): string {
  return (errorMessage(error)).split('\n')[0]!;
}

/**
 * The home must be a directory only its owner can enter, and writable: every command stores
 * something there (the lock, the store). Writability is tried, not inferred from the mode, so
 * a read-only mount counts too.
 */
function checkHome(home: string): { status: Check['status']; detail: string; usable: boolean } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(home);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'fail', detail: `${home} does not exist; run \`switchboard init …\` to create it, or point --home at your home`, usable: false };
    return { status: 'fail', detail: `cannot look at ${home}: ${firstLine(error)}`, usable: false };
  }
  if (!st.isDirectory()) return { status: 'fail', detail: `${home} is not a directory; point --home (or SWITCHBOARD_HOME) at a directory`, usable: false };
  const mode = st.mode & 0o777;
  const probe = join(home, `.doctor-${process.pid}`);
  try {
    writeFileSync(probe, '', { mode: 0o600 });
    unlinkSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'is read-only for this user' : `cannot be written (${code ?? firstLine(error)})`;
    return { status: 'fail', detail: `${home} ${why}: nothing can be stored; make it writable (chmod 700 ${home}) or use another --home`, usable: false };
  }
  if (mode & 0o077) return { status: 'fail', detail: `${home} mode ${mode.toString(8)}; run chmod 700 on it`, usable: true };
  return { status: 'ok', detail: `${home} mode ${mode.toString(8)}`, usable: true };
}

function describeSync(state: string, lastError: string | null): string {
  if (state === 'disabled') return 'no relay configured; run `switchboard init`';
  return `${state}${lastError ? ` (last error: ${lastError})` : ''}`;
}
