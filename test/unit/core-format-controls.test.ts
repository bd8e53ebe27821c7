/**
 * The CLI's neutralisation of peer text, character class by character class: each one that
 * can reorder, hide or inject text is escaped, at both ends of its range, in human output and
 * in JSON; ordinary text, including neighbours of those ranges, is left alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inert, inertJson } from '../../server/cli/format';

const hex = (code: number) => (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);

/** [first, last] of each range that must be escaped. */
const ESCAPED: [number, number][] = [
  [0x00, 0x1f], // C0 controls, ESC among them
  [0x7f, 0x9f], // DEL and C1 controls (CSI)
  [0x200b, 0x200f], // zero-width space, joiners, LRM/RLM
  [0x202a, 0x202e], // bidi embeddings and overrides
  [0x2066, 0x2069], // bidi isolates
  [0xfeff, 0xfeff], // zero-width no-break space (BOM)
];

test('inert escapes every character of every dangerous range, at both ends and inside', () => {
  for (const [first, last] of ESCAPED) {
    for (const code of new Set([first, Math.floor((first + last) / 2), last])) {
      const ch = String.fromCodePoint(code);
      assert.equal(inert(`a${ch}b`), `a${hex(code)}b`, `U+${code.toString(16)}`);
    }
  }
});

test('inert leaves the neighbours of those ranges alone', () => {
  for (const code of [0x20, 0x7e, 0xa0, 0x200a, 0x2010, 0x2029, 0x202f, 0x2065, 0x206a, 0xfefe, 0xff00]) {
    const ch = String.fromCodePoint(code);
    assert.equal(inert(`a${ch}b`), `a${ch}b`, `U+${code.toString(16)}`);
  }
  assert.equal(inert('héllo ✓ 😀 日本'), 'héllo ✓ 😀 日本');
});

test('multiline keeps only newlines and tabs', () => {
  assert.equal(inert('a\nb\tc\rd', true), 'a\nb\tc\\x0dd');
  assert.equal(inert('a\nb\tc', false), 'a\\x0ab\\x09c');
});

test('inertJson leaves none of them raw and still means the same', () => {
  for (const [first, last] of ESCAPED) {
    for (const code of new Set([first, last])) {
      const text = `a${String.fromCodePoint(code)}b`;
      const out = inertJson({ text });
      assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/, `U+${code.toString(16)}`);
      assert.deepEqual(JSON.parse(out), { text });
    }
  }
  assert.equal(inertJson({ t: 'é\u2065\u206a' }), JSON.stringify({ t: 'é\u2065\u206a' }));
});
