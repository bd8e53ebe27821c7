/**
 * Where a cap cuts (lib/text-safety.ts capText): after whole grapheme clusters of every kind,
 * never inside one. The neighbouring suite compares a long body's cut with the whole text's;
 * this one says what the right cut is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capText } from '../../lib/text-safety';

const scotland = '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';

describe('a cap counts clusters and cuts between them', () => {
  const cases: [string, string, number, string][] = [
    ['CRLF is one', 'x\r\ny\r\nz', 4, 'x\r\ny…'],
    ['a flag is two regional indicators', '🇫🇷🇯🇵🇩🇪🇮🇹', 3, '🇫🇷🇯🇵…'],
    ['a skin tone belongs to its hand', '👋🏿👋🏿👋🏿👋🏿', 3, '👋🏿👋🏿…'],
    ['a combining mark belongs to its letter', 'e\u0301e\u0301e\u0301e\u0301', 3, 'e\u0301e\u0301…'],
    ['a variation selector belongs to its symbol', '☺️☺️☺️☺️', 3, '☺️☺️…'],
    ['a keycap is one', '1️⃣2️⃣3️⃣4️⃣', 3, '1️⃣2️⃣…'],
    ['a subdivision flag is one', scotland.repeat(3), 2, `${scotland}…`],
    ['a supplementary variation selector belongs to its letter', 'a\u{E0100}a\u{E0100}a\u{E0100}a', 3, 'a\u{E0100}a\u{E0100}…'],
    ['an escape is one', 'a<U+200B>b<U+202E>c', 4, 'a<U+200B>b…'],
  ];
  for (const [what, text, max, cut] of cases) it(what, () => assert.equal(capText(text, max), cut));

  it('text of more code units than the cap but no more clusters is left whole', () => {
    assert.equal(capText('👩‍💻👩‍💻', 3), '👩‍💻👩‍💻');
    assert.equal(capText('👩\u200d', 1), '👩\u200d', 'a trailing joiner stays with what it follows');
  });

  it('a cap of one keeps one cluster and the ellipsis', () => {
    assert.equal(capText('abc', 1), 'a…');
    assert.equal(capText('🇫🇷🇯🇵', 1), '🇫🇷…');
  });

  it('no space is left dangling before the ellipsis', () => {
    assert.equal(capText('ab cd', 4), 'ab…');
    assert.equal(capText('a <U+200B><U+200B>', 3), 'a…');
  });
});
