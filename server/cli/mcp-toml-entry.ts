/**
 * Puts one `[mcp_servers.<name>]` table into Codex's `config.toml` as a textual edit: the
 * table's own lines are replaced (or appended), every other byte of the file stays as it was.
 * Parsing and re-serialising would drop the user's comments and layout. smol-toml is used only
 * to read: to refuse a file that does not parse, to compare the entry, and to check afterwards
 * that the edit changed the entry and nothing else. Pure: text in, text out.
 */
import { parse, TomlError } from 'smol-toml';
import { sameValue, type EditOutcome, type ServerLaunch } from './mcp-entry';

const TABLE = 'mcp_servers';

/** A TOML basic string. JSON's escapes are TOML's (`\"`, `\\`, `\n`, `\uXXXX`), save DEL, which TOML wants escaped. */
function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

/** A key as written in a header: bare when TOML allows it, else quoted. */
function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** The table's text, ending with `eol`. */
export function tomlSnippet(name: string, launch: ServerLaunch, eol = '\n'): string {
  return [`[${TABLE}.${tomlKey(name)}]`, `command = ${tomlString(launch.command)}`, `args = [${launch.args.map(tomlString).join(', ')}]`, ''].join(eol);
}

/**
 * The parts of a dotted key (`a."b.c" . d` → a, b.c, d), or undefined when it is not one this
 * reader understands (then the line is not treated as a header of ours).
 */
export function dottedKey(text: string): string[] | undefined {
  const parts: string[] = [];
  let rest = text.trim();
  for (;;) {
    let m: RegExpExecArray | null;
    if ((m = /^[A-Za-z0-9_-]+/.exec(rest))) parts.push(m[0]);
    else if ((m = /^"((?:[^"\\]|\\.)*)"/.exec(rest))) {
      try {
        parts.push(JSON.parse(m[0]) as string);
      } catch {
        return undefined;
      }
    } else if ((m = /^'([^']*)'/.exec(rest))) parts.push(m[1]!);
    else return undefined;
    rest = rest.slice(m[0].length).trimStart();
    if (rest === '') return parts;
    if (!rest.startsWith('.')) return undefined;
    rest = rest.slice(1).trimStart();
  }
}

interface Line {
  text: string;
  /** The table header this line is, if it is one (outside any multi-line string). */
  header: string[] | undefined;
}

/** The file's lines (each with its line ending), with table headers recognised. */
function lines(text: string): Line[] {
  const out: Line[] = [];
  let inString: '"""' | "'''" | undefined;
  for (const raw of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    const body = raw.replace(/\r?\n$/, '');
    let header: string[] | undefined;
    if (inString === undefined) {
      const m = /^\s*\[(?!\[)(.*?)\]\s*(#.*)?$/.exec(body);
      if (m) header = dottedKey(m[1]!);
      else if (/^\s*\[\[/.test(body)) header = []; // an array of tables: someone else's table, never ours
    }
    // Track multi-line strings, so a line inside one that looks like a header is not taken for one.
    for (const delimiter of body.match(/"""|'''/g) ?? []) {
      if (inString === undefined) inString = delimiter as '"""' | "'''";
      else if (inString === delimiter) inString = undefined;
    }
    out.push({ text: raw, header });
  }
  return out;
}

const isOurs = (header: string[] | undefined, name: string): boolean => header !== undefined && header.length >= 2 && header[0] === TABLE && header[1] === name;

/** A blank line or a comment: what may sit between tables and belongs to the one after it. */
const isFiller = (line: string): boolean => /^\s*(#.*)?\r?\n?$/.test(line);

export function setTomlEntry(text: string, name: string, launch: ServerLaunch): EditOutcome {
  let before: Record<string, unknown>;
  try {
    before = parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) return { kind: 'refused', line: error.line, reason: `does not parse as TOML (${error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')} at line ${error.line}, column ${error.column})` };
    throw error;
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const snippet = tomlSnippet(name, launch, eol);
  const servers = before[TABLE];
  if (servers !== undefined && (typeof servers !== 'object' || servers === null || Array.isArray(servers))) return { kind: 'refused', line: undefined, reason: `"${TABLE}" is not a table` };
  const previous = (servers as Record<string, unknown> | undefined)?.[name];
  const wanted = { command: launch.command, args: launch.args };
  if (previous !== undefined && sameValue(previous, wanted)) return { kind: 'unchanged', text, snippet };

  const all = lines(text);
  const headers = all.map((l, i) => (l.header ? i : -1)).filter((i) => i >= 0);
  if (previous !== undefined && !headers.some((i) => isOurs(all[i]!.header, name))) {
    return { kind: 'refused', line: undefined, reason: `defines ${TABLE}.${name} in a form this command does not edit (an inline table or dotted keys); remove it, or edit it by hand` };
  }
  // Each table runs from its header to the next header, less the comments and blank lines just
  // before that one (they introduce the next table). Ours — and its sub-tables, such as `.env` — go.
  const keep: boolean[] = all.map(() => true);
  let insertAt = -1;
  let removedEnd = 0;
  for (let h = 0; h < headers.length; h++) {
    const start = headers[h]!;
    if (!isOurs(all[start]!.header, name)) continue;
    let end = h + 1 < headers.length ? headers[h + 1]! : all.length;
    while (end > start + 1 && isFiller(all[end - 1]!.text)) end--;
    // A sub-table right after ours goes with the blank lines between them.
    const between = all.slice(removedEnd, start);
    const from = insertAt !== -1 && between.every((l) => isFiller(l.text)) ? removedEnd : start;
    for (let i = from; i < end; i++) keep[i] = false;
    removedEnd = end;
    if (insertAt === -1) insertAt = start;
  }
  let next: string;
  if (insertAt >= 0) {
    next = all.map((l, i) => (i === insertAt ? snippet : keep[i] ? l.text : '')).join('');
  } else {
    const separator = text === '' ? '' : text.endsWith('\n') ? (/(^|\n)\s*\n$/.test(text) ? '' : eol) : eol + eol;
    next = text + separator + snippet;
  }
  // The edit must have changed the entry and nothing else; anything else would be ours to answer for.
  try {
    const after = parse(next) as Record<string, unknown>;
    const strip = (doc: Record<string, unknown>) => {
      const copy = { ...doc, [TABLE]: { ...(doc[TABLE] as Record<string, unknown> | undefined) } };
      delete (copy[TABLE] as Record<string, unknown>)[name];
      return copy;
    };
    const entry = (after[TABLE] as Record<string, unknown> | undefined)?.[name];
    if (!sameValue(entry, wanted) || !sameValue(strip(after), strip(before))) throw new Error('changed more than the entry');
  } catch {
    return { kind: 'refused', line: undefined, reason: `could not be edited without changing more than ${TABLE}.${name}; add this table by hand:${eol}${snippet}` };
  }
  return previous === undefined ? { kind: 'added', text: next, snippet } : { kind: 'replaced', text: next, snippet, previous };
}
