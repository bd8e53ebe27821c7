/**
 * Attachments in the store (migration 9) and the file store's snapshot: a message reads its
 * files with the verified path once ready, a blob turning ready serves every message naming it,
 * a message whose files are not at the relay yet is never claimed ahead of the others, and a
 * file over the limit is refused before anything is copied.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCodes } from '../../protocol/rpc';
import { FileStore } from '../../server/files/file-store';
import { CoreError } from '../../server/errors';
import { directStoreFields } from '../support/messages';
import { openTempStore } from '../support/store';

const store = openTempStore('sb-store-files-');
after(() => store.close());
const repo = store.repo;
const NOW = '2026-12-02T17:00:00.000Z';
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function message(id: string, direction: 'in' | 'out', attachments: { sha256: string; state: 'remote' | 'downloading' | 'ready' }[]) {
  repo.insertMessage({
    id,
    client_message_id: `c-${id}`,
    server_id: direction === 'in' ? `s-${id}` : null,
    conversation: 'bob',
    direction,
    from: direction === 'in' ? 'bob' : 'me',
    to: direction === 'in' ? 'me' : 'bob',
    body: '',
    reply_to: null,
    request_id: null,
    created_at: NOW,
    state: direction === 'in' ? 'received' : 'queued',
    read: direction === 'out',
    ...directStoreFields(direction),
    attachments: attachments.map((a, i) => ({ name: `f${i}.bin`, size: 10, sha256: a.sha256, mime: 'application/octet-stream', state: a.state })),
  });
}

describe('attachments in the store', () => {
  test('a message reads its files in order; path only once ready; a ready blob serves every message naming it', () => {
    message('in1', 'in', [{ sha256: SHA_A, state: 'downloading' }, { sha256: SHA_B, state: 'remote' }]);
    message('in2', 'in', [{ sha256: SHA_A, state: 'remote' }]);
    const m = repo.message('in1')!;
    assert.deepEqual(
      m.attachments.map((a) => [a.index, a.name, a.state, a.path]),
      [
        [0, 'f0.bin', 'downloading', null],
        [1, 'f1.bin', 'remote', null],
      ],
    );
    assert.deepEqual(repo.markBlobReady(SHA_A).sort(), ['in1', 'in2']);
    assert.deepEqual(repo.message('in2')!.attachments[0]!.path, join(store.home, 'files', SHA_A));
    assert.equal(repo.message('in1')!.attachments[0]!.transferred, 10);
    assert.equal(repo.message('in1')!.attachments[1]!.state, 'remote', 'another blob is untouched');
  });

  test('an outbound message whose files are not at the relay is not claimed, and holds nothing up; once uploaded it is', () => {
    message('out1', 'out', [{ sha256: SHA_B, state: 'ready' }]);
    repo.insertOutbox({ client_message_id: 'c-out1', id: 'out1', fingerprint: 'f1', now: NOW, inflight: false });
    message('out2', 'out', []);
    repo.insertOutbox({ client_message_id: 'c-out2', id: 'out2', fingerprint: 'f2', now: NOW, inflight: false });
    assert.deepEqual(repo.pendingOutbox(10).map((r) => r.id), ['out2']);
    assert.deepEqual(repo.uploadsDue(10).map((a) => a.message_id), ['out1']);
    assert.equal(repo.uploadsLeft('out1').n, 1);
    assert.deepEqual(repo.recordUploadComplete(SHA_B), ['out1']);
    assert.deepEqual(repo.pendingOutbox(10).map((r) => r.id), ['out1', 'out2']);
    assert.equal(repo.uploadsLeft('out1').n, 0);
  });
});

describe('FileStore.snapshot', () => {
  test('a file over the limit is refused with FileRefused before anything is copied', async () => {
    const files = new FileStore(join(store.home, 'files'));
    const path = join(store.home, 'eleven.bin');
    const bytes = Buffer.from('eleven byte');
    writeFileSync(path, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await assert.rejects(files.snapshot({ path, sha256, size: bytes.length }, 10), (error: unknown) => {
      assert.ok(error instanceof CoreError);
      assert.equal(error.code, ErrorCodes.FileRefused);
      assert.deepEqual(error.data, { kind: 'file', path });
      assert.match(error.message, /is 11 bytes, over the relay's limit of 10 bytes per file/);
      return true;
    });
    const stored = await files.snapshot({ path, sha256, size: bytes.length }, 11);
    assert.deepEqual({ ...stored }, { sha256, size: 11, name: 'eleven.bin', mime: 'application/octet-stream', created: true });
    assert.deepEqual(readdirSync(files.partialDir), [], 'no temporary copy stays');
  });
});
