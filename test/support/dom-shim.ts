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
