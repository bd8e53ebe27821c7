/**
 * The CLI's neutralisation of peer text (lib/text-safety.ts through server/cli/format.ts),
 * character class by character class: each one that can reorder, hide or inject text is shown
 * as `<U+XXXX>`, at both ends of its range, in human output and in JSON; ordinary text,
 * including neighbours of those ranges, is left alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inert, inertJson } from '../../server/cli/format';

const shown = (code: number) => `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;

/** [first, last] of each range that must be shown escaped. */
const ESCAPED: [number, number][] = [
  [0x00, 0x1f], // C0 controls, ESC among them
  [0x7f, 0x9f], // DEL and C1 controls (CSI)
  [0x200b, 0x200f], // zero-width space, joiners, LRM/RLM
  [0x2028, 0x2029], // line and paragraph separators
  [0x202a, 0x202e], // bidi embeddings and overrides
  [0x2060, 0x2064], // word joiner, invisible operators
  [0x2066, 0x2069], // bidi isolates
  [0xfeff, 0xfeff], // zero-width no-break space (BOM)
  [0xe0000, 0xe007f], // tag characters
];

test('inert escapes every character of every dangerous range, at both ends and inside', () => {
  for (const [first, last] of ESCAPED) {
    for (const code of new Set([first, Math.floor((first + last) / 2), last])) {
      const ch = String.fromCodePoint(code);
      assert.equal(inert(`a${ch}b`), `a${shown(code)}b`, `U+${code.toString(16)}`);
    }
  }
});

test('inert leaves the neighbours of those ranges alone', () => {
  for (const code of [0x20, 0x7e, 0xa0, 0x200a, 0x2010, 0x2027, 0x202f, 0xfefe, 0xff00, 0xe0100]) {
    const ch = String.fromCodePoint(code);
    assert.equal(inert(`a${ch}b`), `a${ch}b`, `U+${code.toString(16)}`);
  }
  assert.equal(inert('héllo ✓ 😀 日本'), 'héllo ✓ 😀 日本');
});

test('inertJson leaves none of them raw, stays valid JSON and carries the same safe text', () => {
  for (const [first, last] of ESCAPED) {
    for (const code of new Set([first, last])) {
      const text = `a${String.fromCodePoint(code)}b`;
      const out = inertJson({ text });
      assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\u{e0000}-\u{e007f}]/u, `U+${code.toString(16)}`);
      const parsed = JSON.parse(out) as { text: string };
      // A newline or tab in a body is kept (JSON-escaped); everything else shows as an escape.
      assert.equal(parsed.text, code === 0x0a || code === 0x09 ? text : `a${shown(code)}b`, `U+${code.toString(16)}`);
    }
  }
});
