/** The one text-safety policy (lib/text-safety.ts): what is shown as an escape, and what is left alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capText, HIDDEN_PATTERN, isHiddenCodePoint, safeJson, safeLine, safeLogText, safeText, visibleEscape } from '../../lib/text-safety';

const tags = (ascii: string) => [...ascii].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, '0');

describe('hidden characters are shown, never passed or dropped', () => {
  // every class the issue names, plus what a review added (CGJ, Hangul fillers, Khmer inherent
  // vowels, noncharacters, deprecated format controls, musical format controls, shorthand format controls)
  const named: [string, number[]][] = [
    ['C0 controls and ESC', [0x00, 0x07, 0x08, 0x0b, 0x0c, 0x1b, 0x1f]],
    ['DEL and C1 (CSI, OSC, NEL)', [0x7f, 0x85, 0x9b, 0x9d, 0x9f]],
    ['soft hyphen', [0xad]],
    ['combining grapheme joiner', [0x34f]],
    ['Arabic letter mark', [0x61c]],
    ['Hangul fillers', [0x115f, 0x1160, 0x3164, 0xffa0]],
    ['Khmer inherent vowels', [0x17b4, 0x17b5]],
    ['Mongolian vowel separator', [0x180e]],
    ['zero-width space, LRM, RLM', [0x200b, 0x200e, 0x200f]],
    ['line and paragraph separators', [0x2028, 0x2029]],
    ['bidi embeddings and overrides', [0x202a, 0x202b, 0x202c, 0x202d, 0x202e]],
    ['word joiner and invisible operators', [0x2060, 0x2061, 0x2062, 0x2063, 0x2064]],
    ['bidi isolates', [0x2066, 0x2067, 0x2068, 0x2069]],
    ['deprecated format controls', [0x206a, 0x206f]],
    ['BOM / zero-width no-break space', [0xfeff]],
    ['interlinear annotation', [0xfff9, 0xfffa, 0xfffb]],
    ['noncharacters', [0xfdd0, 0xfffe, 0xffff, 0x1fffe, 0x10ffff]],
    ['shorthand and musical format controls', [0x1bca0, 0x1d173]],
    ['tag characters (invisible ASCII)', [0xe0001, 0xe0020, 0xe0041, 0xe007a, 0xe007f]],
  ];
  for (const [what, cps] of named) {
    it(what, () => {
      for (const cp of cps) {
        const ch = String.fromCodePoint(cp);
        assert.equal(safeText(`a${ch}b`), `a<U+${hex(cp)}>b`, `U+${hex(cp)}`);
        assert.equal(safeLine(`a${ch}b`), `a<U+${hex(cp)}>b`, `U+${hex(cp)} in a line`);
      }
    });
  }

  it('lone surrogates, high and low', () => {
    assert.equal(safeText('a\ud800b'), 'a<U+D800>b');
    assert.equal(safeText('a\udfffb'), 'a<U+DFFF>b');
    assert.equal(safeText('\ud83d'), '<U+D83D>');
  });

  it('a whole ESC sequence loses its ESC, so nothing reaches a terminal as a control', () => {
    assert.equal(safeText('\u001b]0;title\u0007\u001b[2J\u009b31m'), '<U+001B>]0;title<U+0007><U+001B>[2J<U+009B>31m');
  });

  it('invisible ASCII smuggled in tags is visible, character by character', () => {
    assert.equal(safeText(`ok${tags('rm -rf')}`), `ok${[...'rm -rf'].map((c) => `<U+E00${hex(c.charCodeAt(0)).slice(2)}>`).join('')}`);
  });

  it('covers every control, format, separator, surrogate, noncharacter and default-ignorable code point (except what it allows)', () => {
    const oracle = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Noncharacter_Code_Point}\p{Default_Ignorable_Code_Point}]/u;
    // Allowed on purpose: variation selectors; ZWJ/ZWNJ (contextual, tested below); visible format
    // characters that span digits or hieroglyphs rather than hide anything.
    const allowed = (cp: number) =>
      (cp >= 0xfe00 && cp <= 0xfe0f) ||
      (cp >= 0xe0100 && cp <= 0xe01ef) ||
      (cp >= 0x180b && cp <= 0x180d) ||
      cp === 0x180f ||
      cp === 0x200c ||
      cp === 0x200d ||
      (cp >= 0x0600 && cp <= 0x0605) ||
      cp === 0x06dd ||
      cp === 0x070f ||
      (cp >= 0x0890 && cp <= 0x0891) ||
      cp === 0x08e2 ||
      cp === 0x110bd ||
      cp === 0x110cd ||
      (cp >= 0x13430 && cp <= 0x1345f);
    const missed: string[] = [];
    const disagree: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const ch = String.fromCodePoint(cp);
      const hidden = isHiddenCodePoint(cp);
      if (oracle.test(ch) && !allowed(cp) && !hidden) missed.push(`U+${hex(cp)}`);
      if (HIDDEN_PATTERN.test(ch) !== hidden) disagree.push(`U+${hex(cp)}`);
      if (hidden && cp !== 0x200c && cp !== 0x200d && safeText(`x${ch}y`, 'inline') !== `x<U+${hex(cp)}>y`) disagree.push(`safeText U+${hex(cp)}`);
    }
    assert.deepEqual(missed, []);
    assert.deepEqual(disagree, [], 'the scanning regex, the predicate and safeText agree');
  });
});

describe('legitimate text is left as it is', () => {
  const keep = [
    ['emoji ZWJ sequences', '👩‍💻 🏳️‍🌈 ❤️‍🔥 🧑🏽‍💻 🏴‍☠️ 👨‍👩‍👧‍👦 🧔‍♂️'],
    ['emoji with variation selectors and keycaps', '☺️ ✔︎ 1️⃣ #️⃣'],
    ['skin tones and country flags', '👋🏿 🇫🇷 🇯🇵'],
    ['the RGI subdivision flags (tag sequences)', `🏴${tags('gbeng')}\u{E007F} 🏴${tags('gbsct')}\u{E007F} 🏴${tags('gbwls')}\u{E007F}`],
    ['Persian with ZWNJ', 'می‌خواهم'],
    ['Devanagari with ZWJ after virama and ZWNJ', 'क्‍ष क्‌ष'],
    ['Malayalam with ZWJ', 'ന്‍'],
    ['combining marks, CJK, RTL letters', 'é ñ 漢字 שלום مرحبا'],
    ['a code snippet with backslashes and angle brackets', 'if (a < b) { s = "\\u{200B}" }'],
  ];
  for (const [what, text] of keep) {
    it(what!, () => {
      assert.equal(safeText(text!), text);
      assert.equal(safeLine(text!), text);
    });
  }

  it('a block keeps newlines, tabs and CRLF; a lone CR is shown', () => {
    assert.equal(safeText('one\r\ntwo\n\tthree\rfour'), 'one\r\ntwo\n\tthree<U+000D>four');
  });

  it('a log record shows line breaks and tabs, so it stays one record', () => {
    assert.equal(safeLogText('unauthorized hello for "x\n2026-01-01T00:00:00Z info forged"'), 'unauthorized hello for "x<U+000A>2026-01-01T00:00:00Z info forged"');
    assert.equal(safeLogText('a\tb\r\nc'), 'a<U+0009>b<U+000D><U+000A>c');
  });

  it('joiners outside their context are shown: in Latin words, at the ends, in runs, between non-emoji', () => {
    assert.equal(safeText('a\u200db'), 'a<U+200D>b');
    assert.equal(safeText('a\u200cb'), 'a<U+200C>b');
    assert.equal(safeText('\u200d👩'), '<U+200D>👩');
    assert.equal(safeText('👩\u200d'), '👩<U+200D>');
    assert.equal(safeText('👩\u200d\u200d💻'), '👩<U+200D><U+200D>💻');
    assert.equal(safeText('می\u200c\u200cخ'), 'می<U+200C><U+200C>خ');
    assert.equal(safeText('👩\u200c💻'), '👩<U+200C>💻');
  });

  it('a black flag with tags that are not an RGI flag shows the tags', () => {
    assert.equal(safeText(`🏴${tags('secret')}\u{E007F}`), `🏴${[...'secret'].map((c) => visibleEscape(0xe0000 + c.charCodeAt(0))).join('')}<U+E007F>`);
    assert.equal(safeText(`🏴${tags('gbeng')}`), `🏴${[...'gbeng'].map((c) => visibleEscape(0xe0000 + c.charCodeAt(0))).join('')}`);
  });
});

describe('one-line summaries and caps', () => {
  it('fold whitespace runs (newlines, tabs, odd spaces) into one space and trim', () => {
    assert.equal(safeLine('  a\n\n\tb\u00a0\u3000c  '), 'a b c');
  });

  it('never cut an escape, an emoji sequence or a surrogate pair', () => {
    assert.equal(capText('<U+200B><U+200B><U+200B><U+200B>', 3), '<U+200B><U+200B>…');
    assert.equal(safeLine('👩‍💻👩‍💻👩‍💻👩‍💻', 3), '👩‍💻👩‍💻…');
    assert.equal(safeLine('𝒜𝒜𝒜𝒜', 3), '𝒜𝒜…');
    assert.equal(safeLine(`x${'\u200b'.repeat(50)}`, 5), 'x<U+200B><U+200B><U+200B>…');
  });

  it('cut a long body exactly as they would cut the whole of it', () => {
    const pieces = ['a', ' ', '\n', 'é', 'e\u0301', '👩‍💻', '🇫🇷', '\u200b', '\u001b[', `🏴${tags('gbsct')}\u{E007F}`, 'می‌خ', '\t\t', '𝒜', '\u2028', '<U+0041>'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let round = 0; round < 200; round++) {
      let text = '';
      const length = 50 + (next() % 600);
      while (text.length < length) text += pieces[next() % pieces.length];
      for (const max of [1, 5, 20, 72, 160]) assert.equal(safeLine(text, max), capText(safeLine(text), max), JSON.stringify({ text, max }));
    }
    // clusters longer than the head: the head alone would not know where the cut goes
    const marks = `x${'\u0301'.repeat(200)}`.repeat(10);
    assert.equal(safeLine(marks, 5), capText(safeLine(marks), 5));
    assert.equal(safeLine(marks, 5), `${`x${'\u0301'.repeat(200)}`.repeat(4)}…`);
  });

  it('leave text within the cap untouched', () => {
    assert.equal(safeLine('abcdef', 6), 'abcdef');
    assert.equal(safeLine('abcdefg', 6), 'abcde…');
  });
});

describe('JSON', () => {
  it('stays valid, keeps fields and types, and carries the safe text in every string at any depth', () => {
    const value = { body: 'hi\u2028\u001b[31m\n\tok', nested: { list: ['\u202e', 3, null, true] }, n: 1.5 };
    const out = safeJson(value);
    assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
    assert.deepEqual(JSON.parse(out), { body: 'hi<U+2028><U+001B>[31m\n\tok', nested: { list: ['<U+202E>', 3, null, true] }, n: 1.5 });
  });

  it('leaves emoji sequences as the emoji, not as \\u200d', () => {
    const out = safeJson({ body: '👩‍💻 🏳️‍🌈' });
    assert.ok(out.includes('👩‍💻 🏳️‍🌈'));
    assert.ok(!out.includes('\\u200d'));
  });
});
