/**
 * The small DOM surface the webview's render code uses, so it runs against a shim in unit
 * tests (test/support/dom-shim.ts). The element and attribute names are closed lists: peer
 * text can only ever become a text node or the value of one of these attributes, and none of
 * them is one the browser acts on (no href, no src but the host's preview URI, no style, no on*).
 */

export interface NodeLike {
  readonly nodeType?: number;
}

/**
 * Attributes render code may set. `src` only ever takes a ThreadAttachment's `preview` (a
 * resource URI the host made and the schema checked), never text from a peer; `data-href` is
 * a link's target for the click handler (validated http/https/mailto; the host checks again and
 * opens it with openExternal); `data-path`/`data-line`/… name a file reference the host resolves.
 */
export type AttrName =
  | 'data-id'
  | 'datetime'
  | 'title'
  | 'aria-label'
  | 'type'
  | 'role'
  | 'src'
  | 'alt'
  | 'data-index'
  | 'data-action'
  | 'data-token'
  | 'data-href'
  | 'data-path'
  | 'data-line'
  | 'data-col'
  | 'data-end'
  | 'data-commit'
  | 'tabindex';

export type TagName =
  | 'article'
  | 'header'
  | 'div'
  | 'span'
  | 'time'
  | 'button'
  | 'footer'
  | 'ul'
  | 'ol'
  | 'li'
  | 'img'
  | 'p'
  | 'a'
  | 'code'
  | 'pre'
  | 'strong'
  | 'em'
  | 's'
  | 'blockquote'
  | 'hr'
  | 'br'
  | 'h1'
  | 'h2'
  | 'h3'
  | 'h4'
  | 'h5'
  | 'h6'
  | 'table'
  | 'thead'
  | 'tbody'
  | 'tr'
  | 'th'
  | 'td';

export interface ElementLike extends NodeLike {
  className: string;
  appendChild(child: NodeLike): unknown;
  setAttribute(name: AttrName, value: string): void;
}

export interface DocLike {
  createElement(tag: TagName): ElementLike;
  createTextNode(text: string): NodeLike;
}

export function el(doc: DocLike, tag: TagName, className: string, text?: string): ElementLike {
  const e = doc.createElement(tag);
  e.className = className;
  if (text !== undefined) e.appendChild(doc.createTextNode(text));
  return e;
}
