/** Every field of a send's content is part of its fingerprint: a resend that changes any of them is a conflict, never a duplicate. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fingerprint, type SendContent } from '../../server/fingerprint';
import { sendFingerprint } from '../../relay/fingerprint';
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
  const all = new Set([fingerprint(base), ...variants.map(fingerprint)]);
  assert.equal(all.size, variants.length + 1);
});

test('it is the SHA-256 of the canonical JSON of all four fields', () => {
  const contents: SendContent[] = [base, { to: 'bob', body: 'x' }, { to: 'b', body: '"\n\u2028', reply_to: null, request_id: 'q' }];
  for (const content of contents) {
    const full = { to: content.to, body: content.body, reply_to: content.reply_to ?? null, request_id: content.request_id ?? null };
    assert.equal(fingerprint(content), createHash('sha256').update(canonicalJson(full)).digest('hex'));
  }
});

test("the relay's fingerprint also covers every field", () => {
  const message = { id: 'i', client_message_id: 'c', created_at: 't', to: 'bob', body: 'hi', reply_to: 'r1' as string | null, request_id: 'q1' as string | null };
  const variants = [{ to: 'carol' }, { body: 'hi!' }, { reply_to: null }, { reply_to: 'r2' }, { request_id: null }, { request_id: 'q2' }];
  const all = new Set([sendFingerprint(message), ...variants.map((v) => sendFingerprint({ ...message, ...v }))]);
  assert.equal(all.size, variants.length + 1);
  assert.equal(sendFingerprint({ ...message, id: 'other', client_message_id: 'other', created_at: 'other' }), sendFingerprint(message), 'ids and times are not content');
});
