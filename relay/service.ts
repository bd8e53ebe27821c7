/**
 * `relay install | uninstall`: a relay as a user service (lib/node/service). The unit runs this
 * node and this build's dist/relay.js with `serve` and the storage, address and TLS flags given
 * here, every path absolute, and appends its output to `<data>/relay.log` (or `--log`).
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isLoopbackHost } from '../protocol/relay-url';
import { CliError, ExitCode, usage } from '../lib/node/cli/errors';
import { checkWritable, shellWord } from '../lib/node/service/install';
import { serviceName, type ServiceSpec } from '../lib/node/service/units';

export interface RelayServiceOptions {
  data?: string;
  nats?: string;
  host: string;
  port: number;
  cert?: string;
  key?: string;
  insecure?: boolean;
  log?: string;
}

/** The storage part of the unit's identity: a data dir, or the cluster and the port a node serves on. */
function storageKey(o: RelayServiceOptions): { key: string; isDefault: boolean; flags: string[]; describe: string } {
  if (o.data !== undefined) {
    const data = resolve(o.data);
    return { key: data, isDefault: data === join(homedir(), '.switchboard-relay'), flags: ['--data', data], describe: `data in ${data}` };
  }
  const urls = natsUrls(o.nats!);
  return { key: `nats:${urls}:${o.port}`, isDefault: false, flags: ['--nats', urls], describe: `on NATS ${urls}` };
}

/** `a,b` as given, without blanks; each must look like a URL (nats://host:port or host:port). */
function natsUrls(text: string): string {
  const urls = text.split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw usage('--nats needs at least one URL, such as nats://127.0.0.1:4222');
  for (const url of urls) if (/\s/.test(url)) throw usage(`--nats: "${url}" is not a URL`);
  return urls.join(',');
}

/**
 * The unit for these options; refuses what `relay serve` would refuse at every start (a unit
 * that can only fail), before anything is written.
 */
export function relayServiceSpec(o: RelayServiceOptions, relayBundle: string): ServiceSpec {
  if ((o.data === undefined) === (o.nats === undefined)) throw usage('relay install needs --data <dir> (SQLite) or --nats <url>[,<url>…] (a cluster), one of them');
  if (Boolean(o.cert) !== Boolean(o.key)) throw usage('--cert and --key go together');
  if (!o.cert && !o.insecure && !isLoopbackHost(o.host)) {
    throw usage(`--host ${o.host} is reachable from other machines: give --cert and --key (wss://), or --insecure to send tokens in clear`);
  }
  const storage = storageKey(o);
  const tls: string[] = [];
  for (const [flag, file] of [['--cert', o.cert], ['--key', o.key]] as const) {
    if (file === undefined) continue;
    const path = resolve(file);
    if (!existsSync(path)) throw usage(`${flag} ${path} does not exist`);
    tls.push(flag, path);
  }
  const program = [process.execPath, relayBundle, 'serve', ...storage.flags, '--host', o.host, '--port', String(o.port), ...tls, ...(o.insecure ? ['--insecure'] : [])];
  for (const arg of program) checkWritable('the argument', arg);
  const name = serviceName('relay', storage.key, storage.isDefault);
  const log = resolve(o.log ?? join(o.data !== undefined ? resolve(o.data) : join(homedir(), '.switchboard-relay'), 'relay.log'));
  checkWritable('--log', log);
  const selector = o.data !== undefined ? `--data ${shellWord(resolve(o.data))}` : `--nats ${shellWord(natsUrls(o.nats!))} --port ${o.port}`;
  return { kind: 'relay', name, description: `Switchboard relay on ${o.host}:${o.port}, ${storage.describe}`, program, log, uninstall: `switchboard relay uninstall ${selector}` };
}

/** The log's directory is the relay's own (0700, like its data dir) and the log is 0600: it names users. */
export function prepareRelayLog(log: string): void {
  mkdirSync(dirname(log), { recursive: true, mode: 0o700 });
  closeSync(openSync(log, 'a', 0o600));
}

/** What `relay install --nats` says while `relay serve` has no `--nats` (the cluster storage is issue 16's other half). */
export function natsNotBuilt(): CliError {
  return new CliError('install --nats: this build of the relay cannot serve from a NATS cluster yet (`relay serve --nats` is not built)', ExitCode.Usage, {
    hint: 'install a SQLite relay with --data <dir>, or upgrade to a build whose `relay serve --help` lists --nats',
  });
}
