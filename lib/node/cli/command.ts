/**
 * A command declares itself once: name, summary, flags (type, default, limits, short name,
 * description), positionals, examples and handler. The parser (node's util.parseArgs
 * underneath), `--help` and the README's CLI section are all generated from that declaration
 * (help.ts), so they cannot drift apart. Dependency-free beyond node: the delegated CLI path
 * stays lean.
 */
import { parseArgs } from 'node:util';
import { usage } from './errors';
import { errorMessage } from '../../error-message';

interface FlagBase {
  readonly short?: string;
  readonly description: string;
  /** The command refuses to run without it. */
  readonly required?: boolean;
  /** Flags this one may not be combined with (a mode that would silently ignore them). */
  readonly conflicts?: readonly string[];
  /** A flag this one only makes sense with. */
  readonly requires?: string;
}

export interface BooleanFlag extends FlagBase {
  readonly type: 'boolean';
}

export interface StringFlag extends FlagBase {
  readonly type: 'string';
  /** What the value is, shown as `<value>` in usage lines. */
  readonly value: string;
  readonly default?: string;
  readonly choices?: readonly string[];
  /** May be given more than once (`--attach a --attach b`): the value is every one, in order ([] when absent). */
  readonly multiple?: true;
}

export interface NumberFlag extends FlagBase {
  readonly type: 'number';
  readonly value: string;
  readonly default?: number;
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  /** Shown in the limits and the refusal, e.g. "seconds". */
  readonly unit?: string;
}

export type FlagSpec = BooleanFlag | StringFlag | NumberFlag;
export type Flags = Readonly<Record<string, FlagSpec>>;

export interface Positional {
  /** Shown as `<name>`. */
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  /** Takes every remaining argument (joined by the handler). */
  readonly variadic?: boolean;
}

type ValueOf<F extends FlagSpec> = F extends BooleanFlag
  ? boolean | undefined
  : F extends { readonly multiple: true }
    ? string[]
    : F extends { readonly default: infer D }
    ? D extends string
      ? string
      : number
    : F extends { readonly required: true }
      ? F extends NumberFlag
        ? number
        : string
      : F extends NumberFlag
        ? number | undefined
        : string | undefined;

export type Values<F extends Flags> = { -readonly [K in keyof F]: ValueOf<F[K]> };

export interface Parsed<F extends Flags> {
  values: Values<F>;
  /** Already checked against the declared positionals (count, required ones present). */
  positionals: string[];
}

export interface CommandSpec<F extends Flags> {
  readonly name: string;
  /** One line, lower case, no full stop: shown in `switchboard help` beside the usage. */
  readonly summary: string;
  /** Further lines for the command's own `--help`. */
  readonly details?: readonly string[];
  readonly flags: F;
  readonly positionals?: readonly Positional[];
  /** Said after "unexpected argument …" when a command takes no (more) positionals. */
  readonly extraArgumentHint?: string;
  readonly examples: readonly [string, ...string[]];
}

export type Handler<F extends Flags, C> = (input: Parsed<F>, context: C) => Promise<number>;

/** A declared command: a leaf with a handler, or a group of sub-commands (optionally with its own handler or a default). */
export interface Command<C> {
  readonly spec: CommandSpec<Flags>;
  readonly handler?: Handler<Flags, C>;
  readonly subcommands?: readonly Command<C>[];
  /** The sub-command that runs when none is named (`outbox` is `outbox list`). */
  readonly defaultSubcommand?: string;
}

/** Keeps the flags' literal types, so the handler's `values` are typed from the declaration. */
export function spec<const F extends Flags>(declaration: CommandSpec<F>): CommandSpec<F> {
  return declaration;
}

export function command<const F extends Flags, C>(declaration: CommandSpec<F>, handler: Handler<F, C>): Command<C> {
  return { spec: declaration, handler: handler as unknown as Handler<Flags, C> };
}

export function group<const F extends Flags, C>(
  declaration: CommandSpec<F>,
  subcommands: readonly Command<C>[],
  options: { handler?: Handler<F, C>; defaultSubcommand?: string } = {},
): Command<C> {
  return { spec: declaration, subcommands, handler: options.handler as unknown as Handler<Flags, C> | undefined, defaultSubcommand: options.defaultSubcommand };
}

/** Every flag a command understands that it does not declare itself. */
export const HELP_FLAG: BooleanFlag = { type: 'boolean', short: 'h', description: 'show this help' };

/** What running a command resolved to: help to print, or a handler to call. */
export type Resolution<C> =
  | { kind: 'help'; path: readonly Command<C>[]; exitCode: number }
  | { kind: 'run'; path: readonly Command<C>[]; run: (context: C) => Promise<number> };

/**
 * Finds the (sub-)command `args` names and parses its flags. Throws a usage error (exit 2,
 * one line) for anything the declaration does not allow.
 */
export function resolve<C>(root: Command<C>, args: readonly string[], path: readonly Command<C>[] = [root]): Resolution<C> {
  // Errors name the command as typed after the program ("outbox requeue"); the program prefixes the line itself.
  const name = path.length > 1 ? path.slice(1).map((c) => c.spec.name).join(' ') : root.spec.name;
  const unknownWhat = path.length > 1 ? `${name} command` : 'command';
  if (root.subcommands) {
    const fallback = root.subcommands.find((c) => c.spec.name === root.defaultSubcommand);
    // `outbox --state dead` is `outbox list --state dead`: the default's flags take values here too.
    const at = firstPositional(args, { ...fallback?.spec.flags, ...root.spec.flags });
    const named = at === undefined ? undefined : root.subcommands.find((c) => c.spec.name === args[at]);
    if (named) return resolve(named, [...args.slice(0, at), ...args.slice(at! + 1)], [...path, named]);
    if (wantsHelp(args, root.spec.flags)) return { kind: 'help', path, exitCode: 0 };
    const names = root.subcommands.map((c) => c.spec.name).join(', ');
    if (at !== undefined) throw usage(`unknown ${unknownWhat} "${args[at]}" (${names})`);
    if (fallback) return resolve(fallback, args, [...path, fallback]);
    if (!root.handler) {
      if (args.length === 0) return { kind: 'help', path, exitCode: 2 };
      throw usage(`${name} needs a command: ${names}`);
    }
  }
  const handler = root.handler;
  if (!handler) throw new Error(`${name} declares no handler`);
  const flags = root.spec.flags;
  const prepared = joinDashValues(args, flags, name);
  if (wantsHelp(prepared, flags)) return { kind: 'help', path, exitCode: 0 };
  const parsed = parseFlags(prepared, root.spec, name);
  return { kind: 'run', path, run: (context) => handler(parsed, context) };
}

function parseOptions(flags: Flags) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [long, flag] of Object.entries(flags)) {
    options[long] = { type: flag.type === 'boolean' ? 'boolean' : 'string', ...(flag.short ? { short: flag.short } : {}), ...(flag.type === 'string' && flag.multiple ? { multiple: true } : {}) };
  }
  return options;
}

/** Index of the first argument that is not a flag or a flag's value, if any (stops at `--`). */
function firstPositional(args: readonly string[], flags: Flags): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1] === undefined ? undefined : i + 1;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (arg.includes('=')) continue;
    const flag = arg.startsWith('--') ? flags[arg.slice(2)] : Object.values(flags).find((f) => f.short === arg.slice(1));
    if (flag && flag.type !== 'boolean') i++;
  }
  return undefined;
}

function wantsHelp(args: readonly string[], flags: Flags): boolean {
  const { tokens } = parseArgs({ args: [...args], options: parseOptions(flags), strict: false, allowPositionals: true, tokens: true });
  return tokens.some((t) => t.kind === 'option' && t.name === 'help');
}

function declaredFlagToken(arg: string, flags: Flags): boolean {
  if (arg === '--') return true;
  if (arg.startsWith('--')) {
    const long = arg.slice(2).split('=')[0]!;
    return long === 'help' || long in flags;
  }
  const short = arg.slice(1, 2);
  return short === 'h' || Object.values(flags).some((f) => f.short === short);
}

/**
 * A value that starts with `-` (`-m -x`, `-m --draft`): taken as the value when it cannot be
 * one of this command's flags; refused with a one-line hint when it could (`-m --to`).
 * `-m=value` means the value (node's parser would keep the `=`).
 */
function joinDashValues(args: readonly string[], flags: Flags, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const entry = flagEntry(arg, flags);
    if (!entry || entry[1].type === 'boolean') {
      out.push(arg);
      continue;
    }
    const [long] = entry;
    if (/^-[^-]=/.test(arg)) {
      out.push(`--${long}=${arg.slice(3)}`);
      continue;
    }
    if (arg.includes('=') || /^-[^-]./.test(arg)) {
      out.push(arg);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined || !next.startsWith('-') || next === '-') {
      out.push(arg);
      continue;
    }
    if (declaredFlagToken(next, flags)) {
      throw usage(`${name}: ${arg} needs a value, and "${next}" is a flag; to pass it as the value, write ${arg}=${next}${arg.startsWith('--') ? '' : ` or --${long}=${next}`}`);
    }
    out.push(`--${long}=${next}`);
    i++;
  }
  return out;
}

function flagEntry(arg: string, flags: Flags): [string, FlagSpec] | undefined {
  if (arg.startsWith('--')) {
    const long = arg.slice(2).split('=')[0]!;
    const flag = flags[long];
    return flag ? [long, flag] : undefined;
  }
  if (!arg.startsWith('-') || arg.length < 2) return undefined;
  const short = arg[1]!;
  return Object.entries(flags).find(([, f]) => f.short === short);
}

function parseFlags(args: string[], declaration: CommandSpec<Flags>, name: string): Parsed<Flags> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: ReturnType<typeof parseOptions>; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options: parseOptions(declaration.flags), strict: true, allowPositionals: true });
  } catch (error) {
    throw usage(`${name}: ${errorMessage(error).split('\n')[0]!.replace(/\. To specify a positional argument.*$/s, '')}`, shellCommentHint(args, declaration.flags) ?? `\`--help\` lists what ${name} takes`);
  }
  const raw = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const values: Record<string, string | string[] | number | boolean | undefined> = {};
  for (const [long, flag] of Object.entries(declaration.flags)) {
    const given = raw[long];
    if (given === undefined) {
      if (flag.required) throw usage(`${name} needs --${long}${flag.type === 'boolean' ? '' : ` <${flag.value}>`}`);
      values[long] = flag.type === 'boolean' ? undefined : flag.type === 'string' && flag.multiple ? [] : flag.default;
      continue;
    }
    values[long] = flag.type === 'number' ? parseNumber(String(given), long, flag) : given;
    for (const each of Array.isArray(given) ? given : [given]) {
      if (flag.type === 'string' && flag.choices && !flag.choices.includes(String(each))) throw usage(`--${long} is one of ${flag.choices.join(', ')}`);
    }
  }
  for (const [long, flag] of Object.entries(declaration.flags)) {
    if (raw[long] === undefined) continue;
    for (const other of flag.conflicts ?? []) {
      if (raw[other] !== undefined) throw usage(`${name}: --${other} does not go with --${long}`);
    }
    if (flag.requires !== undefined && raw[flag.requires] === undefined) throw usage(`${name}: --${long} goes with --${flag.requires}`);
  }
  return { values: values as Values<Flags>, positionals: checkPositionals(parsed.positionals, declaration, name) };
}

/**
 * `send --to #team` reaches us as `send --to`: the shell took `#team` and what followed for a
 * comment. When the last argument is a flag whose value may be `#…` (its declared value says
 * so), that is the likely story, and the way out is to quote it.
 */
function shellCommentHint(args: readonly string[], flags: Flags): string | undefined {
  const last = args[args.length - 1];
  const flag = last?.startsWith('--') ? flags[last.slice(2)] : undefined;
  if (!flag || flag.type === 'boolean' || !flag.value.includes('#')) return undefined;
  return `an unquoted # starts a shell comment: write ${last} '#name'`;
}

function parseNumber(text: string, long: string, flag: NumberFlag): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n) || n < flag.min || n > flag.max || (flag.integer && !Number.isInteger(n))) {
    throw usage(`--${long} takes ${describeNumber(flag)}, got "${text}"`);
  }
  return n;
}

/** "a whole number between 1 and 1000", "a number of seconds between 0 and 600". */
export function describeNumber(flag: NumberFlag): string {
  const kind = flag.integer ? 'a whole number' : 'a number';
  return `${kind}${flag.unit ? ` of ${flag.unit}` : ''} between ${flag.min} and ${flag.max}`;
}

function checkPositionals(given: string[], declaration: CommandSpec<Flags>, name: string): string[] {
  const declared = declaration.positionals ?? [];
  const variadic = declared.some((p) => p.variadic);
  const missing = declared.filter((p) => !p.optional).slice(given.length);
  if (missing.length > 0) throw usage(`${name} needs <${missing[0]!.name}> (${missing[0]!.description})`);
  if (!variadic && given.length > declared.length) {
    const hint = declaration.extraArgumentHint ? ` (${declaration.extraArgumentHint})` : '';
    throw usage(`${name}: unexpected argument "${given[declared.length]}"${hint}`);
  }
  return given;
}
