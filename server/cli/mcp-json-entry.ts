/**
 * Puts one MCP server entry into a client's JSON configuration (`~/.claude.json`, `.mcp.json`,
 * VS Code's `mcp.json`) as a textual edit (jsonc-parser's `modify`): every byte outside the
 * entry stays as it was — comments, other servers, key order, indentation — because these
 * files are the user's (and Claude Code's ~/.claude.json holds much more than servers). Pure:
 * text in, text out; the caller reads and writes the file.
 */
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
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

/** How the file indents and ends its lines, so the new entry looks like its neighbours. */
function formatting(text: string): { insertSpaces: boolean; tabSize: number; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
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
  const edits = modify(source, [container, name], entry, { formattingOptions: formatting(source) });
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
