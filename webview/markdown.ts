/**
 * A message body as markdown (CommonMark plus tables and strikethrough, markdown-it), built
 * into DOM nodes from markdown-it's token stream by this module: markdown-it's own HTML
 * renderer is never used and no string ever becomes markup. Raw HTML is off (it stays text),
 * links are http/https/mailto only and carry no href (a click asks the host to open them,
 * through VS Code's trusted-domain prompt), images are never fetched (their alt text shows),
 * fenced code is highlighted (highlight.ts) with a copy button, and `path:line` references
 * become links only once the host said the file is in the workspace. Every text passes the
 * text-safety policy (inertText) on its way to a text node.
 */
import MarkdownIt from 'markdown-it';
import { inertText, oneLine } from '../lib/display';
import { findFileRefs, parseSnippetInfo, type SnippetHeader } from '../lib/file-refs';
import { el, type DocLike, type ElementLike, type TagName } from './dom';
import { highlightRuns } from './highlight';
import { bodySegments } from './segments';

type Token = ReturnType<InstanceType<typeof MarkdownIt>['parse']>[number];

/** Link schemes a body may link to; everything else (javascript:, command:, data:, file:, vscode:…) stays text. */
export function isSafeHref(url: string): boolean {
  return /^(https?:\/\/|mailto:)/i.test(url.trim());
}

const MAX_NESTING = 40;
const md = new MarkdownIt('default', { html: false, linkify: true, typographer: false, maxNesting: MAX_NESTING });
md.validateLink = isSafeHref;
// no links without a scheme: `README.md` or `foo.ts` is a file name here, not a web address
md.linkify.set({ fuzzyLink: false, fuzzyIP: false, fuzzyEmail: true });

/** What the body needs from the view around it. */
export interface BodyContext {
  /** Members the relay checked as mentioned (only these are highlighted). */
  mentions: readonly string[];
  /** This user's name (their own mentions stand out). */
  self?: string | null;
  /** Whether the host said `path` is a file in this workspace; false (plain text) until it did. */
  fileRef?(path: string): boolean;
}

const BLOCK_TAGS: Record<string, TagName> = {
  paragraph_open: 'p',
  blockquote_open: 'blockquote',
  bullet_list_open: 'ul',
  ordered_list_open: 'ol',
  list_item_open: 'li',
  table_open: 'table',
  thead_open: 'thead',
  tbody_open: 'tbody',
  tr_open: 'tr',
  th_open: 'th',
  td_open: 'td',
};
const HEADINGS: readonly TagName[] = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const INLINE_TAGS: Record<string, TagName> = { strong_open: 'strong', em_open: 'em', s_open: 's' };

/** The parsed tokens of a body, cached: the thread is re-rendered on every change and every minute. */
const cache = new Map<string, Token[] | null>();
const CACHE_MAX = 2000;
/**
 * The body's tokens, or null when it nests deeper than markdown-it goes: past maxNesting it
 * stops reading blocks and the rest would be lost without a word, so such a body is shown as
 * plain text instead.
 */
function parse(body: string): Token[] | null {
  const hit = cache.get(body);
  if (hit !== undefined) return hit;
  const parsed = md.parse(body, {});
  const tokens = parsed.some((t) => t.level >= MAX_NESTING - 1) ? null : parsed;
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(body, tokens);
  return tokens;
}

/** The `div.body` of a message: its markdown as elements and text nodes. */
export function renderBody(doc: DocLike, body: string, ctx: BodyContext): ElementLike {
  const root = el(doc, 'div', 'body');
  // an explicit stack instead of recursion: nesting depth never reaches the JS stack
  const stack: ElementLike[] = [root];
  const top = () => stack[stack.length - 1]!;
  const tokens = parse(body);
  if (!tokens) {
    const p = el(doc, 'p', 'md-p md-plain');
    appendText(doc, p, body, ctx, false);
    root.appendChild(p);
    return root;
  }
  for (const t of tokens) {
    if (t.nesting === 1) {
      // a tight list's paragraphs are hidden: their text goes straight into the item
      if (t.hidden) continue;
      const tag = t.type === 'heading_open' ? (HEADINGS[Number(t.tag.slice(1)) - 1] ?? 'p') : BLOCK_TAGS[t.type];
      const e = el(doc, tag ?? 'div', tag ? `md-${tag}` : 'md-block');
      top().appendChild(e);
      stack.push(e);
    } else if (t.nesting === -1) {
      if (t.hidden) continue;
      if (stack.length > 1) stack.pop();
    } else if (t.type === 'inline') {
      renderInline(doc, top(), t.children ?? [], ctx);
    } else if (t.type === 'fence' || t.type === 'code_block') {
      top().appendChild(renderCodeBlock(doc, t.content, t.type === 'fence' ? parseSnippetInfo(t.info) : parseSnippetInfo(''), ctx));
    } else if (t.type === 'hr') {
      top().appendChild(el(doc, 'hr', 'md-hr'));
    } else if (t.content) {
      // anything else markdown-it may emit (html_block cannot: html is off) shows as text
      top().appendChild(doc.createTextNode(inertText(t.content)));
    }
  }
  return root;
}

function renderInline(doc: DocLike, parent: ElementLike, tokens: Token[], ctx: BodyContext): void {
  const stack: ElementLike[] = [parent];
  const top = () => stack[stack.length - 1]!;
  let inLink = 0;
  for (const t of tokens) {
    switch (t.type) {
      case 'text':
        appendText(doc, top(), t.content, ctx, inLink > 0);
        break;
      case 'softbreak':
        // kept as a newline (the body is shown pre-wrap): a chat's line breaks are meant
        top().appendChild(doc.createTextNode('\n'));
        break;
      case 'hardbreak':
        top().appendChild(el(doc, 'br', 'md-br'));
        break;
      case 'code_inline':
        top().appendChild(renderInlineCode(doc, t.content, ctx, inLink > 0));
        break;
      case 'link_open': {
        const e = linkElement(doc, String(t.attrGet('href') ?? ''));
        top().appendChild(e);
        stack.push(e);
        inLink++;
        break;
      }
      case 'link_close':
        if (stack.length > 1) stack.pop();
        inLink = Math.max(0, inLink - 1);
        break;
      case 'image': {
        // never fetched (a tracking pixel tells the sender who read it and when): its words only
        const alt = inertText(t.children?.map((c: Token) => c.content).join('') ?? t.content);
        const e = el(doc, 'span', 'image-alt', alt || 'image');
        e.setAttribute('title', 'Image not loaded');
        top().appendChild(e);
        break;
      }
      default: {
        const tag = INLINE_TAGS[t.type];
        if (tag) {
          const e = el(doc, tag, `md-${tag}`);
          top().appendChild(e);
          stack.push(e);
        } else if (t.nesting === -1) {
          if (stack.length > 1) stack.pop();
        } else if (t.content) top().appendChild(doc.createTextNode(inertText(t.content)));
      }
    }
  }
}

/**
 * A link's element: `a.link[data-href]` for http/https/mailto, else an inert span. markdown-it's
 * validateLink already keeps other targets from becoming links; this is the second lock.
 */
export function linkElement(doc: DocLike, href: string): ElementLike {
  if (!isSafeHref(href)) return el(doc, 'span', 'link-refused');
  const e = el(doc, 'a', 'link');
  e.setAttribute('data-href', href);
  e.setAttribute('title', oneLine(href, 200));
  e.setAttribute('role', 'link');
  e.setAttribute('tabindex', '0');
  return e;
}

/** Text: mentions the relay checked become spans, and (outside links) file references links once resolved. */
function appendText(doc: DocLike, parent: ElementLike, text: string, ctx: BodyContext, inLink: boolean): void {
  const self = ctx.self?.toLowerCase();
  for (const seg of bodySegments(text, ctx.mentions)) {
    if (seg.mention !== undefined) parent.appendChild(el(doc, 'span', seg.mention.toLowerCase() === self ? 'mention mention-me' : 'mention', seg.text));
    else appendRefs(doc, parent, seg.text, ctx, inLink);
  }
}

function appendRefs(doc: DocLike, parent: ElementLike, text: string, ctx: BodyContext, inLink: boolean): void {
  if (inLink || !ctx.fileRef) {
    parent.appendChild(doc.createTextNode(text));
    return;
  }
  let at = 0;
  for (const r of findFileRefs(text)) {
    if (!ctx.fileRef(r.path)) continue;
    if (r.start > at) parent.appendChild(doc.createTextNode(text.slice(at, r.start)));
    const a = el(doc, 'a', 'file-ref', text.slice(r.start, r.end));
    a.setAttribute('data-path', r.path);
    a.setAttribute('data-line', String(r.line));
    if (r.col !== null) a.setAttribute('data-col', String(r.col));
    if (r.endLine !== null) a.setAttribute('data-end', String(r.endLine));
    a.setAttribute('title', `Open ${oneLine(r.path, 200)} at line ${r.line}`);
    a.setAttribute('role', 'link');
    a.setAttribute('tabindex', '0');
    parent.appendChild(a);
    at = r.end;
  }
  if (at < text.length || at === 0) parent.appendChild(doc.createTextNode(text.slice(at)));
}

function renderInlineCode(doc: DocLike, content: string, ctx: BodyContext, inLink: boolean): ElementLike {
  const code = el(doc, 'code', 'md-code');
  // `src/foo.ts:42` in backticks is how developers write a reference: it links too
  appendRefs(doc, code, inertText(content), ctx, inLink);
  return code;
}

/** The words above a block: language, and where a snippet came from. */
export function snippetSource(h: SnippetHeader): string {
  if (h.path === null || h.line === null) return '';
  const range = h.endLine !== null && h.endLine !== h.line ? `${h.line}-${h.endLine}` : `${h.line}`;
  return `${h.path}:${range}${h.commit ? ` @${h.commit.slice(0, 7)}` : ''}`;
}

/** A fenced block: a head (language, source, Open in Editor, Copy) and the highlighted code. */
function renderCodeBlock(doc: DocLike, content: string, h: SnippetHeader, ctx: BodyContext): ElementLike {
  const wrap = el(doc, 'div', 'code-block');
  const head = el(doc, 'div', 'code-head');
  if (h.lang) head.appendChild(el(doc, 'span', 'code-lang', inertText(oneLine(h.lang, 32))));
  const source = snippetSource(h);
  if (source) head.appendChild(el(doc, 'span', 'code-source', inertText(oneLine(source, 200))));
  if (h.path !== null && h.line !== null && ctx.fileRef?.(h.path)) {
    const open = el(doc, 'button', 'button secondary code-open');
    open.setAttribute('type', 'button');
    open.setAttribute('data-path', h.path);
    open.setAttribute('data-line', String(h.line));
    if (h.endLine !== null) open.setAttribute('data-end', String(h.endLine));
    if (h.commit) open.setAttribute('data-commit', h.commit);
    open.setAttribute('aria-label', `Open ${oneLine(h.path, 120)} in the editor`);
    open.appendChild(el(doc, 'span', 'codicon codicon-go-to-file'));
    open.appendChild(doc.createTextNode('Open in Editor'));
    head.appendChild(open);
  }
  const copy = el(doc, 'button', 'icon-button code-copy codicon codicon-copy');
  copy.setAttribute('type', 'button');
  copy.setAttribute('title', 'Copy');
  copy.setAttribute('aria-label', 'Copy code');
  head.appendChild(copy);
  wrap.appendChild(head);

  const pre = el(doc, 'pre', 'code-pre');
  const code = el(doc, 'code', 'hljs');
  const text = content.endsWith('\n') ? content.slice(0, -1) : content;
  const runs = highlightRuns(text, h.lang);
  if (runs) {
    code.className = 'hljs highlighted';
    for (const r of runs) {
      const t = inertText(r.text);
      code.appendChild(r.classes.length ? el(doc, 'span', r.classes.join(' '), t) : doc.createTextNode(t));
    }
  } else code.appendChild(doc.createTextNode(inertText(text)));
  pre.appendChild(code);
  wrap.appendChild(pre);
  return wrap;
}
