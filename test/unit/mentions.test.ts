/** `@name` mentions as the sender's core computes them from a body (lib/mentions.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mentionsIn } from '../../lib/mentions';

test('names after @ under the user-name rule, canonical, each once, in order of first mention', () => {
  assert.deepEqual(mentionsIn('@Bob look, @carol and @BOB again'), ['bob', 'carol']);
  assert.deepEqual(mentionsIn('@a.b_c-d: yes'), ['a.b_c-d']);
  assert.deepEqual(mentionsIn('(@dave) [@erin] "@frank"'), ['dave', 'erin', 'frank']);
  assert.deepEqual(mentionsIn('@9lives'), ['9lives']);
});

test("punctuation a sentence puts after a name is not part of it", () => {
  assert.deepEqual(mentionsIn('thanks @carol. and @dave-, @erin_!'), ['carol', 'dave', 'erin']);
});

test('an address or anything glued before the @ names nobody, nor does a name breaking the rule', () => {
  assert.deepEqual(mentionsIn('mail me@host.org or x@y'), []);
  assert.deepEqual(mentionsIn('@@bob @-bob @.bob @ bob @'), []);
  assert.deepEqual(mentionsIn(`@${'a'.repeat(65)} @${'b'.repeat(64)}`), ['b'.repeat(64)]);
  assert.deepEqual(mentionsIn('#team is not @'), []);
});
