/** Peer-controlled text never reaches a terminal raw, in human output or in JSON. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../protocol/rpc';
import { inert, inertJson, messageFull, messageLine } from '../../server/cli/format';

const hostile = 'a\u001b]0;pwned\u0007b\u009b31mc\u202ed\u200be\u007f';

test('inert escapes C0, C1, DEL, bidi and zero-width controls; multiline keeps newlines and tabs', () => {
  assert.equal(inert(hostile), 'a\\x1b]0;pwned\\x07b\\x9b31mc\\u202ed\\u200be\\x7f');
  assert.equal(inert('x\ny\tz'), 'x\\x0ay\\x09z');
  assert.equal(inert('x\ny\tz', true), 'x\ny\tz');
});

test('inertJson escapes what JSON.stringify leaves raw, and still parses to the same value', () => {
  const out = inertJson({ body: hostile });
  assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
  assert.deepEqual(JSON.parse(out), { body: hostile });
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
  };
  for (const text of [messageLine(m), messageFull(m)]) assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
  assert.match(messageFull(m), /\nsecond line$/);
});
