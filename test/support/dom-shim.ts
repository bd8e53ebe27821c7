/** A tiny DOM shim for the webview's render code: elements, text nodes, attributes. No innerHTML exists, so none can be used. */
import assert from 'node:assert/strict';
import type { DocLike, ElementLike, NodeLike } from '../../webview/render';

export class Text implements NodeLike {
  readonly nodeType = 3;
  constructor(readonly data: string) {}
}
export class El implements ElementLike {
  readonly nodeType = 1;
  className = '';
  readonly children: (El | Text)[] = [];
  readonly attrs = new Map<string, string>();
  constructor(readonly tag: string) {}
  appendChild(c: NodeLike) {
    assert.ok(c instanceof El || c instanceof Text, 'only shim nodes');
    this.children.push(c);
    return c;
  }
  setAttribute(name: string, value: string) {
    this.attrs.set(name, value);
  }
  get textContent(): string {
    return this.children.map((c) => (c instanceof Text ? c.data : c.textContent)).join('');
  }
  *walk(): Generator<El | Text> {
    for (const c of this.children) {
      yield c;
      if (c instanceof El) yield* c.walk();
    }
  }
  find(cls: string): El | undefined {
    for (const n of this.walk()) if (n instanceof El && n.className.split(' ').includes(cls)) return n;
    return undefined;
  }
}
export const doc: DocLike = { createElement: (t) => new El(t), createTextNode: (s) => new Text(s) };

/**
 * Elements a rendered message may hold: ours, none the browser fetches or runs (no img unless
 * the test allows it, no script/iframe/object/style), and attributes none of which it acts on
 * (no href, src, style, on*).
 */
export const INERT_TAGS = ['article', 'header', 'div', 'span', 'time', 'button', 'footer', 'ul', 'ol', 'li', 'p', 'a', 'code', 'pre', 'strong', 'em', 's', 'blockquote', 'hr', 'br', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];
export const INERT_ATTRS = ['data-id', 'datetime', 'title', 'aria-label', 'type', 'role', 'tabindex', 'data-href', 'data-path', 'data-line', 'data-col', 'data-end', 'data-commit'];
export function assertInert(root: El): void {
  for (const n of [root, ...root.walk()]) {
    if (!(n instanceof El)) continue;
    assert.ok(INERT_TAGS.includes(n.tag), `element ${n.tag}`);
    for (const a of n.attrs.keys()) assert.ok(INERT_ATTRS.includes(a), `attribute ${a}`);
    // a link's target is only ever http(s) or mailto, and only on our own link elements
    const href = n.attrs.get('data-href');
    if (href !== undefined) {
      assert.equal(n.tag, 'a');
      assert.match(href, /^(https?:\/\/|mailto:)/i, `link ${href}`);
    }
  }
}
