/**
 * The MIME type a file name's extension suggests, for a file a person attaches (the core
 * records it, the extension shows it before sending). Pure: the webview may use it too. A
 * type is only ever a label here; what may be previewed is decided on the bytes
 * (lib/file-display.ts mayPreview).
 */

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  log: 'text/plain',
  ts: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html',
  js: 'text/javascript',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  patch: 'text/x-diff',
  diff: 'text/x-diff',
};

export const UNKNOWN_MIME = 'application/octet-stream';

/** By the last extension of the name's last path part, case-insensitively; UNKNOWN_MIME when none is known. */
export function mimeOfName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return UNKNOWN_MIME;
  return Object.hasOwn(MIME_BY_EXTENSION, base.slice(dot + 1).toLowerCase()) ? MIME_BY_EXTENSION[base.slice(dot + 1).toLowerCase()]! : UNKNOWN_MIME;
}
