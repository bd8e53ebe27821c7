/**
 * `switchboard config get|set|list`: this user's choices, in npm's shape (`config get <key>`,
 * `config set <key> <value>` or `<key>=<value>`, `config list` as `key = value` lines). They are
 * the core's `settings/get|set`, stored in the home; the relay settings stay `init`'s.
 */
import type { Settings } from '../../protocol/rpc';
import { ExitCode, usage } from '../../lib/node/cli/errors';
import { command, group, spec } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import type { VerbContext } from './context';
import { inertJson } from './format';
import { formatBytes, parseBytes } from './bytes';
import { DEFAULT_AUTO_DOWNLOAD_BYTES } from '../../protocol/files';
import { withCore } from './session';

/** Every key `config` knows, the Settings field it is, what kind of value it takes and what it means. */
const KEYS = {
  'receipts.read': {
    field: 'receipts_read',
    kind: 'switch',
    description: 'send read receipts when you read a message (on by default; off: none are sent, and senders see only "delivered")',
  },
  'files.auto_download': {
    field: 'auto_download_bytes',
    kind: 'bytes',
    description: `download a received message's files at once when they total at most this size (default ${formatBytes(DEFAULT_AUTO_DOWNLOAD_BYTES)}; 0 or off: only on \`switchboard download\`); e.g. 50MiB`,
  },
} as const satisfies Record<string, { field: keyof Settings; kind: 'switch' | 'bytes'; description: string }>;

type Key = keyof typeof KEYS;
const KEY_NAMES = Object.keys(KEYS) as Key[];

function keyOf(text: string): Key {
  const key = KEY_NAMES.find((k) => k === text);
  if (!key) throw usage(`config: unknown setting "${text}" (one of ${KEY_NAMES.join(', ')})`);
  return key;
}

const ON = ['on', 'true'];
const OFF = ['off', 'false'];

/** What `config set <key> <text>` stores: on/off for a switch, a size (10MiB, 0, off) for bytes. */
function valueOf(key: Key, text: string): boolean | number {
  const value = text.toLowerCase();
  if (KEYS[key].kind === 'bytes') {
    if (OFF.includes(value)) return 0;
    const bytes = parseBytes(text);
    if (typeof bytes === 'string') throw usage(`config set ${key}: ${bytes}`);
    return bytes;
  }
  if (ON.includes(value)) return true;
  if (OFF.includes(value)) return false;
  throw usage(`config set ${key}: the value is on or off, got "${text}"`);
}

/** `on`, `off`, `10 MiB` (`0` for a size that is off). */
function shown(value: boolean | number): string {
  if (typeof value === 'number') return value === 0 ? '0' : formatBytes(value);
  return value ? 'on' : 'off';
}

/** `{"receipts.read": true, "files.auto_download": 10485760}`: the keys as `config` names them, so `--json` of get, set and list read alike. */
function asJson(settings: Settings, keys: readonly Key[]): Record<string, boolean | number> {
  return Object.fromEntries(keys.map((k) => [k, settings[KEYS[k].field]]));
}

function lines(settings: Settings, keys: readonly Key[]): string {
  return keys.map((k) => `${k} = ${shown(settings[KEYS[k].field])}`).join('\n');
}

const KEY_ARGUMENT = { name: 'key', description: `the setting: ${KEY_NAMES.join(', ')}` } as const;

const getSpec = spec({
  name: 'get',
  summary: 'print one setting',
  flags: { json: JSON_FLAG },
  positionals: [KEY_ARGUMENT],
  examples: ['switchboard config get receipts.read', 'switchboard config get receipts.read --json'],
});

export const configGet = command(getSpec, async ({ values, positionals }, context: VerbContext) => {
  const key = keyOf(positionals[0]!);
  const settings = await withCore(context.paths, (core) => core.call('settings/get', {}));
  context.out(values.json ? inertJson(asJson(settings, [key])) : shown(settings[KEYS[key].field]));
  return ExitCode.Ok;
});

const setSpec = spec({
  name: 'set',
  summary: 'change a setting: `set <key> <value>` or `set <key>=<value>`',
  details: KEY_NAMES.map((k) => `${k}: ${KEYS[k].description}.`),
  flags: { json: JSON_FLAG },
  positionals: [
    { name: 'key', description: `the setting (${KEY_NAMES.join(', ')}), or key=value` },
    { name: 'value', description: 'on or off (true and false also do); a size for files.auto_download (10MiB, 500kB, 0)', optional: true },
  ],
  examples: ['switchboard config set receipts.read off', 'switchboard config set receipts.read=on --json', 'switchboard config set files.auto_download 50MiB'],
});

export const configSet = command(setSpec, async ({ values, positionals }, context: VerbContext) => {
  const [first, second] = positionals as [string, string | undefined];
  const at = first.indexOf('=');
  if (at !== -1 && second !== undefined) throw usage(`config set: give ${first.slice(0, at)}=<value> or ${first.slice(0, at)} <value>, not both`);
  const key = keyOf(at === -1 ? first : first.slice(0, at));
  const text = at === -1 ? second : first.slice(at + 1);
  if (text === undefined) throw usage(`config set ${key} needs a value: ${KEYS[key].kind === 'bytes' ? 'a size such as 10MiB, or 0' : 'on or off'}`);
  const value = valueOf(key, text);
  const settings = await withCore(context.paths, (core) => core.call('settings/set', { [KEYS[key].field]: value }));
  context.out(values.json ? inertJson(asJson(settings, [key])) : lines(settings, [key]));
  return ExitCode.Ok;
});

const listSpec = spec({
  name: 'list',
  summary: 'every setting as `key = value` (`config` alone is `config list`)',
  flags: { json: JSON_FLAG },
  examples: ['switchboard config list', 'switchboard config list --json'],
});

export const configList = command(listSpec, async ({ values }, context: VerbContext) => {
  const settings = await withCore(context.paths, (core) => core.call('settings/get', {}));
  context.out(values.json ? inertJson(asJson(settings, KEY_NAMES)) : lines(settings, KEY_NAMES));
  return ExitCode.Ok;
});

export const config = group(
  {
    name: 'config',
    summary: 'your settings, such as read receipts and file downloads (`config` alone is `config list`)',
    details: ['The relay, user and token are set with `switchboard init`.'],
    flags: {},
    examples: ['switchboard config set receipts.read off', 'switchboard config list'],
  },
  [configGet, configSet, configList],
  { defaultSubcommand: 'list' },
);
