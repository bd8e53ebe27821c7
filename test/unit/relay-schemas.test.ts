import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCoreFrame, parseRelayFrame } from '../../protocol/relay-schemas';

const message = { id: 'm1', client_message_id: 'c1', to: 'bob', body: 'hi', reply_to: null, request_id: null, created_at: '2025-01-01T00:00:00Z' };

test('core frames: every valid frame parses', () => {
  for (const frame of [
    { type: 'hello', v: 1, user: 'alice', token: 't', device: 'd1', cursor: 0 },
    { type: 'send', message },
    { type: 'ack', seq: 12 },
    { type: 'ping', t: 5 },
  ]) {
    const result = parseCoreFrame(JSON.stringify(frame));
    assert.equal(result.ok, true, JSON.stringify(result));
    if (result.ok) assert.deepEqual(result.frame, frame);
  }
});

test('core frames: malformed input is reported, never thrown', () => {
  const cases: [string, RegExp][] = [
    ['{not json', /invalid JSON/],
    [JSON.stringify({ type: 'nope' }), /invalid frame/],
    [JSON.stringify({ type: 'ack', seq: -1 }), /seq/],
    [JSON.stringify({ type: 'ack', seq: 1.5 }), /seq/],
    [JSON.stringify({ type: 'hello', v: 1, user: 'a', device: 'd', cursor: 0 }), /token/],
    [JSON.stringify({ type: 'send', message: { ...message, body: 7 } }), /message\.body/],
    [JSON.stringify({ type: 'send', message: { ...message, client_message_id: '' } }), /client_message_id/],
    [JSON.stringify([1, 2]), /invalid frame/],
    ['null', /invalid frame/],
  ];
  for (const [text, expected] of cases) {
    const result = parseCoreFrame(text);
    assert.equal(result.ok, false, text);
    if (!result.ok) assert.match(result.error, expected, text);
  }
});

test('core frames: a relay-only frame is not a core frame', () => {
  assert.equal(parseCoreFrame(JSON.stringify({ type: 'pong', t: 1 })).ok, false);
});

test('relay frames: every variant parses, including each verdict result and delivery kind', () => {
  const wire = { ...message, from: 'alice' };
  for (const frame of [
    { type: 'welcome', v: 1, user: 'a', device: 'd', heartbeat_ms: 1000, max_body_bytes: 10 },
    { type: 'verdict', result: 'accepted', client_message_id: 'c', id: 'i', server_id: 's', seq: 1 },
    { type: 'verdict', result: 'duplicate', client_message_id: 'c', id: 'i', server_id: 's', original_id: 'o' },
    { type: 'verdict', result: 'rejected', client_message_id: 'c', id: 'i', reason: 'r', retryable: true },
    { type: 'deliver', seq: 3, item: { kind: 'message', server_id: 's', message: wire } },
    { type: 'deliver', seq: 4, item: { kind: 'receipt', id: 'i', server_id: 's', by: 'bob', at: 'now' } },
    { type: 'ping', t: 1 },
    { type: 'pong', t: 1 },
    { type: 'error', code: 'unauthorized', message: 'no' },
  ]) {
    const result = parseRelayFrame(JSON.stringify(frame));
    assert.equal(result.ok, true, JSON.stringify(result));
    if (result.ok) assert.deepEqual(result.frame, frame);
  }
});

test('relay frames: a verdict missing its result-specific field is rejected', () => {
  assert.equal(parseRelayFrame(JSON.stringify({ type: 'verdict', result: 'accepted', client_message_id: 'c', id: 'i', server_id: 's' })).ok, false);
  assert.equal(parseRelayFrame(JSON.stringify({ type: 'verdict', result: 'rejected', client_message_id: 'c', id: 'i', reason: 'r' })).ok, false);
  assert.equal(parseRelayFrame(JSON.stringify({ type: 'error', code: 'teapot', message: 'x' })).ok, false);
  assert.equal(parseRelayFrame(JSON.stringify({ type: 'deliver', seq: 1, item: { kind: 'message', server_id: 's', message } })).ok, false, 'message without from');
});
