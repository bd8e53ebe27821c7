/**
 * Help text, generated from the declarations (command.ts): the usage lines of `switchboard
 * help`, each command's own `--help`, and the README's CLI section all come from here.
 */
import { describeNumber, HELP_FLAG, type Command, type FlagSpec, type Flags } from './command';

const WIDTH = 100;

export interface HelpOptions {
  /** What names the root command ("switchboard", "switchboard relay"); the path's other names follow it. */
  program: string;
  /** Options every command takes, shown after its own. */
  globals: readonly [string, FlagSpec][];
  /** Closing lines (exit codes). */
  footer: readonly string[];
}

function flagUsage(long: string, flag: FlagSpec): string {
  const name = flag.type !== 'boolean' && flag.short ? `-${flag.short}` : `--${long}`;
  const text = flag.type === 'boolean' ? name : `${name} <${flag.value}>`;
  const repeat = flag.type === 'string' && flag.multiple ? '…' : '';
  return flag.required ? `${text}${repeat}` : `[${text}]${repeat}`;
}

function positionalUsage<C>(command: Command<C>): string[] {
  return (command.spec.positionals ?? []).map((p) => {
    const text = `<${p.name}>${p.variadic ? '…' : ''}`;
    return p.optional ? `[${text}]` : text;
  });
}

/** The words after the program: `outbox [list] [--state <state>] [--json]`. */
function usageWords<C>(path: readonly Command<C>[]): string[] {
  const words = path.slice(1).map((c, i) => (path[i]!.defaultSubcommand === c.spec.name ? `[${c.spec.name}]` : c.spec.name));
  const leaf = path[path.length - 1]!;
  return [...words, ...positionalUsage(leaf), ...Object.entries(leaf.spec.flags).map(([long, flag]) => flagUsage(long, flag))];
}

/** Fills lines up to WIDTH, continuing under the first word after `lead`. */
function wrapWords(lead: string, words: readonly string[], indent = lead.length + 1): string[] {
  const lines: string[] = [];
  let line = lead;
  for (const word of words) {
    if (line.length + 1 + word.length > WIDTH && line.trim().length > 0 && line !== lead) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else line = line.length === 0 ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

function wrapText(text: string, indent: number): string[] {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length > 0 && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line.length === 0 ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : ' '.repeat(indent) + l));
}

/** Every runnable form under `root`, as paths from it: a command with a handler, then its sub-commands. */
export function runnablePaths<C>(root: Command<C>, path: readonly Command<C>[] = [root]): Command<C>[][] {
  const own = root.handler ? [[...path]] : [];
  const subs = (root.subcommands ?? []).flatMap((sub) => runnablePaths(sub, [...path, sub]));
  return [...own, ...subs];
}

/** Every command and group under `root` that answers `--help`, as paths from it. */
export function helpPaths<C>(root: Command<C>, path: readonly Command<C>[] = [root]): Command<C>[][] {
  return [[...path], ...(root.subcommands ?? []).flatMap((sub) => helpPaths(sub, [...path, sub]))];
}

/** One usage line per runnable form under `root` (wrapped); `prefix` is what names `root` ("switchboard", "switchboard outbox"). */
export function synopsis<C>(root: Command<C>, prefix: string): string[] {
  return runnablePaths(root).flatMap((path) => wrapWords(prefix, usageWords(path), prefix.length + 1 + (path[1] ? path[1].spec.name.length + 1 : 0)));
}

function flagNotes(flag: FlagSpec): string[] {
  const notes: string[] = [];
  if (flag.required) notes.push('required');
  if (flag.type === 'number') {
    notes.push(describeNumber(flag));
    if (flag.default !== undefined) notes.push(`default ${flag.default}`);
  }
  if (flag.type === 'string') {
    if (flag.multiple) notes.push('repeatable');
    if (flag.choices) notes.push(`one of ${flag.choices.join(', ')}`);
    if (flag.default !== undefined) notes.push(`default ${flag.default}`);
  }
  if (flag.conflicts?.length) notes.push(`not with ${flag.conflicts.map((c) => `--${c}`).join(', ')}`);
  if (flag.requires) notes.push(`only with --${flag.requires}`);
  return notes;
}

function optionRows(flags: readonly [string, FlagSpec][]): [string, string][] {
  return flags.map(([long, flag]) => {
    const names = `${flag.short ? `-${flag.short}, ` : ''}--${long}${flag.type === 'boolean' ? '' : ` <${flag.value}>`}`;
    const notes = flagNotes(flag);
    return [names, `${flag.description}${notes.length ? ` (${notes.join('; ')})` : ''}`];
  });
}

function table(rows: readonly [string, string][]): string[] {
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length))) + 2;
  return rows.flatMap(([left, right]) => {
    if (left.length + 2 > width) return [`  ${left}`, ...wrapText(right, width + 2).map((l, i) => (i === 0 ? ' '.repeat(width + 2) + l : l))];
    return wrapText(right, width + 2).map((l, i) => (i === 0 ? `  ${left.padEnd(width)}${l}` : l));
  });
}

/** A command's (or group's) own help: usage, what it does, arguments, options, sub-commands, examples. */
export function commandHelp<C>(path: readonly Command<C>[], options: HelpOptions): string {
  const command = path[path.length - 1]!;
  const name = [options.program, ...path.slice(1).map((c) => c.spec.name)].join(' ');
  const lines: string[] = [];
  if (command.subcommands) lines.push('usage:', ...synopsis(command, name).map((l) => `  ${l}`));
  else {
    const words = usageWords(path);
    const lead = `usage: ${options.program}`;
    lines.push(...wrapWords(lead, words, lead.length + 2 + (path.length > 1 ? words[0]!.length : 0)));
  }
  lines.push('', command.spec.summary.charAt(0).toUpperCase() + command.spec.summary.slice(1) + '.');
  for (const detail of command.spec.details ?? []) lines.push(...wrapText(detail, 0));
  const positionals = command.spec.positionals ?? [];
  if (positionals.length > 0) lines.push('', 'arguments:', ...table(positionals.map((p) => [`<${p.name}>${p.variadic ? '…' : ''}`, p.description])));
  if (command.subcommands) {
    lines.push('', 'commands:', ...table(command.subcommands.map((c) => [c.spec.name, c.spec.summary])));
    lines.push(`(\`${name} <command> --help\` for each)`);
  }
  const own = Object.entries(command.spec.flags as Flags);
  if (own.length > 0) lines.push('', 'options:', ...table(optionRows(own)));
  lines.push('', 'global options:', ...table(optionRows([...options.globals, ['help', HELP_FLAG]])));
  lines.push('', 'examples:', ...command.spec.examples.map((e) => `  ${e}`));
  if (options.footer.length > 0) lines.push('', ...options.footer.flatMap((l) => wrapText(l, 0)));
  return lines.join('\n');
}

/** `switchboard help`: every form with its summary, then the global options and the footer. */
export function overview<C>(root: Command<C>, options: HelpOptions & { extra: readonly [string, string][] }): string {
  const lines = [`usage: ${options.program} [--home <dir>] <command> [options]`, ''];
  const rows: [string[], string][] = [];
  for (const command of root.subcommands ?? []) {
    for (const path of runnablePaths(command, [root, command])) rows.push([usageWords(path), path[path.length - 1]!.spec.summary]);
  }
  for (const [left, right] of options.extra) rows.push([[left], right]);
  for (const [left, right] of rows) {
    lines.push(...wrapWords(' ', left, 3 + left[0]!.length));
    lines.push(...wrapText(right, 6).map((l, i) => (i === 0 ? `      ${l}` : l)));
  }
  lines.push('', ...wrapText(`\`${options.program} <command> --help\` (or \`${options.program} help <command>\`) shows a command's flags, limits and examples.`, 0));
  lines.push('', 'global options:', ...table(optionRows([...options.globals, ['help', HELP_FLAG]])));
  if (options.footer.length > 0) lines.push('', ...options.footer.flatMap((l) => wrapText(l, 0)));
  return lines.join('\n');
}
