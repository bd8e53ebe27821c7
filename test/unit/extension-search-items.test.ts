/** Find in Messages' rows (extension/searchItems.ts) and Send Selection's line range (lib/file-refs.ts selectedLines). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectedLines } from '../../lib/file-refs';
import { matchExcerpt, queryWords, searchItem } from '../../extension/searchItems';
import { messageFixture } from '../support/messages';

const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('Find in Messages rows', () => {
  it('says sender, conversation, time and the matched words, and where to open', () => {
    const m = messageFixture({ id: 'm9', from: 'bob', conversation: 'bob', body: 'the Deploy failed on staging again', created_at: '2026-11-24T11:55:00Z' });
    assert.deepEqual(searchItem(m, 'deploy STAGING nothing', NOW), { label: 'bob in bob', description: '5m ago · deploy, staging', detail: 'the Deploy failed on staging again', id: 'm9', conversation: 'bob' });
    const g = messageFixture({ from: 'carol', conversation: '#team', group: 'team', body: 'deploy', created_at: '2026-11-24T11:59:00Z' });
    assert.equal(searchItem(g, 'deploy', NOW).label, 'carol in #team');
    const out = messageFixture({ direction: 'out', from: 'me', to: 'dave', conversation: 'dave', body: 'deploy', created_at: '2026-11-24T11:59:00Z' });
    assert.equal(searchItem(out, 'deploy', NOW).label, 'you → dave');
  });

  it('shows the words around a match deep in a long body', () => {
    const body = `${'x '.repeat(300)}the needle is here ${'y '.repeat(300)}`;
    const { words, excerpt } = matchExcerpt(body, 'needle', 60);
    assert.deepEqual(words, ['needle']);
    assert.match(excerpt, /^….*the needle is here.*…$/);
    assert.ok(excerpt.length <= 62);
  });

  it('keeps peer text from acting in the quick pick: no links, no icons, no hidden characters', () => {
    const m = messageFixture({ from: '[x](command:evil) $(alert)', conversation: 'mallory', body: 'click [here](command:workbench.action.terminal.new) $(zap)\u202e', created_at: '2026-11-24T11:59:00Z' });
    const item = searchItem(m, 'click', NOW);
    for (const text of [item.label, item.detail, item.description]) {
      assert.doesNotMatch(text, /\]\(/);
      assert.doesNotMatch(text, /(?<!\\)\$\(/);
      assert.doesNotMatch(text, /\u202e/);
    }
    assert.match(item.detail, /<U\+202E>/);
  });

  it('splits the query as the core does', () => {
    assert.deepEqual(queryWords('  Foo  bar foo '), ['foo', 'bar']);
  });
});

describe('selectedLines', () => {
  it('takes whole lines, 1-based, and not the line a selection ends at column 0 of', () => {
    assert.deepEqual(selectedLines({ start: { line: 9 }, end: { line: 19, character: 4 } }), { start: 10, end: 20 });
    assert.deepEqual(selectedLines({ start: { line: 9 }, end: { line: 20, character: 0 } }), { start: 10, end: 20 });
    assert.deepEqual(selectedLines({ start: { line: 4 }, end: { line: 4, character: 0 } }), { start: 5, end: 5 }, 'a cursor: its line');
  });
});
