/**
 * File references in message text (`src/foo.ts:42`, `src/foo.ts:42:7`, `src/foo.ts#L42`,
 * `#L10-L20`) and the code-snippet header Send Selection writes into a fence's info string
 * (```` ```ts src/foo.ts:10-20 @abc1234 ````). Pure: the webview finds references with it,
 * the host re-parses what the webview asks for and resolves paths itself (extension/fileRefs.ts),
 * so nothing here decides whether a path may be opened.
 */

export interface FileRef {
  /** As written (POSIX separators); the host decides whether it names a file in the workspace. */
  path: string;
  /** 1-based. */
  line: number;
  /** 1-based column, when written. */
  col: number | null;
  /** Last line of a range (`:10-20`, `#L10-L20`), when written. */
  endLine: number | null;
}

/** A reference found in a text, with where it sits (`[start, end)` in that text). */
export interface FoundRef extends FileRef {
  start: number;
  end: number;
}

/** Longest path a reference may have: longer is not treated as a reference. */
export const MAX_REF_PATH = 1024;
/** Line and column numbers above this are not references (and never reach the editor). */
export const MAX_REF_LINE = 10_000_000;

// A path: an optional leading `/`, then segments of ordinary file-name characters
// separated by `/`. Either it has a `/` or its last segment has an extension, so "at 10:30" or
// "ratio 3:2" is not a reference. Then the position: `:L[:C]`, `:L-E`, or `#L<n>[-L<m>]`.
const SEG = '[A-Za-z0-9_.@+~-]+';
const PATH = `\\/?(?:${SEG}\\/)+${SEG}|[A-Za-z0-9_.@+~-]*[A-Za-z0-9_@+~-]\\.[A-Za-z][A-Za-z0-9]{0,11}`;
const POS = '(?::(\\d{1,8})(?::(\\d{1,8})|-(\\d{1,8}))?|#L(\\d{1,8})(?:-L?(\\d{1,8}))?)';
// not inside a longer word, path or URL (lookbehind), and not followed by more path characters
const REF_RE = new RegExp(`(?<![A-Za-z0-9_.@+~/:#-])(${PATH})${POS}(?![A-Za-z0-9_])`, 'g');

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isInteger(n) && n >= 1 && n <= MAX_REF_LINE ? n : null;
}

/** Every file reference in `text`, in order, not overlapping. */
export function findFileRefs(text: string): FoundRef[] {
  const out: FoundRef[] = [];
  // a 64 KiB body is scanned once; the regex has no nested quantifier over the same characters
  for (const m of text.matchAll(REF_RE)) {
    const path = m[1]!;
    if (path.length > MAX_REF_PATH) continue;
    const line = num(m[2] ?? m[5]);
    if (line === null) continue;
    const col = num(m[3]);
    const endRaw = num(m[4] ?? m[6]);
    const endLine = endRaw !== null && endRaw >= line ? endRaw : null;
    out.push({ path, line, col, endLine, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** A code block's header: language, where it came from, and at which commit. */
export interface SnippetHeader {
  lang: string | null;
  path: string | null;
  line: number | null;
  endLine: number | null;
  /** An abbreviated or full commit id (hex), when the sender's folder was a git repository. */
  commit: string | null;
}

const LANG_RE = /^[A-Za-z0-9_+#.-]{1,32}$/;
const COMMIT_RE = /^@([0-9a-f]{7,40})$/;
const LOC_RE = /^(.+?):(\d{1,8})(?:-(\d{1,8}))?$/;

/**
 * Reads a fence's info string: `ts`, `ts src/foo.ts:10-20`, `ts src/foo.ts:10-20 @abc1234`
 * (the language may be `-` when none is known). Words it does not recognise are ignored.
 */
export function parseSnippetInfo(info: string): SnippetHeader {
  const words = info.trim().split(/\s+/).filter(Boolean).slice(0, 4);
  const h: SnippetHeader = { lang: null, path: null, line: null, endLine: null, commit: null };
  const first = words[0];
  if (first !== undefined && LANG_RE.test(first) && !LOC_RE.test(first)) {
    if (first !== '-') h.lang = first.toLowerCase();
    words.shift();
  }
  for (const w of words) {
    const c = COMMIT_RE.exec(w);
    if (c) {
      h.commit = c[1]!;
      continue;
    }
    const loc = LOC_RE.exec(w);
    if (loc && h.path === null && loc[1]!.length <= MAX_REF_PATH) {
      const line = num(loc[2]);
      if (line === null) continue;
      const end = num(loc[3]);
      h.path = loc[1]!;
      h.line = line;
      h.endLine = end !== null && end >= line ? end : null;
    }
  }
  return h;
}

/** The longest run of backticks in `text` (a fence around it must be longer). */
function longestBacktickRun(text: string): number {
  let best = 0;
  for (const m of text.matchAll(/`+/g)) best = Math.max(best, m[0].length);
  return best;
}

export interface Snippet {
  /** Workspace-relative path, POSIX separators. */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** VS Code language id (the fence's language word); null when not a plain word. */
  languageId: string | null;
  commit: string | null;
  code: string;
}

/**
 * The body Send Selection sends: an optional note, then a fence whose info string says
 * language, `path:start-end` and `@commit` (short) — readable as is in the CLI, parsed back by
 * parseSnippetInfo in the receiver's view. Paths with spaces cannot sit in an info string word:
 * their header falls back to the language alone, and the path goes in the note line.
 */
export function formatSnippet(s: Snippet, note: string): string {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(s.code) + 1));
  const lang = s.languageId && LANG_RE.test(s.languageId) ? s.languageId : '-';
  const range = s.endLine > s.startLine ? `${s.startLine}-${s.endLine}` : `${s.startLine}`;
  const plainPath = !/\s/.test(s.path) && !s.path.includes('`');
  const info = [lang, ...(plainPath ? [`${s.path}:${range}`] : []), ...(s.commit ? [`@${s.commit.slice(0, 12)}`] : [])].join(' ');
  const code = s.code.endsWith('\n') ? s.code : `${s.code}\n`;
  const lead = [note.trim(), plainPath ? '' : `${s.path}:${range}`].filter(Boolean).join('\n');
  return `${lead ? `${lead}\n\n` : ''}${fence}${info}\n${code}${fence}`;
}

/** A selection's whole lines, 1-based (from 0-based positions): one ending at column 0 of a later line does not take that line. */
export function selectedLines(sel: { start: { line: number }; end: { line: number; character: number } }): { start: number; end: number } {
  const endLine = sel.end.line > sel.start.line && sel.end.character === 0 ? sel.end.line - 1 : sel.end.line;
  return { start: sel.start.line + 1, end: endLine + 1 };
}
