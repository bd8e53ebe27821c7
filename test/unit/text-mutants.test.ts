/**
 * What lib/text-safety.ts shows and where it cuts, at the edges StrykerJS found unpinned (issue
 * #19): what may follow an emoji's ZWJ, runs of joiners, lone surrogates next to a joiner,
 * subdivision-flag tags without their black flag, a lone CR, flags at the ends of the regional
 * indicator range, CRLF, escapes that fit the cap, a text of marks only, and a long body whose
 * head is cut inside an emoji or flag sequence. Each row is an input and what a person sees.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capText, safeLine, safeText } from '../../lib/text-safety';

const tags = (ascii: string) => [...ascii].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const escapes = (ascii: string) => [...ascii].map((c) => `<U+${(0xe0000 + c.charCodeAt(0)).toString(16).toUpperCase()}>`).join('');
const scotland = `🏴${tags('gbsct\x7f')}`;
const marks = (n: number) => '\u0301'.repeat(n);

describe('joiners: kept inside emoji sequences and joining-script words, shown everywhere else', () => {
  const cases: [string, string, string][] = [
    ['a ZWJ after an emoji keeps only an emoji after it', '👩\u200da', '👩<U+200D>a'],
    ['a ZWJ between two pictographs whose low surrogate is U+DC00 (🐀) stays', '🐀\u200d🐀', '🐀\u200d🐀'],
    ['a ZWJ after a dark skin tone (low surrogate U+DFFF) stays', '🧑🏿\u200d🤝\u200d🧑🏿', '🧑🏿\u200d🤝\u200d🧑🏿'],
    ['a ZWNJ followed by another hidden character is shown, and so is that one', 'می\u200c\u200bخواهم', 'می<U+200C><U+200B>خواهم'],
    ['two ZWNJ in a row are both shown', 'می\u200c\u200cخواهم', 'می<U+200C><U+200C>خواهم'],
    ['a lone high surrogate does not pair with the Persian letter after it', '\ud800ی\u200cx', '<U+D800>ی\u200cx'],
    ['… nor with an Arabic presentation form', '\ud800\ufee0\u200cx', '<U+D800>\ufee0\u200cx'],
    ['a ZWNJ after an astral Arabic-script mark (U+102E0, high surrogate U+D800) stays', 'ب\u{102E0}\u200cب', 'ب\u{102E0}\u200cب'],
    ['lone low surrogates before a joiner are shown, not paired', '\udc00\udc00\u200cb', '<U+DC00><U+DC00><U+200C>b'],
    ['a letter and a lone low surrogate before a joiner are not paired', 'a\udc00\u200cb', 'a<U+DC00><U+200C>b'],
  ];
  for (const [what, text, shown] of cases) it(what, () => assert.equal(safeText(text), shown));
});

describe('tags and line breaks', () => {
  it("England's tags without the black flag are hidden text", () => {
    assert.equal(safeText(`x${tags('gbeng\x7f')}`), `x${escapes('gbeng\x7f')}`);
    assert.equal(safeText(tags('gbeng\x7f')), escapes('gbeng\x7f'));
  });
  it('a lone CR is shown even in a block', () => {
    assert.equal(safeText('a\rb'), 'a<U+000D>b');
    assert.equal(safeText('a\r\nb'), 'a\r\nb');
  });
});

describe('a cap counts clusters: the edges of each kind', () => {
  const cases: [string, string, number, string][] = [
    ['a flag starting with A (🇦🇺) is one', '🇦🇺🇦🇺🇦🇺', 2, '🇦🇺…'],
    ['a flag starting with Z (🇿🇦) is one', '🇿🇦🇿🇦🇿🇦', 2, '🇿🇦…'],
    ['a flag ending with Z (🇳🇿) is one', '🇳🇿🇳🇿🇳🇿', 2, '🇳🇿…'],
    ['two emoji that are not regional indicators are two', '😀😀😀', 2, '😀…'],
    ['a letter before a flag is its own', 'a🇫🇷b', 2, 'a…'],
    ['U+FFFF is one code unit', '\uffffab\u0301c', 3, '\uffffa…'],
    ['LF is its own, only CR LF is one', 'a\nb\nc\r\n', 4, 'a\nb…'],
    ['a lone CR is its own', 'a\rb\rc\rd', 4, 'a\rb…'],
    ['marks with no base are one cluster', marks(4), 2, marks(4)],
  ];
  for (const [what, text, max, cut] of cases) it(what, () => assert.equal(capText(text, max), cut));

  it('an escape after the last one that fits leaves the line whole', () => {
    assert.equal(safeLine('hi\u200b', 3), 'hi<U+200B>');
    assert.equal(safeLine('hi\u200b!', 3), 'hi…');
  });
});

describe('a long body in a short row cuts where the whole body cuts', () => {
  // Each body is longer than the head safeLine renders first (4 × max + 64 code units) and made of
  // few, long clusters, so the head's cut tail is most of what it holds.
  it('a body of exactly max clusters is shown whole even when the head ends inside a ZWJ sequence', () => {
    const body = `a${marks(70)}b👨\u200d👩`;
    assert.ok(body.length > 4 * 3 + 64);
    assert.equal(safeLine(body, 3), body);
  });
  it('a subdivision flag the head cuts in its tags is kept whole', () => {
    const body = `a${marks(63)}${scotland}xyz`;
    assert.equal(safeLine(body, 3), `a${marks(63)}${scotland}…`);
  });
  it('a head of fewer clusters than the cap is not taken for the whole body', () => {
    assert.equal(safeLine(`ab${marks(100)}c`, 2), 'a…');
  });
});
