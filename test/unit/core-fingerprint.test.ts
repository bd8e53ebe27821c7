/** Every field of a send's content is part of its fingerprint: a resend that changes any of them is a conflict, never a duplicate. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { coreSendFingerprint, relaySendFingerprint, type SendContent } from '../../lib/node/send-fingerprint';
import type { SendFrame } from '../../protocol/relay';
import { canonicalJson } from '../support/canonical-json';

const base: Required<SendContent> = { to: 'bob', body: 'hi', reply_to: 'r1', request_id: 'q1' };

test('changing any one field changes the fingerprint', () => {
  const variants: SendContent[] = [
    { ...base, to: 'carol' },
    { ...base, body: 'hi!' },
    { ...base, reply_to: 'r2' },
    { ...base, reply_to: null },
    { ...base, request_id: 'q2' },
    { ...base, request_id: null },
  ];
  const all = new Set([coreSendFingerprint(base), ...variants.map(coreSendFingerprint)]);
  assert.equal(all.size, variants.length + 1);
});

test('it is the SHA-256 of the canonical JSON of all four fields', () => {
  const contents: SendContent[] = [base, { to: 'bob', body: 'x' }, { to: 'b', body: '"\n\u2028', reply_to: null, request_id: 'q' }];
  for (const content of contents) {
    const full = { to: content.to, body: content.body, reply_to: content.reply_to ?? null, request_id: content.request_id ?? null };
    assert.equal(coreSendFingerprint(content), createHash('sha256').update(canonicalJson(full)).digest('hex'));
  }
});

test("the relay's fingerprint also covers every field", () => {
  const message: SendFrame['message'] = { id: 'i', client_message_id: 'c', created_at: 't', to: 'bob', body: 'hi', reply_to: 'r1', request_id: 'q1' };
  const variants = [{ to: 'carol' }, { body: 'hi!' }, { reply_to: null }, { reply_to: 'r2' }, { request_id: null }, { request_id: 'q2' }];
  const all = new Set([relaySendFingerprint(message), ...variants.map((v) => relaySendFingerprint({ ...message, ...v }))]);
  assert.equal(all.size, variants.length + 1);
  const retried: SendFrame['message'] = { ...message, id: 'other', client_message_id: 'other', created_at: 'other' };
  assert.equal(relaySendFingerprint(retried), relaySendFingerprint(message), 'ids and times are not content');
});

// Stores and relays already hold these values: a send retried after an upgrade must still match.
test('the stored fingerprints of a fixed send are unchanged, on both sides', () => {
  const full: SendContent = { to: 'bob', body: 'hi "there"\n\u2028é', reply_to: 'r1', request_id: null };
  const plain: SendContent = { to: 'bob', body: 'hi' };
  assert.equal(coreSendFingerprint(full), 'fa2d37d7486da7fba6fef70eae013ecd9adaffdbde0bfb7248f7ddbe63bd788c');
  assert.equal(coreSendFingerprint(plain), '01ecede0cd1db8af7d2f3d05bb8f5357830a2d70dc928adf55d1136f5b27623a');
  const frame = { id: 'i', client_message_id: 'c', created_at: 't' };
  const fullFrame: SendFrame['message'] = { ...frame, to: 'bob', body: 'hi "there"\n\u2028é', reply_to: 'r1', request_id: null };
  const plainFrame: SendFrame['message'] = { ...frame, to: 'bob', body: 'hi', reply_to: null, request_id: null };
  assert.equal(relaySendFingerprint(fullFrame), 'f63e14e9f8ce65e1a829b8a75f1f2da5b51fac72ee880e8e65f56cd7a4b07796');
  assert.equal(relaySendFingerprint(plainFrame), 'd831cb80fae1515cda5c6b9f89eed0b2baf7d93582d692c56e3535ca7decb794');
  assert.equal(relaySendFingerprint(plain), relaySendFingerprint({ ...plain, reply_to: null, request_id: null }), 'absent is null');
});
