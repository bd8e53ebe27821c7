/**
 * Syntax highlighting for fenced code blocks with highlight.js (core plus the languages
 * developers paste most; no auto-detection: a fence names its language or stays plain).
 *
 * highlight.js returns HTML. That string is never given to the DOM: `highlightRuns` reads it
 * back with a strict reader that accepts only what highlight.js emits (`<span class="hljs-…">`,
 * `</span>`, text, and the five escapes it writes) and gives runs of text with their classes,
 * which render.ts turns into spans and text nodes. Anything else and the block is plain text.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import makefile from 'highlight.js/lib/languages/makefile';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import plaintext from 'highlight.js/lib/languages/plaintext';
import powershell from 'highlight.js/lib/languages/powershell';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import scss from 'highlight.js/lib/languages/scss';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const LANGUAGES = { bash, c, cpp, csharp, css, diff, dockerfile, go, ini, java, javascript, json, kotlin, makefile, markdown, php, plaintext, powershell, python, ruby, rust, scss, shell, sql, swift, typescript, xml, yaml };
for (const [name, fn] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, fn);
// VS Code language ids that are not highlight.js names or aliases (Send Selection writes the id)
hljs.registerAliases(['typescriptreact', 'tsx'], { languageName: 'typescript' });
hljs.registerAliases(['javascriptreact', 'jsx'], { languageName: 'javascript' });
hljs.registerAliases(['jsonc'], { languageName: 'json' });
hljs.registerAliases(['shellscript'], { languageName: 'bash' });
hljs.registerAliases(['toml'], { languageName: 'ini' });

/** Blocks longer than this are shown plain: highlighting is a nicety, not worth a slow view. */
export const MAX_HIGHLIGHT_CHARS = 20_000;

/** A run of code text and the highlight.js scopes it is inside (outermost first), e.g. ['hljs-string']. */
export interface CodeRun {
  text: string;
  classes: string[];
}

/** The highlight.js language for a fence's language word, or null when it has none. */
export function languageOf(lang: string | null): string | null {
  if (!lang) return null;
  const l = hljs.getLanguage(lang);
  return l ? (l.name ?? lang) : null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'" };
// classes highlight.js writes: `hljs-keyword`, `hljs-title function_`, `language-xml`
const CLASS_RE = /^[A-Za-z0-9_ -]{1,100}$/;
const TOKEN_RE = /<span class="([^"]*)">|<\/span>|&(amp|lt|gt|quot|#x27);|[^<&]+/y;

/** Reads highlight.js's HTML back into runs; null when it holds anything highlight.js does not write. */
export function readHighlightHtml(html: string): CodeRun[] | null {
  const runs: CodeRun[] = [];
  const stack: string[] = [];
  TOKEN_RE.lastIndex = 0;
  while (TOKEN_RE.lastIndex < html.length) {
    const m = TOKEN_RE.exec(html);
    if (!m) return null;
    if (m[0].startsWith('<span')) {
      if (!CLASS_RE.test(m[1]!) || stack.length > 64) return null;
      stack.push(m[1]!.split(' ').filter(Boolean).map((cls) => (cls.startsWith('hljs-') || cls.startsWith('language-') ? cls : `hljs-${cls}`)).join(' '));
    } else if (m[0] === '</span>') {
      if (!stack.pop()) return null;
    } else {
      const text = m[2] !== undefined ? ENTITIES[m[2]]! : m[0];
      const classes = [...stack];
      const last = runs[runs.length - 1];
      if (last && last.classes.join('\n') === classes.join('\n')) last.text += text;
      else runs.push({ text, classes });
    }
  }
  return stack.length ? null : runs;
}

/** The code as highlighted runs, or null when it is to be shown plain (no known language, too long, or any failure). */
export function highlightRuns(code: string, lang: string | null): CodeRun[] | null {
  const language = languageOf(lang);
  if (!language || language === 'plaintext' || code.length > MAX_HIGHLIGHT_CHARS) return null;
  try {
    const runs = readHighlightHtml(hljs.highlight(code, { language, ignoreIllegals: true }).value);
    // the runs must say exactly the code, or they are not shown
    return runs && runs.map((r) => r.text).join('') === code ? runs : null;
  } catch {
    return null;
  }
}
