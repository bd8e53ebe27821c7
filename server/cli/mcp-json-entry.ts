/**
 * Puts one MCP server entry into a client's JSON configuration (`~/.claude.json`, `.mcp.json`,
 * VS Code's `mcp.json`) as a textual edit of the parsed tree's offsets: every byte outside the
 * entry stays as it was — comments, other servers, key order, indentation — because these
 * files are the user's (and Claude Code's ~/.claude.json holds much more than servers). Pure:
 * text in, text out; the caller reads and writes the file.
 */
import { applyEdits, findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { sameValue, type EditOutcome } from './mcp-entry';

export interface JsonEntryEdit {
  /** The object holding the servers: `mcpServers` (Claude Code) or `servers` (VS Code). */
  container: string;
  name: string;
  entry: Readonly<Record<string, unknown>>;
  /** VS Code's mcp.json is JSONC (comments, trailing commas); Claude Code's files are plain JSON. */
  jsonc: boolean;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

interface Layout {
  /** One level of indentation; '' with eol '' for a file kept on one line. */
  unit: string;
  eol: string;
}

/** How the file indents and ends its lines, so the new entry looks like its neighbours. */
function layoutOf(text: string): Layout {
  // A file on one line (minified) gets the entry on that line too.
  if (text.trim() !== '' && !text.trimEnd().includes('\n')) return { unit: '', eol: '' };
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { unit: '\t', eol };
  return { unit: indent ?? '  ', eol };
}

/** The indentation of the line `offset` is on. */
function indentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** `value` as JSON laid out like the file: its lines after the first indented from `base`. */
function pretty(value: unknown, base: string, layout: Layout): string {
  if (layout.eol === '') return JSON.stringify(value);
  return JSON.stringify(value, null, layout.unit).split('\n').join(layout.eol + base);
}

interface Edit {
  offset: number;
  length: number;
  content: string;
}

/**
 * Where a property goes in an object node, as edits of the text: after the last property (its
 * comma kept where it was, a comment at the end of its line left on that line), or into an empty
 * object. jsonc-parser's `modify` would do this, but its formatting reaches the neighbouring
 * property's lines and rewrites them; these edits touch only what they insert.
 */
function insertProperty(text: string, object: Node, key: string, value: unknown, layout: Layout): Edit[] {
  const objectIndent = indentAt(text, object.parent?.type === 'property' ? object.parent.offset : object.offset);
  const properties = object.children ?? [];
  const last = properties[properties.length - 1];
  if (!last) {
    const indent = objectIndent + layout.unit;
    const inner = text.slice(object.offset + 1, object.offset + object.length - 1);
    const close = inner.includes('\n') || layout.eol === '' ? '' : layout.eol + objectIndent;
    return [{ offset: object.offset + 1, length: 0, content: `${layout.eol === '' ? '' : layout.eol + indent}${JSON.stringify(key)}: ${pretty(value, indent, layout)}${close}` }];
  }
  const sameLineAsObject = !text.slice(object.offset, last.offset).includes('\n');
  const indent = sameLineAsObject ? objectIndent + layout.unit : indentAt(text, last.offset);
  const valueEnd = last.offset + last.length;
  // A comma after it (a trailing one, in JSONC), past blanks and comments.
  const comma = /^(?:\s|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*,/.exec(text.slice(valueEnd));
  const hasComma = comma !== null;
  const anchor = comma ? valueEnd + comma[0].length : valueEnd;
  // Past a comment that ends the line, so it stays with the property it was written beside.
  const rest = text.slice(anchor);
  const lineEnd = rest.search(/\r?\n/);
  const tail = lineEnd === -1 ? rest : rest.slice(0, lineEnd);
  const at = /^\s*(\/\/.*|\/\*.*?\*\/\s*)?$/.test(tail) ? anchor + tail.length : anchor;
  const property = `${layout.eol === '' ? ' ' : layout.eol + indent}${JSON.stringify(key)}: ${pretty(value, indent, layout)}${hasComma ? ',' : ''}`;
  if (hasComma) return [{ offset: at, length: 0, content: property }];
  if (at === valueEnd) return [{ offset: at, length: 0, content: `,${property}` }];
  return [{ offset: valueEnd, length: 0, content: ',' }, { offset: at, length: 0, content: property }];
}

/** The entry as it is written, `"name": { … }`, to show what was added. */
export function jsonSnippet(name: string, entry: Readonly<Record<string, unknown>>): string {
  return `${JSON.stringify(name)}: ${JSON.stringify(entry, null, 2)}`;
}

export function setJsonEntry(text: string, edit: JsonEntryEdit): EditOutcome {
  const { container, name, entry } = edit;
  const snippet = jsonSnippet(name, entry);
  // An empty (or all-blank) file is a new one: nothing in it to keep.
  const source = text.trim() === '' ? '{}\n' : text;
  const errors: ParseError[] = [];
  const root = parseTree(source, errors, { allowTrailingComma: edit.jsonc, disallowComments: !edit.jsonc, allowEmptyContent: false });
  if (errors.length > 0 || !root) {
    const first = errors[0];
    const at = first ? lineColumn(source, first.offset) : { line: 1, column: 1 };
    return { kind: 'refused', line: at.line, reason: `does not parse as ${edit.jsonc ? 'JSON with comments' : 'JSON'} (${first ? printParseErrorCode(first.error) : 'empty'} at line ${at.line}, column ${at.column})` };
  }
  if (root.type !== 'object') return { kind: 'refused', line: lineColumn(source, root.offset).line, reason: 'holds a JSON value that is not an object' };
  const servers = findNodeAtLocation(root, [container]);
  if (servers && servers.type !== 'object') return { kind: 'refused', line: lineColumn(source, servers.offset).line, reason: `"${container}" is not an object` };
  const existing = servers ? findNodeAtLocation(servers, [name]) : undefined;
  const previous: unknown = existing ? getNodeValue(existing) : undefined;
  if (existing && sameValue(previous, entry)) return { kind: 'unchanged', text, snippet };
  const layout = text.trim() === '' ? { unit: '  ', eol: '\n' } : layoutOf(source);
  const edits: Edit[] = existing
    ? [{ offset: existing.offset, length: existing.length, content: pretty(entry, indentAt(source, existing.parent!.offset), layout) }]
    : servers
      ? insertProperty(source, servers, name, entry, layout)
      : insertProperty(source, root, container, { [name]: entry }, layout);
  const next = applyEdits(source, edits);
  // The edit must have changed the entry and nothing else; anything else is a bug, not the user's file to pay for.
  if (!onlyEntryChanged(root, next, edit)) return { kind: 'refused', line: undefined, reason: 'could not be edited without changing more than the entry' };
  return existing ? { kind: 'replaced', text: next, snippet, previous } : { kind: 'added', text: next, snippet };
}

function onlyEntryChanged(before: Node, nextText: string, edit: JsonEntryEdit): boolean {
  const errors: ParseError[] = [];
  const after = parseTree(nextText, errors, { allowTrailingComma: edit.jsonc, disallowComments: !edit.jsonc });
  if (errors.length > 0 || !after) return false;
  const strip = (value: unknown): unknown => {
    const copy = { ...(value as Record<string, unknown>) };
    const servers = { ...(copy[edit.container] as Record<string, unknown> | undefined) };
    delete servers[edit.name];
    copy[edit.container] = servers;
    return copy;
  };
  const written = getNodeValue(after) as Record<string, unknown>;
  const entry = (written[edit.container] as Record<string, unknown> | undefined)?.[edit.name];
  return sameValue(entry, edit.entry) && sameValue(strip(getNodeValue(before)), strip(written));
}
