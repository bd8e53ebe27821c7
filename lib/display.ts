/**
 * Times and peer text for display, shared by the extension and the webview: pure, so both
 * bundles (and the unit tests) use the same words for the same thing.
 */
import { capText, safeLine, safeText } from './text-safety';

// ---- times --------------------------------------------------------------------------------

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5m ago", "3h ago", "yesterday", "4d ago", then the date. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const delta = now - t;
  if (delta < 45_000) return 'just now'; // includes small clock skew into the future
  if (delta < HOUR) return `${Math.max(1, Math.round(delta / MINUTE))}m ago`;
  if (delta < DAY) return `${Math.floor(delta / HOUR)}h ago`;
  if (delta < 2 * DAY) return 'yesterday';
  if (delta < 7 * DAY) return `${Math.floor(delta / DAY)}d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** A local, unambiguous timestamp for tooltips: "2026-11-24 14:03:09". */
export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ---- text ---------------------------------------------------------------------------------

/** One line for a tree label, description or tooltip line: hidden characters shown, whitespace folded, capped. */
export function oneLine(text: string, max = 80): string {
  return safeLine(text, max);
}

/** Peer text for multi-line display (webview, tooltips): hidden characters shown, newlines and tabs kept. */
export function inertText(text: string, max = Number.POSITIVE_INFINITY): string {
  return capText(safeText(text, 'block'), max);
}
