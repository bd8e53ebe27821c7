/**
 * The one text-safety policy. Everything a peer controls (bodies, names, reasons, parse-error
 * snippets) passes through here before any surface shows it: the CLI's human and JSON output,
 * the extension's notifications, quick picks, trees and tooltips, the webview, and the relay's
 * and core's logs.
 *
 * A character that would act instead of show — terminal controls and escape sequences, bidi
 * controls that reorder what surrounds them, and invisible characters that hide text from the
 * person while an agent still reads it — is shown as `<U+XXXX>` (uppercase hex, at least four
 * digits). Nothing is dropped silently. Legitimate text is left as it is: emoji ZWJ sequences,
 * variation selectors, the three RGI subdivision flags (which are tag sequences), and a single
 * ZWJ / ZWNJ inside words of scripts whose spelling needs it.
 *
 * Dependency-free and free of node, DOM and vscode imports: every part of the product uses it.
 */

/** How line breaks are treated. */
export type Layout =
  /** Multi-line surfaces (message view, `read`, JSON strings): `\n`, `\t` and `\r\n` stay. */
  | 'block'
  /** Exactly one line (log records): every line break and tab is shown as an escape too. */
  | 'inline';

/** The form a hidden character takes on screen. */
export function visibleEscape(codePoint: number): string {
  return `<U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * Characters that must never reach a surface raw: C0 and C1 controls (ESC, CSI, OSC, BEL, NEL
 * among them), DEL, lone surrogates, noncharacters, the bidi controls, line and paragraph
 * separators, and every default-ignorable code point except the variation selectors.
 */
export function isHiddenCodePoint(cp: number): boolean {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x00ad || // soft hyphen
    cp === 0x034f || // combining grapheme joiner
    cp === 0x061c || // Arabic letter mark
    cp === 0x115f ||
    cp === 0x1160 || // Hangul fillers
    cp === 0x17b4 ||
    cp === 0x17b5 || // Khmer inherent vowels
    cp === 0x180e || // Mongolian vowel separator
    (cp >= 0x200b && cp <= 0x200f) || // ZWSP, ZWNJ, ZWJ, LRM, RLM
    (cp >= 0x2028 && cp <= 0x202e) || // line / paragraph separators, bidi embeddings and overrides
    (cp >= 0x2060 && cp <= 0x206f) || // word joiner, invisible operators, bidi isolates, deprecated format
    cp === 0x3164 || // Hangul filler
    (cp >= 0xd800 && cp <= 0xdfff) || // only ever seen alone: a valid pair is one astral code point
    (cp >= 0xfdd0 && cp <= 0xfdef) || // noncharacters
    cp === 0xfeff || // zero-width no-break space / BOM
    cp === 0xffa0 || // halfwidth Hangul filler
    (cp >= 0xfff0 && cp <= 0xfffb) || // unassigned specials, interlinear annotation
    (cp & 0xfffe) === 0xfffe || // noncharacters U+xFFFE, U+xFFFF in every plane
    (cp >= 0x1bca0 && cp <= 0x1bca3) || // shorthand format controls
    (cp >= 0x1d173 && cp <= 0x1d17a) || // musical symbol format controls
    (cp >= 0xe0000 && cp <= 0xe00ff) || // tag characters (invisible ASCII) and the rest of their block
    (cp >= 0xe01f0 && cp <= 0xe0fff) // default-ignorable, unassigned
  );
}

/** Quick test: no candidate at all means the text is returned as it is (the common case). */
// eslint-disable-next-line no-control-regex
const CANDIDATE = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ud800-\udfff\ufdd0-\ufdef\ufeff\uffa0\ufff0-\uffff]/;

const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const BLACK_FLAG = 0x1f3f4;
const TAG_FIRST = 0xe0020;
const TAG_LAST = 0xe007e;
const CANCEL_TAG = 0xe007f;
/** The only tag sequences that render (England, Scotland, Wales); any other tag run is hidden text. */
const RGI_SUBDIVISION_FLAGS = new Set(['gbeng', 'gbsct', 'gbwls']);

const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const EMOJI_MODIFIER = /\p{Emoji_Modifier}/u;
const VS16 = 0xfe0f;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
/** Scripts whose spelling uses ZWJ / ZWNJ inside words (Persian, Indic conjuncts, …). */
const JOINING_SCRIPT =
  /[\p{scx=Arabic}\p{scx=Syriac}\p{scx=Thaana}\p{scx=Nko}\p{scx=Devanagari}\p{scx=Bengali}\p{scx=Gurmukhi}\p{scx=Gujarati}\p{scx=Oriya}\p{scx=Tamil}\p{scx=Telugu}\p{scx=Kannada}\p{scx=Malayalam}\p{scx=Sinhala}\p{scx=Tibetan}\p{scx=Myanmar}\p{scx=Khmer}\p{scx=Mongolian}]/u;

const charOf = (cp: number | undefined) => (cp === undefined ? '' : String.fromCodePoint(cp));

/** ZWJ / ZWNJ that belong where they are: inside an emoji sequence or after a letter of a joining script. */
function isWantedJoiner(cp: number, prev: number | undefined, next: number | undefined): boolean {
  if (prev === undefined) return false;
  if (next !== undefined && (next === ZWJ || next === ZWNJ || isHiddenCodePoint(next))) return false; // runs of joiners carry hidden data
  const before = charOf(prev);
  if (cp === ZWJ && (PICTOGRAPHIC.test(before) || EMOJI_MODIFIER.test(before) || prev === VS16)) return next !== undefined && PICTOGRAPHIC.test(charOf(next));
  // Old-style Malayalam chillu ends a word with virama + ZWJ, so `next` may be anything visible or nothing.
  return LETTER_OR_MARK.test(before) && JOINING_SCRIPT.test(before);
}

/** Length of an RGI subdivision flag starting at `i` (a black flag, five tags, cancel tag), or 0. */
function subdivisionFlagLength(cps: number[], i: number): number {
  if (cps[i] !== BLACK_FLAG) return 0;
  let j = i + 1;
  let spec = '';
  while (j < cps.length && cps[j]! >= TAG_FIRST && cps[j]! <= TAG_LAST && spec.length < 8) spec += String.fromCharCode(cps[j++]! - 0xe0000);
  return cps[j] === CANCEL_TAG && RGI_SUBDIVISION_FLAGS.has(spec) ? j - i + 1 : 0;
}

/** `text` with every hidden character shown as `<U+XXXX>`. */
export function safeText(text: string, layout: Layout = 'block'): string {
  if (!CANDIDATE.test(text)) return text;
  const cps = Array.from(text, (ch) => ch.codePointAt(0)!);
  let out = '';
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!;
    const flag = subdivisionFlagLength(cps, i);
    if (flag) {
      out += String.fromCodePoint(...cps.slice(i, i + flag));
      i += flag - 1;
      continue;
    }
    if (!isHiddenCodePoint(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    if (layout === 'block' && (cp === 0x0a || cp === 0x09 || (cp === 0x0d && cps[i + 1] === 0x0a))) out += String.fromCodePoint(cp);
    else if ((cp === ZWJ || cp === ZWNJ) && isWantedJoiner(cp, cps[i - 1], cps[i + 1])) out += String.fromCodePoint(cp);
    else out += visibleEscape(cp);
  }
  return out;
}

/** Whitespace a one-line summary folds into a single space (line breaks, tabs, spaces). */
const FOLDABLE_SPACE = /[\t\n\r \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/g;

/**
 * One line for a summary (tree label, notification, `inbox` row): whitespace runs fold to one
 * space, hidden characters are escaped, and the result is capped at `max` characters (an escape
 * and an emoji sequence count as one and are never cut), ending in `…` when cut.
 */
export function safeLine(text: string, max = Number.POSITIVE_INFINITY): string {
  // not String#trim: it would silently drop U+2028, U+2029 and U+FEFF at the ends
  return capText(safeText(text.replace(FOLDABLE_SPACE, ' ').replace(/^ | $/g, ''), 'inline'), max);
}

/** One log record: hidden characters and line breaks escaped, so a peer cannot forge a record. */
export function safeLogText(text: string): string {
  return safeText(text, 'inline');
}

/**
 * JSON for a terminal or an agent: every string value (at any depth) is made safe as a block,
 * so a consumer that prints a field gets no control or hidden characters back. Newlines and
 * tabs stay (JSON escapes them); field names and non-string values are untouched.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? safeText(v, 'block') : v));
}

const ESCAPE_TOKEN = /<U\+[0-9A-F]{4,6}>/g;

type Segmenter = { segment(text: string): Iterable<{ segment: string }> };
let graphemeSegmenter: Segmenter | null | undefined;
function segmenter(): Segmenter | null {
  if (graphemeSegmenter === undefined) {
    const Ctor = (Intl as unknown as { Segmenter?: new (locale: undefined, options: { granularity: 'grapheme' }) => Segmenter }).Segmenter;
    graphemeSegmenter = Ctor ? new Ctor(undefined, { granularity: 'grapheme' }) : null;
  }
  return graphemeSegmenter;
}

function* graphemes(text: string): Generator<string> {
  const seg = segmenter();
  if (!seg) return yield* text;
  for (const s of seg.segment(text)) yield s.segment;
}

/** What a cap counts: grapheme clusters (code points without Intl.Segmenter), an escape as one. */
function* units(text: string): Generator<string> {
  let last = 0;
  for (const m of text.matchAll(ESCAPE_TOKEN)) {
    yield* graphemes(text.slice(last, m.index));
    yield m[0];
    last = m.index + m[0].length;
  }
  yield* graphemes(text.slice(last));
}

/** At most `max` units; `…` marks a cut. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.max(1, max - 1);
  const kept: string[] = [];
  let total = 0;
  for (const u of units(text)) {
    if (total < keep) kept.push(u);
    total++;
    if (total > max) return `${kept.join('').trimEnd()}…`;
  }
  return text;
}
