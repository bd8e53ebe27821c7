/**
 * `relay serve | add-user | revoke | install | uninstall`: the relay's command line. Bundled to dist/relay.js; the
 * main CLI calls `runRelayCli` for `switchboard relay …`, and `node dist/relay.js …` runs it
 * directly.
 */
import { isLoopbackHost } from '../protocol/relay-url';
import { safeLogText } from '../lib/text-safety';
import { addUser, revokeUser, validateUserName } from './accounts';
import { canonicalUserName } from '../protocol/names';
import { defaultRelayDataDir } from './data-dir';
import { parseRate } from './rate-limit';
import { formatAge, parseAge } from '../lib/age';
import { DEFAULT_LEDGER_LIMITS } from './ledger';
import { DEFAULT_GROUP_LIMITS } from './groups';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_RATE_PER_SECOND, RELAY_LIMIT_DEFAULTS, RelayServer } from './server';
import { UserExistsError } from './storage/errors';
import { SqliteRelayStorage } from './storage/sqlite/storage';
import { DEFAULT_STORAGE_LIMITS } from './storage/limits';
import type { RelayStorage } from './storage/types';
import { DEFAULT_MAX_AGENTS_PER_OWNER, RELAY_MAX_FRAME_BYTES } from '../protocol/relay';
import { DEFAULT_MAX_FILE_BYTES } from '../protocol/files';
import { writeStderr } from '../lib/node/log';
import { command, group, resolve, spec, type NumberFlag, type Parsed } from '../lib/node/cli/command';
import { CliError } from '../lib/node/cli/errors';
import { commandHelp, type HelpOptions } from '../lib/node/cli/help';
import { errorMessage } from '../lib/error-message';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runServiceVerb } from '../lib/node/service/install';
import { natsNotBuilt, prepareRelayLog, relayServiceSpec } from './service';

class UsageError extends Error {}

/** The relay's one log sink: a line names unauthenticated users and quotes bad frames, so it is made safe here. */
export function relayLogLine(line: string): string {
  return `relay: ${safeLogText(line)}`;
}

export interface RelayCliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: RelayCliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  // Never throws, even with the log's disk full (see lib/node/log.ts).
  stderr: (line) => writeStderr(`${line}\n`),
  env: process.env,
};

const DATA_FLAG = { type: 'string', value: 'dir', description: 'the relay\'s data directory (default $SWITCHBOARD_RELAY_DATA, else ~/.switchboard-relay)' } as const;

const whole = (description: string, min: number, max: number, fallback: number, value = 'N') =>
  ({ type: 'number', value, default: fallback, min, max, integer: true, description }) as const satisfies NumberFlag;

const serveSpec = spec({
    name: 'serve',
    summary: 'run a relay until SIGINT or SIGTERM',
    details: ['Every limit and its default: docs/operations.md. Ages are a whole number with ms, s, m, h or d (e.g. 30d).'],
    flags: {
      host: { type: 'string', value: 'host', default: '127.0.0.1', description: 'address to listen on; one reachable from other machines needs --cert and --key, or --insecure' },
      port: whole('port to listen on; 0 picks a free one', 0, 65535, 8787, 'port'),
      data: DATA_FLAG,
      cert: { type: 'string', value: 'file', description: 'TLS certificate (PEM): serve wss://' },
      key: { type: 'string', value: 'file', description: 'TLS private key (PEM), with --cert' },
      insecure: { type: 'boolean', description: 'listen beyond loopback without TLS (tokens and messages in clear)' },
      'heartbeat-ms': whole('ping interval; a link silent for two is dropped', 10, 3_600_000, DEFAULT_HEARTBEAT_MS),
      rate: { type: 'string', value: 'N/s', default: `${DEFAULT_RATE_PER_SECOND}/s`, description: 'sends per second per connection (0/s: unlimited)' },
      'max-connections': whole('connections in total', 1, 1_000_000, RELAY_LIMIT_DEFAULTS.maxConnections),
      'max-connections-per-address': whole('connections from one address', 1, 1_000_000, RELAY_LIMIT_DEFAULTS.maxConnectionsPerAddress),
      'max-logins': whole('connections still logging in', 1, 1_000_000, RELAY_LIMIT_DEFAULTS.maxLogins),
      'hello-timeout-ms': whole('time a connection has to say hello', 10, 600_000, RELAY_LIMIT_DEFAULTS.helloTimeoutMs),
      // Room for a hello (a token of up to 1024 characters, a user and a device of up to 200).
      'max-prelogin-bytes': whole('bytes a connection may send before its hello is accepted', 4096, RELAY_MAX_FRAME_BYTES * 16, RELAY_LIMIT_DEFAULTS.maxPreloginBytes),
      'upgrade-timeout-ms': whole('time a connection has to finish the WebSocket upgrade', 100, 600_000, RELAY_LIMIT_DEFAULTS.upgradeTimeoutMs),
      // At least two largest frames, so the delivery pump (which keeps under half) can always send one.
      'max-pending-bytes': whole('bytes queued to one slow connection before it is dropped', 4 * RELAY_MAX_FRAME_BYTES, 2 ** 40, RELAY_LIMIT_DEFAULTS.maxPendingBytes),
      'quota-messages': whole('undelivered messages held per recipient', 1, Number.MAX_SAFE_INTEGER, DEFAULT_LEDGER_LIMITS.quotaMessages),
      'quota-bytes': { type: 'string', value: 'bytes', default: `${DEFAULT_LEDGER_LIMITS.quotaBytes / 1024 / 1024}MiB`, description: 'undelivered bytes held per recipient (files included), optionally with KiB, MiB or GiB' },
      'max-file-bytes': { type: 'string', value: 'bytes', default: `${DEFAULT_MAX_FILE_BYTES / 1024 / 1024}MiB`, description: 'largest file (attachment) accepted, optionally with KiB, MiB or GiB' },
      'max-group-members': whole('current members of one group (what one group send fans out to)', 2, 100_000, DEFAULT_GROUP_LIMITS.maxGroupMembers),
      // Bounded so one group_list answer (about 150 bytes a group) stays well inside a frame.
      'max-groups-per-user': whole('groups one user may be a member of', 1, 1000, DEFAULT_GROUP_LIMITS.maxGroupsPerUser),
      // Below MAX_AGENTS_LISTED (relay/agents.ts), so one agent_list answer names every active agent.
      'max-agents-per-owner': whole('agent identities one person may hold at once (protocol v4; 0 turns agent creation off)', 0, 256, DEFAULT_MAX_AGENTS_PER_OWNER),
      retention: { type: 'string', value: 'age', default: formatAge(DEFAULT_LEDGER_LIMITS.retentionMs), description: 'undelivered items expire after this age; senders are told' },
      'dedupe-window': { type: 'string', value: 'age', description: `resends within it are duplicates and ids stay owned (default ${formatAge(DEFAULT_LEDGER_LIMITS.dedupeWindowMs)}, at least --retention)` },
    },
    examples: ['switchboard relay serve --port 8787 --data ~/relay', 'switchboard relay serve --host 0.0.0.0 --cert cert.pem --key key.pem --quota-bytes 500MiB'],
});
const serveCommand = command(serveSpec, (input, io: RelayCliIo) => serve(input, io));

const addUserSpec = spec({
    name: 'add-user',
    summary: 'create an account and print its token (shown only once)',
    flags: { data: DATA_FLAG, json: { type: 'boolean', description: 'print {"user", "token"}' } },
    positionals: [{ name: 'name', description: 'the account name (letters, digits, ".", "_", "-"; at most 64)' }],
    examples: ['switchboard relay add-user bob > bob.token'],
});
const addUserCommand = command(addUserSpec, (input, io: RelayCliIo) => addUserVerb(input, io));

const revokeSpec = spec({
    name: 'revoke',
    summary: "revoke an account's token; a running relay closes its connections within a second",
    flags: { data: DATA_FLAG },
    positionals: [{ name: 'name', description: 'the account name' }],
    examples: ['switchboard relay revoke bob'],
});
const revokeCommand = command(revokeSpec, (input, io: RelayCliIo) => revokeVerb(input, io));

const NATS_FLAG = { type: 'string', value: 'url[,url…]', conflicts: ['data'], description: 'the NATS JetStream cluster the relay keeps its state in, instead of --data (install: only with a build whose relay serve has --nats)' } as const;
const SERVICE_DETAILS = [
  'Linux: a systemd user unit in $XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user), enabled with systemctl --user. macOS: a launchd agent in ~/Library/LaunchAgents, loaded with launchctl bootstrap gui/<uid>.',
  "It runs this node and this build's dist/relay.js serve with the flags given here (paths made absolute), restarts it 5 s after a failure (SIGTERM and a clean exit stay stopped) and appends its output to --log (default <data>/relay.log). One unit per data dir; the default data dir's is switchboard-relay.",
  'Without a working service manager here the file is written but not enabled, the command that enables it is printed, and it exits 0. A file there that switchboard did not write is never touched (exit 1). Details: docs/operations.md, "Running as a service".',
] as const;

const installSpec = spec({
  name: 'install',
  summary: 'run a relay as a user service: write a systemd user unit (Linux) or launchd agent (macOS) and enable it',
  details: SERVICE_DETAILS,
  flags: {
    data: { type: 'string', value: 'dir', description: "the relay's data directory (SQLite); this or --nats" },
    nats: NATS_FLAG,
    host: serveSpec.flags.host,
    port: serveSpec.flags.port,
    cert: serveSpec.flags.cert,
    key: serveSpec.flags.key,
    insecure: serveSpec.flags.insecure,
    log: { type: 'string', value: 'file', description: "where the relay's output goes (default <data>/relay.log, with --nats ~/.switchboard-relay/relay.log)" },
    'dry-run': { type: 'boolean', description: 'show the file it would write (all of it) and where, write and enable nothing' },
    json: { type: 'boolean', description: 'print one JSON object: what was written and run (docs/protocol.md, "CLI `--json` output")' },
  },
  examples: ['switchboard relay install --data ~/relay', 'switchboard relay install --data /srv/relay --host 0.0.0.0 --cert relay.crt --key relay.key --port 443'],
});
const installCommand = command(installSpec, async ({ values }, io: RelayCliIo) => {
  // Written only for a relay that can run it: `serve --nats` comes with the cluster storage.
  if (values.nats !== undefined && !Object.hasOwn(serveSpec.flags, 'nats')) throw natsNotBuilt();
  const service = relayServiceSpec(values, join(__dirname, 'relay.js'));
  if (!existsSync(service.program[1]!)) throw new CliError(`${service.program[1]} does not exist`, 1, { hint: 'build switchboard first (npm run build), then install from that build' });
  return runServiceVerb('install', { spec: service, prepare: () => prepareRelayLog(service.log), dryRun: values['dry-run'] === true }, values.json === true, io.stdout, io.env);
});

const uninstallSpec = spec({
  name: 'uninstall',
  summary: "stop, disable and remove a relay's service (only a unit switchboard wrote)",
  details: ['Name the relay as at install: --data <dir>, or --nats and --port. With nothing installed it says so and exits 0.'],
  flags: {
    data: { type: 'string', value: 'dir', description: 'the data directory given at install' },
    nats: NATS_FLAG,
    port: serveSpec.flags.port,
    json: { type: 'boolean', description: 'print one JSON object: what was removed and run' },
  },
  examples: ['switchboard relay uninstall --data ~/relay'],
});
const uninstallCommand = command(uninstallSpec, async ({ values }, io: RelayCliIo) => {
  const service = relayServiceSpec({ ...values, host: serveSpec.flags.host.default }, join(__dirname, 'relay.js'));
  return runServiceVerb('uninstall', { spec: service }, values.json === true, io.stdout, io.env);
});

/** The relay's table: `switchboard relay <command>`, or `node dist/relay.js <command>`. */
export const RELAY = group<{}, RelayCliIo>(
  {
    name: 'relay',
    summary: 'run or administer a relay',
    flags: {},
    examples: ['switchboard relay add-user bob', 'switchboard relay serve', 'switchboard relay install --data ~/relay'],
  },
  [serveCommand, addUserCommand, revokeCommand, installCommand, uninstallCommand],
);

export const RELAY_HELP: HelpOptions = { program: 'switchboard relay', globals: [], footer: ['exit codes: 0 ok, 1 failed, 2 usage.'] };

function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs one relay verb and resolves with its exit code (serve resolves when it has stopped). */
export async function runRelayCli(argv: string[], io: RelayCliIo = defaultIo): Promise<number> {
  try {
    const resolved = resolve(RELAY, argv.length === 1 && argv[0] === 'help' ? ['--help'] : argv);
    if (resolved.kind === 'help') {
      io.stdout(commandHelp(resolved.path, RELAY_HELP));
      return resolved.exitCode;
    }
    return await resolved.run(io);
  } catch (err) {
    const isUsage = err instanceof UsageError || (err instanceof CliError && err.exitCode === 2);
    const hint = err instanceof CliError ? err.hint : null;
    // As for switchboard's own verbs: under --json, one JSON object on stderr.
    if (wantsJson(argv)) {
      io.stderr(JSON.stringify({ error: { code: err instanceof CliError ? err.code : isUsage ? 'usage' : 'failed', message: errorMessage(err), hint: isUsage ? (hint ?? 'run "switchboard relay --help" for usage') : hint } }));
    } else if (isUsage) io.stderr(`relay: ${errorMessage(err)}; ${hint ?? 'run "switchboard relay --help" for usage'}`);
    else io.stderr(`relay: ${errorMessage(err)}${hint ? `; ${hint}` : ''}`);
    return isUsage ? 2 : 1;
  }
}

async function serve({ values }: Parsed<typeof serveSpec.flags>, io: RelayCliIo): Promise<number> {
  const port = values.port;
  const heartbeatMs = values['heartbeat-ms'];
  const ratePerSecond = parseRate(values.rate);
  if (ratePerSecond === undefined) throw new UsageError(`--rate must look like 100/s (0 for unlimited), got "${values.rate}"`);
  if (Boolean(values.cert) !== Boolean(values.key)) throw new UsageError('--cert and --key go together');
  const quotaMessages = values['quota-messages'];
  const quotaBytes = parseBytes(values['quota-bytes'], '--quota-bytes');
  const maxFileBytes = parseBytes(values['max-file-bytes'], '--max-file-bytes');
  const retentionMs = parseAgeFlag(values.retention, '--retention');
  // By default the window is the longer of its own default and the retention.
  const dedupeWindowMs = values['dedupe-window'] === undefined ? Math.max(DEFAULT_LEDGER_LIMITS.dedupeWindowMs, retentionMs) : parseAgeFlag(values['dedupe-window'], '--dedupe-window');
  if (dedupeWindowMs < retentionMs) throw new UsageError('--dedupe-window must be at least --retention, or a resend of a message still held would be stored twice');
  // Tokens cross the wire in the hello: off this machine, only inside TLS unless told otherwise.
  if (!values.cert && !values.insecure && !isLoopbackHost(values.host)) {
    throw new UsageError(`--host ${values.host} is reachable from other machines: give --cert and --key (wss://), or --insecure to send tokens in clear`);
  }
  const limits = {
    maxConnections: values['max-connections'],
    maxConnectionsPerAddress: values['max-connections-per-address'],
    maxLogins: values['max-logins'],
    helloTimeoutMs: values['hello-timeout-ms'],
    maxPreloginBytes: values['max-prelogin-bytes'],
    upgradeTimeoutMs: values['upgrade-timeout-ms'],
    maxPendingBytes: values['max-pending-bytes'],
    maxGroupMembers: values['max-group-members'],
    maxGroupsPerUser: values['max-groups-per-user'],
    maxAgentsPerOwner: values['max-agents-per-owner'],
  };

  const dataDir = values.data ?? defaultRelayDataDir(io.env);
  await reportCaseCollisions(dataDir, io);
  const server = await RelayServer.start({
    dataDir,
    host: values.host,
    port,
    heartbeatMs,
    ratePerSecond,
    quotaMessages,
    quotaBytes,
    maxFileBytes,
    retentionMs,
    dedupeWindowMs,
    ...limits,
    tls: values.cert && values.key ? { certFile: values.cert, keyFile: values.key } : undefined,
    log: (line) => io.stderr(relayLogLine(line)),
  });
  // The handlers are in place before the ready line: a supervisor may stop the relay as soon as it reads it.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.stderr(`relay: ${signal}, shutting down`);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  io.stdout(`relay listening on ${server.url}`);
  if (values.insecure && !values.cert && !isLoopbackHost(values.host)) io.stderr(`relay: --insecure: tokens and messages cross the network in clear`);

  await stopped;
  await server.close();
  return 0;
}

async function addUserVerb({ values, positionals }: Parsed<typeof addUserSpec.flags>, io: RelayCliIo): Promise<number> {
  // Names are case-insensitive: the account is created, and named back, in lower case.
  const given = singleName(positionals, 'add-user');
  const name = canonicalUserName(given);
  const storage = openAdminStorage(values.data ?? defaultRelayDataDir(io.env));
  try {
    const token = await addUser(storage.accounts, name);
    if (values.json) io.stdout(JSON.stringify({ user: name, token }));
    else {
      io.stdout(token);
      io.stderr(`relay: added "${name}"; the token above is shown only once`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UserExistsError) {
      const same = given === name ? '' : ` ("${given}" is the same account: names are case-insensitive)`;
      throw new CliError(`user "${name}" already has an active token${same}`, 1, { hint: `run "relay revoke ${name}" first to issue a new one` });
    }
    throw err;
  } finally {
    await storage.close();
  }
}

async function revokeVerb({ values, positionals }: Parsed<typeof revokeSpec.flags>, io: RelayCliIo): Promise<number> {
  const name = singleName(positionals, 'revoke');
  const storage = openAdminStorage(values.data ?? defaultRelayDataDir(io.env));
  try {
    if (!(await revokeUser(storage.accounts, name))) {
      io.stderr(`relay: no active user "${name}" to revoke`);
      return 1;
    }
    io.stderr(`relay: revoked "${name}"; a running relay closes its connections within a second`);
    return 0;
  } finally {
    await storage.close();
  }
}

/** The storage the admin verbs write to: the SQLite one in `dataDir` (the cluster's arrives with `--nats`). */
function openAdminStorage(dataDir: string): RelayStorage {
  return SqliteRelayStorage.open(dataDir, DEFAULT_STORAGE_LIMITS);
}

/**
 * Names accounts that differed only in case when names became case-insensitive (relay
 * migration 4): nothing of one was merged into another, and each such account stays unable to
 * log in until the operator revokes it (and adds it again under one spelling if it should go on).
 */
async function reportCaseCollisions(dataDir: string, io: RelayCliIo): Promise<void> {
  const storage = openAdminStorage(dataDir);
  try {
    const activeNames = new Set((await storage.accounts.listUsers()).filter((u) => u.revoked_at === null).map((u) => u.name));
    for (const { name, others } of await storage.accounts.caseCollisions()) {
      const also = others.length > 0 ? ` (also stored: ${others.map((o) => `"${o}"`).join(', ')})` : '';
      const canonical = canonicalUserName(name);
      const again = activeNames.has(canonical) ? 'add it again under a name of its own' : `"relay add-user ${canonical}"`;
      io.stderr(
        relayLogLine(
          `user "${name}" differs from another account only in case${also}; names are case-insensitive, so "${name}" cannot log in and nothing of it was merged: run "relay revoke ${name}" (that exact spelling), then ${again} if the account should go on (docs/operations.md, User names)`,
        ),
      );
    }
  } finally {
    await storage.close();
  }
}

function singleName(positionals: string[], verb: string): string {
  const [name, extra] = positionals;
  if (name === undefined) throw new UsageError(`${verb} needs a user name`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const invalid = validateUserName(name);
  if (invalid) throw new UsageError(invalid);
  return name;
}

function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function parseAgeFlag(text: string, flag: string): number {
  const value = parseAge(text);
  if (value === undefined) throw new UsageError(`${flag} must be an age such as 30d, 12h, 90s or 500ms, got "${text}"`);
  return value;
}

const BYTE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** "1048576", "512KiB", "100MiB", "2GiB". */
function parseBytes(text: string, flag: string): number {
  const match = /^(\d+)(KiB|MiB|GiB)?$/.exec(text);
  const value = match ? Number(match[1]) * BYTE_UNITS[match[2] ?? '']! : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag} must be a number of bytes, optionally with KiB, MiB or GiB, got "${text}"`);
  return value;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

if (require.main === module) {
  runRelayCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`relay: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
