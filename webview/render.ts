/**
 * Pure rendering of the conversation thread against a minimal DOM interface, so it can be
 * unit-tested with a shim. Peer text only ever becomes a text node: never innerHTML, never
 * an attribute that the browser interprets (href, src, style, on*); and it passes the
 * text-safety policy first, so hidden characters show as `<U+XXXX>`. Bodies are markdown,
 * built into elements by markdown.ts under the same rules.
 */
import { absoluteTime, oneLine, relativeTime } from '../lib/display';
import { attachmentStateText, fileTypeLabel, formatSize } from '../lib/file-display';
import type { Receipt } from '../protocol/rpc';
import { el, type DocLike, type ElementLike } from './dom';
import { renderBody } from './markdown';
import type { PendingFile, ThreadAttachment, ThreadGroup, ThreadMessage } from '../protocol/webview';

export type { DocLike, ElementLike, NodeLike } from './dom';
export { bodySegments, type BodySegment } from './segments';

export interface RenderContext {
  now: number;
  /** Look up the message a reply refers to, if it is loaded. */
  lookup(id: string): ThreadMessage | undefined;
  /** This user's name on the relay (their own mentions are highlighted differently); null when not known. */
  self?: string | null;
  /** Who has one of this user's messages, once the host fetched it (message/receipts). */
  receipts?(id: string): Receipt[] | undefined;
  /** Whether the host said a referenced path is a file in the workspace (markdown.ts links it then). */
  fileRef?(path: string): boolean;
}

export function stateLabel(m: ThreadMessage): string | null {
  if (m.direction === 'in') return null;
  // a group's delivery is per member: the "read by" badge says it (readByLabel)
  if (m.group !== null && (m.state === 'sent' || m.state === 'delivered')) return null;
  if (m.receipts && m.receipts.total > 0 && m.receipts.read >= m.receipts.total && (m.state === 'sent' || m.state === 'delivered')) return 'read';
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

/** "read by 2/4" for one of this user's group messages; null when it is not one. */
export function readByLabel(m: ThreadMessage): string | null {
  if (m.direction !== 'out' || m.group === null || !m.receipts || m.receipts.total === 0) return null;
  return `read by ${m.receipts.read}/${m.receipts.total}`;
}

/** The hover of the "read by" badge: who read it, who has it, who does not yet (names as text). */
export function readByTitle(m: ThreadMessage, receipts: Receipt[] | undefined): string {
  const r = m.receipts;
  if (!r) return '';
  const counts = `Read by ${r.read} of ${r.total}, delivered to ${r.delivered} of ${r.total}`;
  if (!receipts) return counts;
  const names = (xs: Receipt[]) => xs.map((x) => oneLine(x.user, 64)).join(', ');
  const read = receipts.filter((x) => x.read_at !== null);
  const delivered = receipts.filter((x) => x.read_at === null && x.delivered_at !== null);
  const waiting = receipts.filter((x) => x.read_at === null && x.delivered_at === null && x.dropped === null);
  const dropped = receipts.filter((x) => x.read_at === null && x.delivered_at === null && x.dropped !== null);
  const lines = [counts];
  if (read.length) lines.push(`Read: ${names(read)}`);
  if (delivered.length) lines.push(`Delivered, not read: ${names(delivered)}`);
  if (waiting.length) lines.push(`Not delivered yet: ${names(waiting)}`);
  if (dropped.length) lines.push(`Will not be delivered (the relay dropped it): ${names(dropped)}`);
  return lines.join('\n');
}

/** One message as an <article>. */
export function renderMessage(doc: DocLike, m: ThreadMessage, ctx: RenderContext): ElementLike {
  const unread = m.direction === 'in' && !m.read;
  // in a group, a message that names this user stands out (every direct message "mentions" its reader)
  const mentionsMe = m.direction === 'in' && m.group !== null && m.mentions_me;
  const article = el(doc, 'article', `msg ${m.direction === 'in' ? 'in' : 'out'}${unread ? ' unread' : ''}${mentionsMe ? ' mentions-me' : ''} state-${m.state}`);
  article.setAttribute('data-id', m.id);

  const header = el(doc, 'header', 'meta');
  header.appendChild(el(doc, 'span', 'from', m.direction === 'in' ? oneLine(m.from, 64) : 'you'));
  const time = el(doc, 'time', 'when', relativeTime(m.created_at, ctx.now));
  time.setAttribute('datetime', m.created_at);
  time.setAttribute('title', absoluteTime(m.created_at));
  header.appendChild(time);
  const state = stateLabel(m);
  if (state) header.appendChild(el(doc, 'span', `badge state-${m.state}`, state));
  const readBy = readByLabel(m);
  if (readBy) {
    const badge = el(doc, 'span', `badge receipts${m.receipts && m.receipts.read >= m.receipts.total ? ' receipts-all' : ''}`, readBy);
    const title = readByTitle(m, ctx.receipts?.(m.id));
    badge.setAttribute('title', title);
    badge.setAttribute('aria-label', title);
    header.appendChild(badge);
  }
  article.appendChild(header);

  if (m.reply_to) {
    const ref = ctx.lookup(m.reply_to);
    const quote = el(doc, 'div', 'reply-ref');
    quote.appendChild(el(doc, 'span', 'codicon codicon-reply'));
    quote.appendChild(doc.createTextNode(ref ? ` ${oneLine(ref.body, 80)}` : ' an earlier message'));
    article.appendChild(quote);
  }

  const body = renderBody(doc, m.body, { mentions: m.mentions, self: ctx.self, ...(ctx.fileRef ? { fileRef: ctx.fileRef } : {}) });
  article.appendChild(body);
  if (m.attachments.length) article.appendChild(renderAttachments(doc, m));

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

/** "PNG image · 1.5 MB · ready": what one file is and where it stands. */
export function attachmentMeta(a: ThreadAttachment): string {
  return `${fileTypeLabel(a.mime)} · ${formatSize(a.size)} · ${attachmentStateText(a)}`;
}

/** Which buttons a file has now: Download while not here (or failed), Save As… and Open always (they download first). */
export function attachmentActions(a: ThreadAttachment): ('download' | 'save' | 'open')[] {
  return a.state === 'remote' || a.state === 'failed' ? ['download', 'save', 'open'] : ['save', 'open'];
}

const ACTION_TEXT = { download: 'Download', save: 'Save As…', open: 'Open' } as const;
const ACTION_ICON = { download: 'cloud-download', save: 'save-as', open: 'go-to-file' } as const;

/** A message's files: each its name (text), type, size, state, progress, buttons; an image preview once ready and checked. */
export function renderAttachments(doc: DocLike, m: ThreadMessage): ElementLike {
  const list = el(doc, 'ul', 'attachments');
  list.setAttribute('aria-label', 'Files');
  for (const a of m.attachments) {
    const li = el(doc, 'li', `attachment state-${a.state}`);
    li.setAttribute('data-id', m.id);
    li.setAttribute('data-index', String(a.index));
    const name = oneLine(a.name, 120);
    const head = el(doc, 'div', 'attachment-head');
    head.appendChild(el(doc, 'span', `codicon codicon-${a.state === 'failed' ? 'error' : a.state === 'downloading' ? 'sync' : 'file'}`));
    head.appendChild(el(doc, 'span', 'attachment-name', name));
    head.appendChild(el(doc, 'span', 'attachment-meta', attachmentMeta(a)));
    li.appendChild(head);
    if (a.state === 'downloading' && a.size > 0) {
      const bar = el(doc, 'div', 'attachment-progress');
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-label', `${name}: ${attachmentStateText(a)}`);
      // the width is a class step (0..20): no inline style under the CSP
      bar.appendChild(el(doc, 'div', `attachment-progress-fill w${Math.min(20, Math.floor((a.transferred / a.size) * 20))}`));
      li.appendChild(bar);
    }
    if (a.state === 'ready' && a.preview) {
      const img = el(doc, 'img', 'attachment-preview');
      img.setAttribute('src', a.preview);
      img.setAttribute('alt', `Image ${name}`);
      li.appendChild(img);
    }
    const actions = el(doc, 'div', 'attachment-actions');
    for (const action of attachmentActions(a)) {
      const b = el(doc, 'button', `button secondary attachment-action action-${action}`);
      b.setAttribute('type', 'button');
      b.setAttribute('data-action', action);
      b.setAttribute('data-id', m.id);
      b.setAttribute('data-index', String(a.index));
      b.setAttribute('aria-label', `${ACTION_TEXT[action]} ${name}`);
      b.appendChild(el(doc, 'span', `codicon codicon-${ACTION_ICON[action]}`));
      b.appendChild(doc.createTextNode(ACTION_TEXT[action]));
      actions.appendChild(b);
    }
    li.appendChild(actions);
    list.appendChild(li);
  }
  return list;
}

/** The composer's picked files, each with a remove button. */
export function renderPending(doc: DocLike, files: readonly PendingFile[]): ElementLike {
  const list = el(doc, 'ul', 'pending-files');
  list.setAttribute('aria-label', 'Files to send');
  for (const f of files) {
    const li = el(doc, 'li', 'pending-file');
    const name = oneLine(f.name, 80);
    li.appendChild(el(doc, 'span', 'codicon codicon-file'));
    li.appendChild(el(doc, 'span', 'attachment-name', name));
    li.appendChild(el(doc, 'span', 'attachment-meta', `${fileTypeLabel(f.mime)} · ${formatSize(f.size)}`));
    const rm = el(doc, 'button', 'icon-button codicon codicon-close pending-remove');
    rm.setAttribute('type', 'button');
    rm.setAttribute('data-token', f.token);
    rm.setAttribute('title', 'Remove');
    rm.setAttribute('aria-label', `Remove ${name}`);
    li.appendChild(rm);
    list.appendChild(li);
  }
  return list;
}

/** Applies a transfer/progress to the thread (a new array when something changed, else the same one). */
export function applyProgress(thread: ThreadMessage[], p: { id: string; index: number; direction: 'up' | 'down'; transferred: number; size: number }): ThreadMessage[] {
  const i = thread.findIndex((m) => m.id === p.id);
  if (i < 0) return thread;
  const m = thread[i]!;
  const a = m.attachments.find((x) => x.index === p.index);
  if (!a || a.state === 'ready' || a.state === 'failed') return thread;
  const state = p.direction === 'down' ? 'downloading' : a.state;
  const next = { ...m, attachments: m.attachments.map((x) => (x === a ? { ...x, state, transferred: Math.min(p.transferred, x.size) } : x)) };
  return [...thread.slice(0, i), next, ...thread.slice(i + 1)];
}

/** A group's member list: "N members" and each member with their role (names as text). */
export function renderMembers(doc: DocLike, group: ThreadGroup, self: string | null): ElementLike {
  const wrap = el(doc, 'div', `members${group.role === null ? ' left' : ''}`);
  const n = group.members.length;
  wrap.appendChild(el(doc, 'span', 'members-count', `${n} ${n === 1 ? 'member' : 'members'}${group.role === null ? ' · you are no longer a member' : ''}`));
  const list = el(doc, 'ul', 'members-list');
  list.setAttribute('aria-label', 'Members');
  const order = { owner: 0, admin: 1, member: 2 } as const;
  const me = self?.toLowerCase();
  const sorted = [...group.members].sort((a, b) => order[a.role] - order[b.role] || a.user.localeCompare(b.user));
  for (const mem of sorted) {
    const li = el(doc, 'li', `member role-${mem.role}${mem.user.toLowerCase() === me ? ' self' : ''}`);
    li.appendChild(el(doc, 'span', 'member-name', oneLine(mem.user, 64)));
    if (mem.role !== 'member') li.appendChild(el(doc, 'span', 'member-role', mem.role));
    list.appendChild(li);
  }
  wrap.appendChild(list);
  return wrap;
}

/** Merge messages into a thread kept oldest → newest (the order the webview shows). */
export function mergeThread(existing: ThreadMessage[], incoming: ThreadMessage[]): ThreadMessage[] {
  const byId = new Map(existing.map((m) => [m.id, m] as const));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
