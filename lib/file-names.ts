/**
 * A peer's file name is data, never a path. Before anything writes a received file (CLI
 * `download`, the extension's Save As default), the name becomes a plain base name that is
 * safe on Linux, macOS and Windows alike: no path separators or dot segments (so it cannot
 * climb out of the chosen directory), no control, bidi or invisible characters (so what a
 * person sees is what lands on disk), no leading dot (no hidden files such as `.bashrc`), no
 * name Windows reserves (`CON`, `COM1`, …), no trailing dots or spaces, at most 255 UTF-8
 * bytes with its extension kept. Nothing left gives `attachment`.
 *
 * This only makes the name safe to join to a directory; writers still resolve the joined
 * path and check it stays inside (server/cli/write-files.ts). Dependency-free, free of node
 * and DOM: the CLI, the extension and the webview can all use it.
 */
import { MAX_ATTACHMENT_NAME_BYTES } from '../protocol/files';
import { utf8ByteLength } from '../protocol/limits';
import { graphemes, isHiddenCodePoint, isWantedJoiner } from './text-safety';

/** What a name with nothing safe left becomes. */
export const FALLBACK_FILE_NAME = 'attachment';

/** A longer "extension" is part of the name: a cut keeps the tail only when it is one. */
const MAX_EXTENSION_BYTES = 32;

/** Characters Windows refuses in a name; replaced, so the rest of the name survives. */
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
/** Device names Windows reserves, with any extension (`con.txt` is the console too). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\.|$)/i;
const SEPARATORS = /[/\\]/;
const ONLY_DOTS = /^\.*$/;

/** `name` without hidden characters (controls, bidi overrides, zero-width…); joiners an emoji or a script needs stay. */
function withoutHidden(name: string): string {
  const points = Array.from(name, (c) => c.codePointAt(0)!);
  let out = '';
  let prev: number | undefined;
  for (let i = 0; i < points.length; i++) {
    const cp = points[i]!;
    const joiner = cp === 0x200c || cp === 0x200d;
    if (isHiddenCodePoint(cp) && !(joiner && isWantedJoiner(cp, prev, points[i + 1]))) continue;
    out += String.fromCodePoint(cp);
    prev = cp;
  }
  return out;
}

/** `[stem, ext]`, ext with its dot (`.tar.gz` counts only `.gz`); no ext for `name` alone or an over-long tail. */
function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return [name, ''];
  const ext = name.slice(dot);
  return utf8ByteLength(ext) > MAX_EXTENSION_BYTES ? [name, ''] : [name.slice(0, dot), ext];
}

/** The longest run of whole grapheme clusters of `text` that fits in `bytes` UTF-8 bytes. */
function cutToBytes(text: string, bytes: number): string {
  if (utf8ByteLength(text) <= bytes) return text;
  let out = '';
  let used = 0;
  for (const g of graphemes(text)) {
    const size = utf8ByteLength(g);
    if (used + size > bytes) break;
    out += g;
    used += size;
  }
  return out;
}

const trimEnds = (s: string) => s.replace(/^[.\s]+/u, '').replace(/[.\s]+$/u, '');

/** `stem` + `suffix` + `ext` within the byte limit: the stem gives way, the extension stays. */
function fit(stem: string, suffix: string, ext: string): string {
  const room = MAX_ATTACHMENT_NAME_BYTES - utf8ByteLength(suffix) - utf8ByteLength(ext);
  const cut = cutToBytes(stem, room).replace(/[.\s]+$/u, '');
  return `${cut}${suffix}${ext}`;
}

/** A base name safe to create in any directory, for whatever name a peer chose. */
export function safeFileName(name: string): string {
  const visible = withoutHidden(name.normalize('NFC'));
  // Every path segment but the dot ones (`.`, `..`, `...`), joined: `a/../b` → `a_b`, `../../.bashrc` → `.bashrc`.
  const segments = visible.split(SEPARATORS).map((s) => s.trim()).filter((s) => !ONLY_DOTS.test(s));
  let text = trimEnds(segments.join('_').replace(WINDOWS_FORBIDDEN, '_'));
  // A name starting with `-` reads as an option to the next command given it (`rm -rf`).
  if (text.startsWith('-')) text = `_${text.slice(1)}`;
  if (WINDOWS_RESERVED.test(text)) text = `_${text}`;
  if (text.length === 0) return FALLBACK_FILE_NAME;
  const [stem, ext] = splitExtension(text);
  const fitted = fit(stem, '', ext);
  // A stem of nothing but dots and spaces cut away leaves `.ext`: a hidden file again.
  return fitted.startsWith('.') || fitted.length === 0 ? FALLBACK_FILE_NAME + ext : fitted;
}

/**
 * Safe names for the files of one message, in order, no two alike (case-insensitively, as on
 * macOS and Windows): a later `report.pdf` becomes `report (2).pdf`.
 */
export function safeFileNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = safeFileName(name);
    let candidate = base;
    const [stem, ext] = splitExtension(base);
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = fit(stem, ` (${n})`, ext);
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}
