/**
 * `relay serve | add-user | revoke`: the relay's command line. Bundled to dist/relay.js; the
 * main CLI calls `runRelayCli` for `switchboard relay …`, and `node dist/relay.js …` runs it
 * directly.
 */
import { parseArgs } from 'node:util';
import { isLoopbackHost } from '../protocol/relay-url';
import { safeLogText } from '../lib/text-safety';
import { addUser, revokeUser, validateUserName } from './accounts';
import { canonicalUserName } from '../protocol/names';
import { defaultRelayDataDir } from './data-dir';
import { parseRate } from './rate-limit';
import { formatAge, parseAge } from '../server/age';
import { DEFAULT_LEDGER_LIMITS } from './ledger';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_RATE_PER_SECOND, RELAY_LIMIT_DEFAULTS, RelayServer } from './server';
import { RelayStore, UserExistsError } from './store';
import { RELAY_MAX_FRAME_BYTES } from '../protocol/relay';
import { writeStderr } from '../server/log';

const USAGE = `usage:
  relay serve [--host 127.0.0.1] [--port 8787] [--data <dir>] [--cert <file> --key <file> | --insecure]
              [--heartbeat-ms N] [--rate N/s] [--max-connections N] [--max-connections-per-address N]
              [--max-logins N] [--hello-timeout-ms N] [--max-prelogin-bytes N] [--upgrade-timeout-ms N]
              [--max-pending-bytes N]
              [--quota-messages N] [--quota-bytes N[KiB|MiB|GiB]] [--retention <age>] [--dedupe-window <age>]
      --quota-messages  undelivered messages held per recipient (default ${DEFAULT_LEDGER_LIMITS.quotaMessages})
      --quota-bytes     undelivered bytes held per recipient (default ${DEFAULT_LEDGER_LIMITS.quotaBytes / 1024 / 1024}MiB)
      --retention       undelivered items expire after this age; senders are told (default ${formatAge(DEFAULT_LEDGER_LIMITS.retentionMs)})
      --dedupe-window   resends within it are duplicates, ids stay owned (default ${formatAge(DEFAULT_LEDGER_LIMITS.dedupeWindowMs)}, at least --retention)
      ages: a whole number with ms, s, m, h or d (e.g. 30d); every limit and its default: docs/operations.md
  relay add-user <name> [--data <dir>] [--json]
  relay revoke <name> [--data <dir>]`;

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
  // Never throws, even with the log's disk full (see server/log.ts).
  stderr: (line) => writeStderr(`${line}\n`),
  env: process.env,
};

/** Runs one relay verb and resolves with its exit code (serve resolves when it has stopped). */
export async function runRelayCli(argv: string[], io: RelayCliIo = defaultIo): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'serve':
        return await serve(rest, io);
      case 'add-user':
        return await addUserVerb(rest, io);
      case 'revoke':
        return revokeVerb(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return verb === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown relay command "${verb}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr(`relay: ${errorMessage(err)} (run "relay help" for usage)`);
      return 2;
    }
    io.stderr(`relay: ${errorMessage(err)}`);
    return 1;
  }
}

async function serve(args: string[], io: RelayCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8787' },
      data: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'heartbeat-ms': { type: 'string', default: String(DEFAULT_HEARTBEAT_MS) },
      rate: { type: 'string', default: `${DEFAULT_RATE_PER_SECOND}/s` },
      'quota-messages': { type: 'string', default: String(DEFAULT_LEDGER_LIMITS.quotaMessages) },
      'quota-bytes': { type: 'string', default: String(DEFAULT_LEDGER_LIMITS.quotaBytes) },
      retention: { type: 'string', default: formatAge(DEFAULT_LEDGER_LIMITS.retentionMs) },
      'dedupe-window': { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'max-connections': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.maxConnections) },
      'max-connections-per-address': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.maxConnectionsPerAddress) },
      'max-logins': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.maxLogins) },
      'hello-timeout-ms': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.helloTimeoutMs) },
      'max-prelogin-bytes': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.maxPreloginBytes) },
      'upgrade-timeout-ms': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.upgradeTimeoutMs) },
      'max-pending-bytes': { type: 'string', default: String(RELAY_LIMIT_DEFAULTS.maxPendingBytes) },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const port = parseInteger(values.port, '--port', 0, 65535);
  const heartbeatMs = parseInteger(values['heartbeat-ms'], '--heartbeat-ms', 10, 3_600_000);
  const ratePerSecond = parseRate(values.rate);
  if (ratePerSecond === undefined) throw new UsageError(`--rate must look like 100/s (0 for unlimited), got "${values.rate}"`);
  if (Boolean(values.cert) !== Boolean(values.key)) throw new UsageError('--cert and --key go together');
  const quotaMessages = parseInteger(values['quota-messages'], '--quota-messages', 1, Number.MAX_SAFE_INTEGER);
  const quotaBytes = parseBytes(values['quota-bytes'], '--quota-bytes');
  const retentionMs = parseAgeFlag(values.retention, '--retention');
  // By default the window is the longer of its own default and the retention.
  const dedupeWindowMs = values['dedupe-window'] === undefined ? Math.max(DEFAULT_LEDGER_LIMITS.dedupeWindowMs, retentionMs) : parseAgeFlag(values['dedupe-window'], '--dedupe-window');
  if (dedupeWindowMs < retentionMs) throw new UsageError('--dedupe-window must be at least --retention, or a resend of a message still held would be stored twice');
  // Tokens cross the wire in the hello: off this machine, only inside TLS unless told otherwise.
  if (!values.cert && !values.insecure && !isLoopbackHost(values.host)) {
    throw new UsageError(`--host ${values.host} is reachable from other machines: give --cert and --key (wss://), or --insecure to send tokens in clear`);
  }
  const limits = {
    maxConnections: parseInteger(values['max-connections'], '--max-connections', 1, 1_000_000),
    maxConnectionsPerAddress: parseInteger(values['max-connections-per-address'], '--max-connections-per-address', 1, 1_000_000),
    maxLogins: parseInteger(values['max-logins'], '--max-logins', 1, 1_000_000),
    helloTimeoutMs: parseInteger(values['hello-timeout-ms'], '--hello-timeout-ms', 10, 600_000),
    // Room for a hello (a token of up to 1024 characters, a user and a device of up to 200).
    maxPreloginBytes: parseInteger(values['max-prelogin-bytes'], '--max-prelogin-bytes', 4096, RELAY_MAX_FRAME_BYTES * 16),
    upgradeTimeoutMs: parseInteger(values['upgrade-timeout-ms'], '--upgrade-timeout-ms', 100, 600_000),
    // At least two largest frames, so the delivery pump (which keeps under half) can always send one.
    maxPendingBytes: parseInteger(values['max-pending-bytes'], '--max-pending-bytes', 4 * RELAY_MAX_FRAME_BYTES, 2 ** 40),
  };

  const dataDir = values.data ?? defaultRelayDataDir(io.env);
  reportCaseCollisions(dataDir, io);
  const server = await RelayServer.start({
    dataDir,
    host: values.host,
    port,
    heartbeatMs,
    ratePerSecond,
    quotaMessages,
    quotaBytes,
    retentionMs,
    dedupeWindowMs,
    ...limits,
    tls: values.cert && values.key ? { certFile: values.cert, keyFile: values.key } : undefined,
    log: (line) => io.stderr(relayLogLine(line)),
  });
  io.stdout(`relay listening on ${server.url}`);
  if (values.insecure && !values.cert && !isLoopbackHost(values.host)) io.stderr(`relay: --insecure: tokens and messages cross the network in clear`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.stderr(`relay: ${signal}, shutting down`);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await server.close();
  return 0;
}

async function addUserVerb(args: string[], io: RelayCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { data: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  // Names are case-insensitive: the account is created, and named back, in lower case.
  const given = singleName(positionals, 'add-user');
  const name = canonicalUserName(given);
  const store = RelayStore.open(values.data ?? defaultRelayDataDir(io.env));
  try {
    const token = await addUser(store, name);
    if (values.json) io.stdout(JSON.stringify({ user: name, token }));
    else {
      io.stdout(token);
      io.stderr(`relay: added "${name}"; the token above is shown only once`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UserExistsError) {
      const same = given === name ? '' : ` ("${given}" is the same account: names are case-insensitive)`;
      io.stderr(`relay: user "${name}" already has an active token${same}; run "relay revoke ${name}" first to issue a new one`);
      return 1;
    }
    throw err;
  } finally {
    store.close();
  }
}

function revokeVerb(args: string[], io: RelayCliIo): number {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { data: { type: 'string' } } });
  const name = singleName(positionals, 'revoke');
  const store = RelayStore.open(values.data ?? defaultRelayDataDir(io.env));
  try {
    if (!revokeUser(store, name)) {
      io.stderr(`relay: no active user "${name}" to revoke`);
      return 1;
    }
    io.stderr(`relay: revoked "${name}"; a running relay closes its connections within a second`);
    return 0;
  } finally {
    store.close();
  }
}

/**
 * Names accounts that differed only in case when names became case-insensitive (relay
 * migration 4): nothing of one was merged into another, and each such account stays unable to
 * log in until the operator revokes it (and adds it again under one spelling if it should go on).
 */
function reportCaseCollisions(dataDir: string, io: RelayCliIo): void {
  const store = RelayStore.open(dataDir);
  try {
    const activeNames = new Set(store.listUsers().filter((u) => u.revoked_at === null).map((u) => u.name));
    for (const { name, others } of store.caseCollisions()) {
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
    store.close();
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
