/**
 * Pure rendering of the conversation thread against a minimal DOM interface, so it can be
 * unit-tested with a shim. Peer text only ever becomes a text node: never innerHTML, never
 * an attribute that the browser interprets (href, src, style, on*); and it passes the
 * text-safety policy first, so hidden characters show as `<U+XXXX>`.
 */
import { absoluteTime, inertText, oneLine, relativeTime } from '../lib/display';
import type { ThreadMessage } from '../protocol/webview';

export interface NodeLike {
  readonly nodeType?: number;
}

export interface ElementLike extends NodeLike {
  className: string;
  appendChild(child: NodeLike): unknown;
  setAttribute(name: 'data-id' | 'datetime' | 'title' | 'aria-label' | 'type' | 'role', value: string): void;
}

export interface DocLike {
  createElement(tag: 'article' | 'header' | 'div' | 'span' | 'time' | 'button' | 'footer'): ElementLike;
  createTextNode(text: string): NodeLike;
}

export interface RenderContext {
  now: number;
  /** Look up the message a reply refers to, if it is loaded. */
  lookup(id: string): ThreadMessage | undefined;
}

function el(doc: DocLike, tag: Parameters<DocLike['createElement']>[0], className: string, text?: string): ElementLike {
  const e = doc.createElement(tag);
  e.className = className;
  if (text !== undefined) e.appendChild(doc.createTextNode(text));
  return e;
}

export function stateLabel(m: ThreadMessage): string | null {
  if (m.direction === 'in') return null;
  switch (m.state) {
    case 'queued':
      return 'queued — offline';
    case 'failed':
      return 'failed';
    case 'aborted':
      return 'aborted';
    case 'delivered':
      return 'delivered';
    default:
      return null;
  }
}

/** One message as an <article>. */
export function renderMessage(doc: DocLike, m: ThreadMessage, ctx: RenderContext): ElementLike {
  const unread = m.direction === 'in' && !m.read;
  const article = el(doc, 'article', `msg ${m.direction === 'in' ? 'in' : 'out'}${unread ? ' unread' : ''} state-${m.state}`);
  article.setAttribute('data-id', m.id);

  const header = el(doc, 'header', 'meta');
  header.appendChild(el(doc, 'span', 'from', m.direction === 'in' ? oneLine(m.from, 64) : 'you'));
  const time = el(doc, 'time', 'when', relativeTime(m.created_at, ctx.now));
  time.setAttribute('datetime', m.created_at);
  time.setAttribute('title', absoluteTime(m.created_at));
  header.appendChild(time);
  const state = stateLabel(m);
  if (state) header.appendChild(el(doc, 'span', `badge state-${m.state}`, state));
  article.appendChild(header);

  if (m.reply_to) {
    const ref = ctx.lookup(m.reply_to);
    const quote = el(doc, 'div', 'reply-ref');
    quote.appendChild(el(doc, 'span', 'codicon codicon-reply'));
    quote.appendChild(doc.createTextNode(ref ? ` ${oneLine(ref.body, 80)}` : ' an earlier message'));
    article.appendChild(quote);
  }

  article.appendChild(el(doc, 'div', 'body', inertText(m.body)));

  const footer = el(doc, 'footer', 'actions');
  if (m.direction === 'in') {
    const reply = el(doc, 'button', 'icon-button reply-button codicon codicon-reply');
    reply.setAttribute('type', 'button');
    reply.setAttribute('title', 'Reply');
    reply.setAttribute('aria-label', `Reply to ${oneLine(m.from, 40)}`);
    reply.setAttribute('data-id', m.id);
    footer.appendChild(reply);
  }
  article.appendChild(footer);
  return article;
}

/** Merge messages into a thread kept oldest → newest (the order the webview shows). */
export function mergeThread(existing: ThreadMessage[], incoming: ThreadMessage[]): ThreadMessage[] {
  const byId = new Map(existing.map((m) => [m.id, m] as const));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
