/** Protocol v3 (files) schemas: what a core may send about attachments and blobs, and what a v2 parser makes of it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ATTACHMENTS } from '../../protocol/files';
import { parseCoreFrameV2, parseCoreFrameV3, parseRelayFrameV3 } from '../../protocol/relay-schemas';

const sha = 'ab'.repeat(32);
const message = { id: 'm1', client_message_id: 'c1', to: 'bob', body: '', reply_to: null, request_id: null, created_at: '2025-01-01T00:00:00Z' };
const file = { sha256: sha, size: 10, name: 'report.pdf', mime: 'application/pdf' };
const send = (attachments: unknown[]): string => JSON.stringify({ type: 'send', message: { ...message, attachments } });

test('v3 core frames: blob frames and a send with attachments parse as sent', () => {
  for (const frame of [
    { type: 'send', message: { ...message, attachments: [file] } },
    { type: 'blob_begin', request_id: 'r', sha256: sha, size: 0 },
    { type: 'blob_get', request_id: 'r', sha256: sha, offset: 5 },
    { type: 'blob_done', sha256: sha },
    { type: 'blob_cancel', request_id: 'r' },
  ]) {
    const parsed = parseCoreFrameV3(JSON.stringify(frame));
    assert.equal(parsed.ok, true, JSON.stringify(parsed));
    if (parsed.ok) assert.deepEqual(parsed.frame, frame);
  }
});

test('attachments: names are 1..255 UTF-8 bytes without NUL, MIME types printable ASCII, at most MAX_ATTACHMENTS, hashes lowercase hex', () => {
  const ok = (attachments: unknown[]): boolean => parseCoreFrameV3(send(attachments)).ok;
  assert.equal(ok([{ ...file, name: 'a'.repeat(255) }]), true);
  assert.equal(ok([{ ...file, name: 'a'.repeat(256) }]), false);
  // 'é' is two bytes: 127 of them plus one ASCII byte is 255, one more is 257.
  assert.equal(ok([{ ...file, name: 'é'.repeat(127) + 'a' }]), true);
  assert.equal(ok([{ ...file, name: 'é'.repeat(128) }]), false);
  assert.equal(ok([{ ...file, name: '' }]), false);
  assert.equal(ok([{ ...file, name: 'a\u0000b' }]), false);
  assert.equal(ok([{ ...file, name: '../../.bashrc' }]), true, 'a hostile name is data: the writer sanitises it');
  assert.equal(ok([{ ...file, mime: 'text/plain\n' }]), false);
  assert.equal(ok([{ ...file, mime: 'x'.repeat(128) }]), false);
  assert.equal(ok([{ ...file, mime: '' }]), true);
  assert.equal(ok([{ ...file, sha256: sha.toUpperCase() }]), false);
  assert.equal(ok([{ ...file, sha256: sha.slice(1) }]), false);
  assert.equal(ok([{ ...file, size: -1 }]), false);
  assert.equal(ok([{ ...file, size: 1.5 }]), false);
  assert.equal(ok(Array.from({ length: MAX_ATTACHMENTS }, () => file)), true);
  assert.equal(ok(Array.from({ length: MAX_ATTACHMENTS + 1 }, () => file)), false);
});

test('a v2 parser does not see attachments or blob frames', () => {
  const parsed = parseCoreFrameV2(send([file]));
  assert.equal(parsed.ok, true);
  if (parsed.ok && parsed.frame.type === 'send') assert.equal('attachments' in parsed.frame.message, false);
  assert.equal(parseCoreFrameV2(JSON.stringify({ type: 'blob_done', sha256: sha })).ok, false);
});

test('v3 relay frames: welcome with max_file_bytes, blob_status, blob_refused, a delivery with attachments', () => {
  for (const frame of [
    { type: 'welcome', v: 3, user: 'bob', device: 'd', heartbeat_ms: 1000, max_body_bytes: 10, max_file_bytes: 100 },
    { type: 'blob_status', request_id: 'r', sha256: sha, size: 10, have: 4, state: 'partial' },
    { type: 'blob_refused', sha256: sha, code: 'bad_offset', reason: 'x', retryable: true },
    { type: 'deliver', seq: 1, item: { kind: 'message', server_id: 's', message: { ...message, from: 'alice', attachments: [file] } } },
  ]) {
    const parsed = parseRelayFrameV3(JSON.stringify(frame));
    assert.equal(parsed.ok, true, JSON.stringify(parsed));
    if (parsed.ok) assert.deepEqual(parsed.frame, frame);
  }
  assert.equal(parseRelayFrameV3(JSON.stringify({ type: 'blob_refused', sha256: sha, code: 'nope', reason: 'x', retryable: true })).ok, false);
});
