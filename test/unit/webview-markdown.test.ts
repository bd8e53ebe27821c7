import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readHighlightHtml, highlightRuns } from '../../webview/highlight';
import { isSafeHref, linkElement, renderBody, type BodyContext } from '../../webview/markdown';
import { assertInert, doc, El, Text } from '../support/dom-shim';

const ctx: BodyContext = { mentions: [], self: 'me' };
const render = (body: string, c: BodyContext = ctx) => renderBody(doc, body, c) as El;
const all = (root: El, cls: string) => [...root.walk()].filter((n): n is El => n instanceof El && n.className.split(' ').includes(cls));
const tags = (root: El) => [...root.walk()].filter((n): n is El => n instanceof El).map((n) => n.tag);
function depth(root: El): number {
  let d = 0;
  for (const c of root.children) if (c instanceof El) d = Math.max(d, depth(c));
  return d + 1;
}

describe('markdown bodies: hostile input stays inert', () => {
  it('shows script tags and raw HTML as text', () => {
    const body = '<script>alert(1)</script>\n\n<div onclick="x()">hi</div> <b>bold?</b> <iframe src="https://evil.test"></iframe>';
    const el = render(body);
    assertInert(el);
    assert.ok(!tags(el).some((t) => ['script', 'iframe', 'b', 'img', 'style'].includes(t)), `${tags(el)}`);
    assert.match(el.textContent, /<script>alert\(1\)<\/script>/);
    assert.ok(el.children.every((c) => c instanceof El && c.tag === 'p'), 'raw HTML is paragraph text, not an HTML block');
    assert.match(el.textContent, /<div onclick="x\(\)">hi<\/div> <b>bold\?<\/b> <iframe src="https:\/\/evil.test"><\/iframe>/);
  });

  it('makes no link of javascript:, command:, vscode:, file: or data: targets, however written', () => {
    const bad = [
      '[x](javascript:alert(1))',
      '[x](JavaScript:alert(1))',
      '[x](&#106;avascript:alert(1))',
      '[x](command:workbench.action.terminal.new)',
      '[x](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%20-rf%20~%5Cn%22%7D)',
      '<command:workbench.action.terminal.new>',
      '<javascript:alert(1)>',
      'javascript:alert(1)',
      '[x][r]\n\n[r]: javascript:alert(1)',
      '[x](vscode://ms-vscode.remote/x)',
      '[x](file:///etc/passwd)',
      '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '[x](/relative/path)',
      '[x](#frag)',
    ];
    for (const b of bad) {
      const el = render(b);
      assertInert(el);
      assert.deepEqual(all(el, 'link'), [], b);
      assert.deepEqual(all(el, 'link-refused'), [], `${b}: the parser made no link of it at all`);
    }
    assert.equal(render('[x](command:workbench.action.terminal.new)').textContent, '[x](command:workbench.action.terminal.new)', 'it stays as written');
    // the second lock, for a link token whatever the parser let through
    for (const href of ['javascript:alert(1)', 'command:x', 'vscode://x', 'file:///etc/passwd', 'data:text/html,x', '']) {
      const e = linkElement(doc, href) as El;
      assert.equal(e.tag, 'span', href);
      assert.equal(e.attrs.size, 0, href);
    }
    assert.equal((linkElement(doc, 'https://ok.test') as El).attrs.get('data-href'), 'https://ok.test');
  });

  it('links http, https and mailto, with the target in data-href and no href', () => {
    const el = render('[docs](https://example.com/a?b=1) <http://x.test/p> mail bob@example.com or see https://y.test/q.');
    assertInert(el);
    const links = all(el, 'link');
    assert.deepEqual(links.map((l) => l.attrs.get('data-href')), ['https://example.com/a?b=1', 'http://x.test/p', 'mailto:bob@example.com', 'https://y.test/q']);
    assert.deepEqual(links.map((l) => l.textContent), ['docs', 'http://x.test/p', 'bob@example.com', 'https://y.test/q']);
    assert.ok(links.every((l) => l.tag === 'a' && !l.attrs.has('href' as never)));
    assert.deepEqual(all(render('see README.md and foo.ts'), 'link'), [], 'a file name is not a web address');
    assert.equal(isSafeHref('https://x'), true);
    assert.equal(isSafeHref('command:x'), false);
  });

  it('decodes HTML entities into text, and hidden characters they spell show as escapes', () => {
    const el = render('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x202E;evil &#8203;x &#0;');
    assertInert(el);
    assert.equal(el.textContent, '<script>alert(1)</script> & <U+202E>evil <U+200B>x \uFFFD');
    assert.equal(render('`a\u202eb` `&#x202E;`').textContent, 'a<U+202E>b &#x202E;', 'inline code too (where an entity stays as written)');
  });

  it('never fetches an image: its alt text shows, in a span', () => {
    const el = render('![tracking pixel](https://tracker.test/p.png?u=me) and <img src="https://tracker.test/q.png"> and ![](https://t.test/x.gif)');
    assertInert(el);
    assert.ok(!tags(el).includes('img'));
    assert.deepEqual(all(el, 'image-alt').map((s) => s.textContent), ['tracking pixel', 'image']);
    assert.doesNotMatch(JSON.stringify([...el.walk()].map((n) => (n instanceof El ? [...n.attrs.values()] : []))), /tracker\.test\/p\.png/, 'the image URL goes into no attribute');
  });

  it('renders deeply nested lists and quotes within a bounded depth', () => {
    const lists = Array.from({ length: 2000 }, (_, i) => `${'  '.repeat(i)}- level ${i}`).join('\n');
    const quotes = `${'>'.repeat(10_000)} deep`;
    const mixed = Array.from({ length: 500 }, () => '> - ').join('') + 'x';
    for (const b of [lists, quotes, mixed]) {
      const el = render(b);
      assertInert(el);
      assert.ok(depth(el) <= 200, `depth ${depth(el)}`);
    }
    // past the parser's depth the body is plain text, whole (nothing dropped)
    assert.equal(render(quotes).textContent, quotes);
    assert.match(render(lists).textContent, /level 1999/);
    assert.match(render('> > ok').textContent, /^ok$/, 'ordinary nesting still renders as markdown');
  });

  it('finishes on a 64 KiB body of backticks and leaves it text', () => {
    for (const b of ['`'.repeat(64 * 1024), '`a'.repeat(32 * 1024), '```\n'.repeat(16 * 1024), `${'['.repeat(32 * 1024)}${']('.repeat(16 * 1024)}`]) {
      const el = render(b);
      assertInert(el);
      assert.ok(el.children.length > 0);
    }
    // a line of backticks opens a fence (an empty block, as CommonMark says); inside a line an unclosed run is text, whole
    const inline = `a ${'`'.repeat(64 * 1024)}`;
    assert.ok(render(inline).textContent === inline, 'an unclosed run inside a line is text, whole');
    assert.equal(all(render('`'.repeat(64 * 1024)), 'code-block').length, 1);
  });

  it('keeps mentions inert spans inside markdown', () => {
    const el = render('**@bob** and _@me_, not @eve', { mentions: ['bob', 'me'], self: 'me' });
    assertInert(el);
    assert.deepEqual(all(el, 'mention').map((s) => s.textContent), ['@bob', '@me']);
    assert.deepEqual(all(el, 'mention-me').map((s) => s.textContent), ['@me']);
  });
});

describe('code blocks', () => {
  it('highlights a fenced block with highlight.js classes, as text and spans only', () => {
    const el = render('```ts\nconst x: number = "<script>";\n```');
    assertInert(el);
    const code = all(el, 'hljs')[0]!;
    assert.match(code.className, /\bhighlighted\b/);
    assert.equal(code.textContent, 'const x: number = "<script>";');
    assert.ok(code.children.every((c) => c instanceof Text || (c.tag === 'span' && c.className.split(' ').every((k) => k.startsWith('hljs-') || k.startsWith('language-')))));
    assert.deepEqual(all(code, 'hljs-keyword').map((s) => s.textContent), ['const']);
    assert.deepEqual(all(code, 'hljs-string').map((s) => s.textContent), ['"<script>"']);
    assert.ok(all(el, 'code-copy').length === 1, 'a copy button');
    assert.equal(all(el, 'code-lang')[0]!.textContent, 'ts');
  });

  it('shows an unknown language, no language, or hidden characters plainly and safely', () => {
    for (const b of ['```nosuchlang\nx = 1\n```', '```\nx = 1\n```', '    indented = 1']) {
      const code = all(render(b), 'hljs')[0]!;
      assert.doesNotMatch(code.className, /highlighted/, b);
      assert.equal(code.children.length, 1);
    }
    const hidden = all(render('```js\nlet a = "\u202e"; // \u200b\n```'), 'hljs')[0]!;
    assert.equal(hidden.textContent, 'let a = "<U+202E>"; // <U+200B>');
  });

  it('reads back only the HTML highlight.js writes', () => {
    assert.deepEqual(readHighlightHtml('<span class="hljs-keyword">if</span> a &lt; b &amp;&amp; c'), [
      { text: 'if', classes: ['hljs-keyword'] },
      { text: ' a < b && c', classes: [] },
    ]);
    for (const bad of ['<img src=x onerror=alert(1)>', '<span class="a" onclick="x">y</span>', '<span class="a">unclosed', 'stray </span>', '&nbsp;', '<span class="a"><script>x</script></span>', '<span class="x&quot;">y</span>']) {
      assert.equal(readHighlightHtml(bad), null, bad);
    }
    assert.equal(highlightRuns('x'.repeat(30_000), 'ts'), null, 'too long to highlight');
  });

  it('shows a snippet\'s source, and Open in Editor only when the host resolved its path', () => {
    const body = 'look\n\n```typescript src/foo.ts:10-20 @0123456789abcdef\nlet x = 1;\n```';
    const unresolved = render(body, { ...ctx, fileRef: () => false });
    assert.equal(all(unresolved, 'code-source')[0]!.textContent, 'src/foo.ts:10-20 @0123456');
    assert.deepEqual(all(unresolved, 'code-open'), []);
    const resolved = render(body, { ...ctx, fileRef: (p) => p === 'src/foo.ts' });
    const open = all(resolved, 'code-open')[0]!;
    assert.deepEqual(Object.fromEntries(open.attrs), { type: 'button', 'data-path': 'src/foo.ts', 'data-line': '10', 'data-end': '20', 'data-commit': '0123456789abcdef', 'aria-label': 'Open src/foo.ts in the editor' });
    assertInert(resolved);
  });
});

describe('file references in bodies', () => {
  const known = new Set(['src/a.ts', 'lib/b.md']);
  const asked: string[] = [];
  const refCtx: BodyContext = { ...ctx, fileRef: (p) => (asked.push(p), known.has(p)) };

  it('links the references the host resolved, at their line, and leaves the rest text', () => {
    asked.length = 0;
    const el = render('see src/a.ts:42, `lib/b.md#L3-L5`, src/a.ts:1:7 and missing/c.ts:9; [src/a.ts:2](https://x.test) too', refCtx);
    assertInert(el);
    const refs = all(el, 'file-ref');
    assert.deepEqual(refs.map((r) => [r.textContent, r.attrs.get('data-path'), r.attrs.get('data-line'), r.attrs.get('data-col') ?? null, r.attrs.get('data-end') ?? null]), [
      ['src/a.ts:42', 'src/a.ts', '42', null, null],
      ['lib/b.md#L3-L5', 'lib/b.md', '3', null, '5'],
      ['src/a.ts:1:7', 'src/a.ts', '1', '7', null],
    ]);
    assert.ok(asked.includes('missing/c.ts'), 'the unknown one was asked about');
    assert.match(el.textContent, /missing\/c\.ts:9/);
    assert.equal(all(el, 'link').length, 1);
  });
});
