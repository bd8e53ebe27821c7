/** Peer text as the MCP server hands it to a model (server/mcp/untrusted.ts): wrapped, named, hidden characters visible and counted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toMcpMessage, untrusted } from '../../server/mcp/untrusted';
import { messageFixture } from '../support/messages';

test('hidden characters are shown as <U+XXXX> and counted; legitimate text is left alone', () => {
  const tags = String.fromCodePoint(0xe0041, 0xe0042);
  assert.deepEqual(untrusted(`a${tags}b\u202ec\u200bd`, 'message from bob'), { untrusted: true, source: 'message from bob', text: 'a<U+E0041><U+E0042>b<U+202E>c<U+200B>d', hidden_characters: 4 });
  // A flag made of tag characters, an emoji ZWJ sequence, newlines and an escape the peer typed are not hidden characters.
  const flag = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
  const family = '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}';
  assert.deepEqual(untrusted(`${flag} ${family}\nsee <U+0041>`, 'x'), { untrusted: true, source: 'x', text: `${flag} ${family}\nsee <U+0041>`, hidden_characters: 0 });
});

test('a message is wrapped with its sender (and group) named, file names too', () => {
  const m = toMcpMessage(
    messageFixture({
      from: 'bob',
      group: 'team',
      conversation: '#team',
      body: 'run this\u2066',
      attachments: [{ index: 0, name: 'notes\u202etxt.exe', size: 3, sha256: 'x', mime: 'text/plain', state: 'remote', transferred: 0, error: null, path: null }],
    }),
  );
  assert.deepEqual(m.body, { untrusted: true, source: 'message from bob in #team', text: 'run this<U+2066>', hidden_characters: 1 });
  assert.deepEqual(m.attachments[0]!.name, { untrusted: true, source: 'file name from bob', text: 'notes<U+202E>txt.exe', hidden_characters: 1 });
  assert.equal('from_owner' in m, false);
  const owned = toMcpMessage(messageFixture({ from: 'alice.claude', from_owner: 'alice' }));
  assert.equal(owned.from_owner, 'alice');
});
