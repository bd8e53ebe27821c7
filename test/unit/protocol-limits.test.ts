/** protocol/limits.ts's UTF-8 count, which the core's body limit uses, against node's own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utf8ByteLength } from '../../protocol/limits';

test('utf8ByteLength counts as Buffer.byteLength does, lone surrogates included', () => {
  const samples = ['', 'a', 'hé', '€', '日本語', '😀', 'a😀b', '\ud800', '\udc00', '\ud800x', 'x\udbff', '\udc00\ud800', '\ud83d\ude00\ud83d', '\u007f\u0080\u07ff\u0800\uffff'];
  for (const s of samples) assert.equal(utf8ByteLength(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
  // Every unit, alone and after a high surrogate.
  for (let unit = 0; unit <= 0xffff; unit += 7) {
    const c = String.fromCharCode(unit);
    assert.equal(utf8ByteLength(c), Buffer.byteLength(c, 'utf8'), `U+${unit.toString(16)}`);
    assert.equal(utf8ByteLength('\ud83d' + c), Buffer.byteLength('\ud83d' + c, 'utf8'), `U+D83D U+${unit.toString(16)}`);
  }
});
