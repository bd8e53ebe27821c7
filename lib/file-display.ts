/**
 * Files for display, shared by the extension and the webview: sizes, types, transfer states,
 * and which files may be previewed as images. Pure (no node, no DOM). Names and MIME types
 * come from peers: they are data, and everything here returns text to be shown inert.
 */
import { oneLine } from './display';

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** "0 B", "999 B", "1.5 KB", "12 MB", "1.2 GB" (binary multiples, as file managers show). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '? B';
  if (bytes < 1024) return `${Math.floor(bytes)} B`;
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  // one decimal below 10 so small sizes move visibly; none above
  const s = v < 10 ? (Math.floor(v * 10) / 10).toFixed(1) : String(Math.floor(v));
  return `${s} ${UNITS[i]}`;
}

/** "3.2 MB of 12 MB (26%)" for a transfer under way. */
export function formatProgress(transferred: number, size: number): string {
  const pct = size > 0 ? Math.min(100, Math.floor((transferred / size) * 100)) : 100;
  return `${formatSize(transferred)} of ${formatSize(size)} (${pct}%)`;
}

const KNOWN: Record<string, string> = {
  'image/png': 'PNG image',
  'image/jpeg': 'JPEG image',
  'image/gif': 'GIF image',
  'image/webp': 'WebP image',
  'image/svg+xml': 'SVG image',
  'application/pdf': 'PDF',
  'application/zip': 'ZIP archive',
  'application/gzip': 'gzip archive',
  'application/json': 'JSON',
  'text/plain': 'text',
  'text/markdown': 'Markdown',
  'text/csv': 'CSV',
  'application/octet-stream': 'file',
};

/** A short word for a MIME type ("PNG image", "PDF", "text/x-rust" as given, capped); "file" when empty. */
export function fileTypeLabel(mime: string): string {
  const m = mime.trim().toLowerCase().split(';')[0]!.trim();
  if (!m) return 'file';
  return KNOWN[m] ?? oneLine(m, 40);
}

/** The image types the conversation view previews inline. Never SVG: it is a document that can carry script. */
export const PREVIEW_MIMES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type PreviewMime = (typeof PREVIEW_MIMES)[number];

/** What the first bytes of a file say it is, among the previewable images; null for anything else. */
export function imageKindOfBytes(head: Uint8Array): PreviewMime | null {
  const b = (i: number) => head[i];
  if (head.length >= 8 && b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47 && b(4) === 0x0d && b(5) === 0x0a && b(6) === 0x1a && b(7) === 0x0a) return 'image/png';
  if (head.length >= 3 && b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (head.length >= 6 && b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x38 && (b(4) === 0x37 || b(4) === 0x39) && b(5) === 0x61) return 'image/gif';
  if (head.length >= 12 && b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45 && b(10) === 0x42 && b(11) === 0x50) return 'image/webp';
  return null;
}

/** Bytes imageKindOfBytes needs. */
export const IMAGE_MAGIC_BYTES = 12;

/**
 * Whether a file may be shown as an image: the sender's MIME type says one of the previewable
 * types AND the bytes agree (a "photo.png" that is an SVG or an HTML page is not previewed).
 */
export function mayPreview(mime: string, head: Uint8Array): boolean {
  const m = mime.trim().toLowerCase().split(';')[0]!.trim();
  // imageKindOfBytes only ever names a PREVIEW_MIMES type: an SVG or any other type never equals it
  return imageKindOfBytes(head) === m;
}

export interface AttachmentLike {
  name: string;
  size: number;
  mime: string;
  state: 'remote' | 'downloading' | 'ready' | 'failed';
  transferred: number;
  error: string | null;
}

/** The state as words: "at the relay", "downloading 1.0 MB of 4.0 MB (25%)", "ready", "failed: …". */
export function attachmentStateText(a: AttachmentLike): string {
  switch (a.state) {
    case 'remote':
      return 'not downloaded';
    case 'downloading':
      return `downloading ${formatProgress(a.transferred, a.size)}`;
    case 'ready':
      return 'ready';
    case 'failed':
      return `failed${a.error ? `: ${oneLine(a.error, 200)}` : ''}`;
  }
}

/** "1 file", "3 files" (a tree description); '' for none. */
export function filesCount(n: number): string {
  if (n <= 0) return '';
  return n === 1 ? '1 file' : `${n} files`;
}

/** One line naming a message's files for a label: "report.pdf", "a.png, b.png +2". */
export function filesLine(names: readonly string[], max = 60): string {
  if (!names.length) return '';
  const shown: string[] = [];
  let len = 0;
  for (const n of names) {
    const s = oneLine(n, 40);
    if (shown.length && len + s.length > max) break;
    shown.push(s);
    len += s.length + 2;
  }
  const rest = names.length - shown.length;
  return `${shown.join(', ')}${rest > 0 ? ` +${rest}` : ''}`;
}
