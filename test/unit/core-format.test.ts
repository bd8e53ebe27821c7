/** Peer-controlled text never reaches a terminal raw, in human output or in JSON. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../protocol/rpc';
import { inert, inertJson, messageFull, messageLine } from '../../server/cli/format';
import { directFields } from '../support/messages';

const hostile = 'a\u001b]0;pwned\u0007b\u009b31mc\u202ed\u200be\u007f';

test('inert shows C0, C1, DEL, bidi and zero-width controls as escapes; a body in `read` keeps newlines and tabs', () => {
  assert.equal(inert(hostile), 'a<U+001B>]0;pwned<U+0007>b<U+009B>31mc<U+202E>d<U+200B>e<U+007F>');
  assert.equal(inert('x\ny\tz'), 'x<U+000A>y<U+0009>z');
});

test('inertJson is valid JSON whose strings carry the safe text, so printing a field is safe too', () => {
  const out = inertJson({ body: `${hostile}\nline two\ttab`, n: 3 });
  assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
  const parsed = JSON.parse(out) as { body: string; n: number };
  assert.equal(parsed.body, 'a<U+001B>]0;pwned<U+0007>b<U+009B>31mc<U+202E>d<U+200B>e<U+007F>\nline two\ttab');
  assert.equal(parsed.n, 3);
});

test('every peer-controlled field of a message is neutralised in human output', () => {
  const m: Message = {
    id: `id${hostile}`,
    client_message_id: 'c',
    server_id: null,
    conversation: 'eve',
    direction: 'in',
    from: `eve${hostile}`,
    to: 'me',
    body: `body${hostile}\nsecond line`,
    reply_to: `r${hostile}`,
    request_id: `q${hostile}`,
    created_at: `2026-01-01T00:00${hostile}`,
    state: 'received',
    read: false,
    ...directFields('in'),
  };
  for (const text of [messageLine(m), messageFull(m)]) assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
  assert.match(messageFull(m), /\nsecond line$/);
});
