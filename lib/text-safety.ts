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

const ASTRAL_NONCHARACTERS = Array.from({ length: 16 }, (_, plane) => `\\u{${(plane + 1).toString(16)}FFFE}\\u{${(plane + 1).toString(16)}FFFF}`).join('');
/**
 * The same set as `isHiddenCodePoint`, as one code-point regex (in `u` mode a surrogate range
 * matches only lone surrogates), so text is copied in runs and only hidden characters are examined.
 */
const HIDDEN = new RegExp(
  `[\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\u3164\\ud800-\\udfff\\ufdd0-\\ufdef\\ufeff\\uffa0\\ufff0-\\ufffb\\ufffe\\uffff\\u{1BCA0}-\\u{1BCA3}\\u{1D173}-\\u{1D17A}\\u{E0000}-\\u{E00FF}\\u{E01F0}-\\u{E0FFF}${ASTRAL_NONCHARACTERS}]`,
  'gu',
);

/** Exposed for the test that proves the regex and the predicate agree on every code point. */
export const HIDDEN_PATTERN: RegExp = new RegExp(HIDDEN.source, 'u');

const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const BLACK_FLAG = 0x1f3f4;
const TAG_FIRST = 0xe0020;
const TAG_LAST = 0xe007e;
// The only tag sequences that render are the RGI subdivision flags (England, Scotland, Wales);
// any other run of tags is hidden text.

const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const EMOJI_MODIFIER = /\p{Emoji_Modifier}/u;
const VS16 = 0xfe0f;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
/** Scripts whose spelling uses ZWJ / ZWNJ inside words (Persian, Indic conjuncts, …). */
const JOINING_SCRIPT =
  /[\p{scx=Arabic}\p{scx=Syriac}\p{scx=Thaana}\p{scx=Nko}\p{scx=Devanagari}\p{scx=Bengali}\p{scx=Gurmukhi}\p{scx=Gujarati}\p{scx=Oriya}\p{scx=Tamil}\p{scx=Telugu}\p{scx=Kannada}\p{scx=Malayalam}\p{scx=Sinhala}\p{scx=Tibetan}\p{scx=Myanmar}\p{scx=Khmer}\p{scx=Mongolian}]/u;

const charOf = (cp: number | undefined) => (cp === undefined ? '' : String.fromCodePoint(cp));

/** ZWJ / ZWNJ that belong where they are: inside an emoji sequence or after a letter of a joining script. */
export function isWantedJoiner(cp: number, prev: number | undefined, next: number | undefined): boolean {
  if (prev === undefined) return false;
  if (next !== undefined && (next === ZWJ || next === ZWNJ || isHiddenCodePoint(next))) return false; // runs of joiners carry hidden data
  const before = charOf(prev);
  if (cp === ZWJ && (PICTOGRAPHIC.test(before) || EMOJI_MODIFIER.test(before) || prev === VS16)) return next !== undefined && PICTOGRAPHIC.test(charOf(next));
  // Old-style Malayalam chillu ends a word with virama + ZWJ, so `next` may be anything visible or nothing.
  return LETTER_OR_MARK.test(before) && JOINING_SCRIPT.test(before);
}

/** After a black flag: the tags of an RGI subdivision flag and its cancel tag (code units), or 0. */
const RGI_FLAG_TAIL = /^\u{E0067}\u{E0062}(?:\u{E0065}\u{E006E}\u{E0067}|\u{E0073}\u{E0063}\u{E0074}|\u{E0077}\u{E006C}\u{E0073})\u{E007F}/u;

function codePointBefore(text: string, i: number): number | undefined {
  if (i === 0) return undefined;
  const low = text.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = text.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return (high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
  }
  return low;
}

/** `text` with every hidden character shown as `<U+XXXX>`. */
export function safeText(text: string, layout: Layout = 'block'): string {
  HIDDEN.lastIndex = 0;
  let match = HIDDEN.exec(text);
  if (!match) return text;
  let out = '';
  let copied = 0;
  for (; match; match = HIDDEN.exec(text)) {
    const at = match.index;
    const cp = match[0].codePointAt(0)!;
    let end = at + match[0].length;
    let keep = false;
    if (layout === 'block' && (cp === 0x0a || cp === 0x09 || (cp === 0x0d && text.charCodeAt(end) === 0x0a))) keep = true;
    else if (cp === ZWJ || cp === ZWNJ) keep = isWantedJoiner(cp, codePointBefore(text, at), text.codePointAt(end));
    else if (cp >= TAG_FIRST && cp <= TAG_LAST && codePointBefore(text, at) === BLACK_FLAG) {
      const flag = RGI_FLAG_TAIL.exec(text.slice(at, at + 12));
      if (flag) {
        keep = true;
        end = at + flag[0].length;
        HIDDEN.lastIndex = end;
      }
    }
    out += text.slice(copied, at) + (keep ? text.slice(at, end) : visibleEscape(cp));
    copied = end;
  }
  return out + text.slice(copied);
}

/** Whitespace a one-line summary folds into a single space (line breaks, tabs, spaces). */
const FOLDABLE_SPACE = /[\t\n\r \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/g;

/**
 * One line for a summary (tree label, notification, `inbox` row): whitespace runs fold to one
 * space, hidden characters are escaped, and the result is capped at `max` characters (an escape
 * and an emoji sequence count as one and are never cut), ending in `…` when cut.
 */
export function safeLine(text: string, max = Number.POSITIVE_INFINITY): string {
  // A long body in a short row: render a head that is surely longer than the cap. safeText looks
  // at most 12 code units ahead (a subdivision flag's tags), so only what the head's last 12 code
  // units become can differ from the whole text's: at most 13 units (those 12, each one unit at
  // most, and the cluster they continue). A black flag whose tags are cut becomes the flag and up
  // to five escapes; an emoji cut inside a ZWJ sequence becomes it, an escaped joiner and an
  // escaped half. Holding more than max + 13 units, the head keeps at least max + 1 intact units,
  // so it cuts where the whole text cuts.
  const headLength = 4 * max + 64;
  if (text.length > headLength) {
    const head = foldAndEscape(text.slice(0, headLength));
    if (hasMoreUnitsThan(head, max + HEAD_TAIL_UNITS)) return capText(head, max);
  }
  return capText(foldAndEscape(text), max);
}

/** The most units a head's cut tail can differ by from the whole text's (see safeLine). */
const HEAD_TAIL_UNITS = 13;

function foldAndEscape(text: string): string {
  // not String#trim: it would silently drop U+2028, U+2029 and U+FEFF at the ends
  return safeText(text.replace(FOLDABLE_SPACE, ' ').replace(/^ | $/g, ''), 'inline');
}

function hasMoreUnitsThan(text: string, n: number): boolean {
  let count = 0;
  for (const _ of units(text)) if (++count > n) return true;
  return false;
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

/** What continues a grapheme cluster: marks, emoji modifiers, variation selectors, tags. */
const EXTEND = /[\p{M}\u{1F3FB}-\u{1F3FF}\ufe00-\ufe0f\u{E0100}-\u{E01EF}\u{E0020}-\u{E007F}]/u;
const isRegionalIndicator = (cp: number | undefined) => cp !== undefined && cp >= 0x1f1e6 && cp <= 0x1f1ff;
const width = (cp: number) => (cp > 0xffff ? 2 : 1);

/**
 * Grapheme clusters, closely enough for a cap: a base with its marks, modifiers, selectors and
 * tags, ZWJ sequences, flag pairs, CRLF. Lazy, so a cap only walks what it keeps. (Intl.Segmenter
 * would be exact but costs a fresh ICU iterator per string, which a thousand-row list feels.)
 */
export function* graphemes(text: string): Generator<string> {
  let i = 0;
  while (i < text.length) {
    const first = text.codePointAt(i)!;
    let j = i + width(first);
    if (first === 0x0d && text.charCodeAt(j) === 0x0a) j++;
    else if (isRegionalIndicator(first) && isRegionalIndicator(text.codePointAt(j))) j += 2;
    for (;;) {
      const next = text.codePointAt(j);
      if (next === undefined) break;
      if (next === ZWJ) {
        j++;
        const joined = text.codePointAt(j);
        if (joined !== undefined) j += width(joined);
      } else if (EXTEND.test(String.fromCodePoint(next))) j += width(next);
      else break;
    }
    yield text.slice(i, j);
    i = j;
  }
}

/** What a cap counts: grapheme clusters, an escape as one. */
function* units(text: string): Generator<string> {
  let last = 0;
  for (const m of text.matchAll(ESCAPE_TOKEN)) {
    yield* graphemes(text.slice(last, m.index));
    yield m[0];
    last = m.index + m[0].length;
  }
  yield* graphemes(text.slice(last));
}

/** A prefix with none of these is one unit per code unit, so it can be cut by index. */
const NOT_SIMPLE = /[<\r\p{M}\u200d\ufe00-\ufe0f\ud800-\udfff\u{10000}-\u{10FFFF}]/u;

/** At most `max` units; `…` marks a cut. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.max(1, max - 1);
  if (!NOT_SIMPLE.test(text.slice(0, max + 1))) return `${text.slice(0, keep).trimEnd()}…`;
  const kept: string[] = [];
  let total = 0;
  for (const u of units(text)) {
    if (total < keep) kept.push(u);
    total++;
    if (total > max) return `${kept.join('').trimEnd()}…`;
  }
  return text;
}
