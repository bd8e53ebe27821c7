/**
 * Find in Messages' quick pick rows, pure (no vscode import): who sent it, in which
 * conversation, when, and the words around the first match. Peer text goes through oneLine
 * (text-safety policy, one line) and noLinks (quick picks render links and icons).
 */
import { oneLine, relativeTime } from '../lib/display';
import type { Message } from '../protocol/rpc';
import { noLinks } from './format';

/** The query's words, as the core's search sees them (whitespace-separated, case-insensitive). */
export function queryWords(query: string): string[] {
  return [...new Set(query.toLowerCase().split(/\s+/).filter(Boolean))];
}

/** The matched words of a body, and about `width` characters around the first one (ellipses where cut). */
export function matchExcerpt(body: string, query: string, width = 100): { words: string[]; excerpt: string } {
  const text = body.replace(/\s+/g, ' ').trim();
  const lower = text.toLowerCase();
  const words = queryWords(query).filter((w) => lower.includes(w));
  const first = words.map((w) => lower.indexOf(w)).reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  if (!Number.isFinite(first) || text.length <= width) return { words, excerpt: text.slice(0, Math.max(width, 0)) + (text.length > width ? '…' : '') };
  const from = Math.max(0, first - Math.floor(width / 3));
  const to = Math.min(text.length, from + width);
  return { words, excerpt: `${from > 0 ? '…' : ''}${text.slice(from, to)}${to < text.length ? '…' : ''}` };
}

export interface SearchItem {
  label: string;
  description: string;
  detail: string;
  /** The message to scroll to, and its conversation to open. */
  id: string;
  conversation: string;
}

export function searchItem(m: Message, query: string, now: number = Date.now()): SearchItem {
  const who = m.direction === 'in' ? oneLine(m.from, 40) : 'you';
  const where = m.group !== null ? `#${oneLine(m.group, 40)}` : oneLine(m.conversation, 40);
  const { words, excerpt } = matchExcerpt(m.body, query);
  return {
    label: noLinks(m.direction === 'in' ? `${who} in ${where}` : `${who} → ${where}`),
    description: noLinks(`${relativeTime(m.created_at, now)}${words.length ? ` · ${words.map((w) => oneLine(w, 30)).join(', ')}` : ''}`),
    // the excerpt is cut before the text-safety pass, so an escape is never cut in two
    detail: noLinks(oneLine(excerpt, 160)),
    id: m.id,
    conversation: m.conversation,
  };
}
