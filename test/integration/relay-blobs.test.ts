/**
 * Files on the relay (protocol v3), against a real relay on 127.0.0.1 with raw frame-level
 * clients: upload and download verified by hash, resume after a kill -9 of the relay process
 * and from an offset, dedup with proof, the refusals, access, what a v2 device is sent, quotas,
 * deletion once every recipient device took a blob, and deliveries interleaved with a download.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { BLOB_CHUNK_BYTES, BLOB_WINDOW_BYTES, BlobChunkKind, encodeBlobChunk } from '../../protocol/files';
import {
  RELAY_PROTOCOL_V2,
  RELAY_PROTOCOL_V3,
  type BlobRefusedFrame,
  type BlobStatusFrame,
  type DeliverFrameV3,
  type WireAttachment,
} from '../../protocol/relay';
import { addTestUser, makeTempDir, RawRelayClient, RelayWorlds, spawnRelay } from '../support/relay';

const worlds = new RelayWorlds();
const { dirs, clients, world } = worlds;
afterEach(() => worlds.closeAll());
after(() => worlds.removeDirs());

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function login(w: { url: string; tokens: Record<string, string> }, user: string, device = `${user}-laptop`, version = RELAY_PROTOCOL_V3): Promise<RawRelayClient> {
  return worlds.login(w, user, device, 0, version);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

let requests = 0;

/** Removes and returns the first blob_status / blob_refused about `sha` (waiting for one). */
async function nextBlobAnswer(client: RawRelayClient, sha: string): Promise<BlobStatusFrame | BlobRefusedFrame> {
  const match = (f: (typeof client.frames)[number]): boolean => (f.type === 'blob_status' || f.type === 'blob_refused') && f.sha256 === sha;
  await client.until(() => client.frames.some(match), `a blob answer about ${sha.slice(0, 8)}`);
  const index = client.frames.findIndex(match);
  return client.frames.splice(index, 1)[0] as BlobStatusFrame | BlobRefusedFrame;
}

function putChunk(client: RawRelayClient, sha: string, offset: number, data: Uint8Array): void {
  client.sendBinary(encodeBlobChunk({ kind: BlobChunkKind.Put, sha256: sha, offset, data }));
}

interface UploadResult {
  /** The answer to blob_begin. */
  first: BlobStatusFrame | BlobRefusedFrame;
  /** The last answer (complete, a refusal, or the last ack when stopped early). */
  last: BlobStatusFrame | BlobRefusedFrame;
  /** Payload bytes sent in Put chunks. */
  sent: number;
}

/**
 * Uploads as a core does: blob_begin, then chunks from `have`, never more than the window past
 * the last acknowledgement. `stopAfter`: stop sending once that many bytes were sent (and one ack seen).
 */
async function upload(client: RawRelayClient, data: Buffer, options: { sha?: string; stopAfter?: number } = {}): Promise<UploadResult> {
  const sha = options.sha ?? sha256(data);
  client.send({ type: 'blob_begin', request_id: `b${++requests}`, sha256: sha, size: data.length });
  const first = await nextBlobAnswer(client, sha);
  if (first.type === 'blob_refused' || first.state === 'complete') return { first, last: first, sent: 0 };
  let acked = first.have;
  let offset = first.have;
  let sent = 0;
  let last: BlobStatusFrame | BlobRefusedFrame = first;
  while (offset < data.length) {
    while (offset < data.length && offset - acked < BLOB_WINDOW_BYTES) {
      const n = Math.min(BLOB_CHUNK_BYTES, data.length - offset);
      putChunk(client, sha, offset, data.subarray(offset, offset + n));
      offset += n;
      sent += n;
    }
    last = await nextBlobAnswer(client, sha);
    if (last.type === 'blob_refused' || last.state === 'complete') return { first, last, sent };
    acked = last.have;
    if (options.stopAfter !== undefined && sent >= options.stopAfter) return { first, last, sent };
  }
  while (last.type === 'blob_status' && last.state !== 'complete') last = await nextBlobAnswer(client, sha);
  return { first, last, sent };
}

/** blob_get from `offset`; the Data chunks that came for it, joined, and how it ended. */
async function download(client: RawRelayClient, sha: string, offset = 0): Promise<{ bytes: Buffer; end: BlobStatusFrame | BlobRefusedFrame; firstOffset: number | undefined }> {
  const from = client.chunks.length;
  client.send({ type: 'blob_get', request_id: `g${++requests}`, sha256: sha, offset });
  const end = await nextBlobAnswer(client, sha);
  const chunks = client.chunks.slice(from).filter((c) => c.sha256 === sha);
  let expected = offset;
  for (const chunk of chunks) {
    assert.equal(chunk.kind, BlobChunkKind.Data);
    assert.equal(chunk.offset, expected, 'chunks arrive in order, contiguous');
    expected += chunk.data.byteLength;
  }
  return { bytes: Buffer.concat(chunks.map((c) => c.data)), end, firstOffset: chunks[0]?.offset };
}

function attachment(data: Buffer, name = 'report.bin', mime = 'application/octet-stream'): WireAttachment {
  return { sha256: sha256(data), size: data.length, name, mime };
}

async function sendWith(client: RawRelayClient, to: string, cmid: string, attachments: WireAttachment[], body = 'see attached') {
  client.sendMessage(to, body, cmid, { attachments });
  return client.next('verdict');
}

async function nextMessage(client: RawRelayClient): Promise<DeliverFrameV3> {
  for (;;) {
    const frame = await client.next('deliver');
    client.send({ type: 'ack', seq: frame.seq });
    if (frame.item.kind === 'message') return frame as DeliverFrameV3;
  }
}

test('upload, send, download: the bytes come back verified, and welcome announces max_file_bytes to v3 only', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob'], { maxFileBytes: 8 * MiB });
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const data = randomBytes(3 * MiB + 12345);
  const up = await upload(alice, data);
  assert.equal(up.first.type === 'blob_status' && up.first.have, 0);
  assert.equal(up.last.type === 'blob_status' && up.last.state, 'complete');
  assert.equal(up.sent, data.length, 'every byte sent once');
  const verdict = await sendWith(alice, 'bob', 'c1', [attachment(data)]);
  assert.equal(verdict.result, 'accepted');
  const delivered = await nextMessage(bob);
  assert.deepEqual(delivered.item.kind === 'message' && delivered.item.message.attachments, [attachment(data)]);
  const got = await download(bob, sha256(data));
  assert.equal(got.end.type === 'blob_status' && got.end.state, 'complete');
  assert.equal(sha256(got.bytes), sha256(data));
  // The blob is a content-addressed file under the data dir.
  assert.ok(existsSync(join(w.dataDir, 'blobs', sha256(data).slice(0, 2), sha256(data))));

  const v3 = await RawRelayClient.open(w.url);
  clients.push(v3);
  v3.send({ type: 'hello', v: RELAY_PROTOCOL_V3, user: 'bob', token: w.tokens.bob!, device: 'bob-x', cursor: 0 });
  const welcome = await v3.next('welcome');
  assert.equal((welcome as { max_file_bytes?: number }).max_file_bytes, 8 * MiB);
  const v2 = await RawRelayClient.open(w.url);
  clients.push(v2);
  v2.send({ type: 'hello', v: RELAY_PROTOCOL_V2, user: 'bob', token: w.tokens.bob!, device: 'bob-y', cursor: 0 });
  assert.equal('max_file_bytes' in (await v2.next('welcome')), false);
});

test('an upload cut by kill -9 of the relay resumes from what the relay holds; bytes sent twice stay within the window', { timeout: 120_000 }, async () => {
  const dir = makeTempDir();
  dirs.push(dir);
  const tokens = { alice: await addTestUser(dir.path, 'alice'), bob: await addTestUser(dir.path, 'bob') };
  let relay = await spawnRelay(['--data', dir.path], { entry: 'source' });
  const data = randomBytes(8 * MiB);
  const sha = sha256(data);
  let alice = await login({ url: relay.url, tokens }, 'alice');
  const partial = await upload(alice, data, { stopAfter: 4 * MiB });
  assert.equal(partial.last.type === 'blob_status' && partial.last.state, 'partial');
  relay.kill('SIGKILL');
  await relay.exited;
  await alice.closed;
  relay = await spawnRelay(['--data', dir.path], { entry: 'source', port: relay.port });
  alice = await login({ url: relay.url, tokens }, 'alice');
  const resumed = await upload(alice, data);
  assert.equal(resumed.first.type, 'blob_status');
  const have = resumed.first.type === 'blob_status' ? resumed.first.have : -1;
  assert.ok(have > 0, 'the relay kept what it had written');
  assert.ok(partial.sent - have <= BLOB_WINDOW_BYTES, `re-sent ${partial.sent - have} bytes, more than the window`);
  assert.equal(partial.sent + resumed.sent - data.length, partial.sent - have);
  assert.equal(resumed.last.type === 'blob_status' && resumed.last.state, 'complete');
  assert.equal((await sendWith(alice, 'bob', 'k1', [attachment(data)])).result, 'accepted');
  const bob = await login({ url: relay.url, tokens }, 'bob');
  const got = await download(bob, sha);
  assert.equal(sha256(got.bytes), sha, 'the resumed file is the file');
});

test('a download resumes from an offset', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const data = randomBytes(MiB + 777);
  await upload(alice, data);
  await sendWith(alice, 'bob', 'c1', [attachment(data)]);
  const offset = 300_001;
  const got = await download(bob, sha256(data), offset);
  assert.equal(got.firstOffset, offset);
  assert.ok(got.bytes.equals(data.subarray(offset)));
  const none = await download(bob, sha256(data), data.length);
  assert.equal(none.end.type === 'blob_status' && none.end.state, 'complete');
  assert.equal(none.bytes.length, 0);
});

test('dedup with proof: the uploader is complete at once; another user must upload the bytes, and knowing the hash grants nothing', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob', 'mallory']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const mallory = await login(w, 'mallory');
  const data = randomBytes(MiB);
  const sha = sha256(data);
  await upload(alice, data);
  const again = await upload(alice, data);
  assert.equal(again.first.type === 'blob_status' && again.first.state, 'complete');
  assert.equal(again.sent, 0);
  // Mallory knows the hash only: she is asked for the bytes and may not fetch the file.
  mallory.send({ type: 'blob_begin', request_id: 'm', sha256: sha, size: data.length });
  const claim = await nextBlobAnswer(mallory, sha);
  assert.equal(claim.type === 'blob_status' && claim.state, 'partial');
  assert.equal(claim.type === 'blob_status' && claim.have, 0);
  // Half the bytes are not a proof either.
  putChunk(mallory, sha, 0, data.subarray(0, BLOB_CHUNK_BYTES));
  await mallory.closeAndWait();
  const mallory2 = await login(w, 'mallory', 'mallory-2');
  const denied = await download(mallory2, sha);
  assert.equal(denied.end.type === 'blob_refused' && denied.end.code, 'forbidden');
  assert.equal((await sendWith(mallory2, 'bob', 'm1', [attachment(data)])).result, 'rejected');
  // Bob uploads the bytes himself: checked, then he may use the blob.
  const proof = await upload(bob, data);
  assert.equal(proof.sent, data.length);
  assert.equal(proof.last.type === 'blob_status' && proof.last.state, 'complete');
  assert.equal((await sendWith(bob, 'alice', 'b1', [attachment(data)])).result, 'accepted');
});

test('bytes that do not hash to the name are refused and discarded', { timeout: 60_000 }, async () => {
  const w = await world(['alice']);
  const alice = await login(w, 'alice');
  const claimed = randomBytes(400_000);
  const other = randomBytes(400_000);
  const up = await upload(alice, other, { sha: sha256(claimed) });
  assert.equal(up.last.type, 'blob_refused');
  assert.equal(up.last.type === 'blob_refused' && up.last.code, 'hash_mismatch');
  assert.equal(existsSync(join(w.dataDir, 'blobs', 'partial', 'alice', sha256(claimed))), false, 'the partial is gone');
  const get = await download(alice, sha256(claimed));
  assert.equal(get.end.type === 'blob_refused' && get.end.code, 'not_found');
  // The next attempt starts from 0.
  const retry = await upload(alice, claimed);
  assert.equal(retry.first.type === 'blob_status' && retry.first.have, 0);
  assert.equal(retry.last.type === 'blob_status' && retry.last.state, 'complete');
});

test('too large, bad offsets, a chunk with no upload: refused, the connection stays', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob'], { maxFileBytes: MiB });
  const alice = await login(w, 'alice');
  const big = randomBytes(MiB + 1);
  const tooLarge = await upload(alice, big);
  assert.equal(tooLarge.first.type === 'blob_refused' && tooLarge.first.code, 'too_large');
  assert.equal(tooLarge.first.type === 'blob_refused' && tooLarge.first.retryable, false);
  // A send naming a file over the limit is not retryable either.
  const verdict = await sendWith(alice, 'bob', 'c1', [attachment(big)]);
  assert.equal(verdict.result === 'rejected' && verdict.code, 'bad_attachment');

  const data = randomBytes(500_000);
  const sha = sha256(data);
  alice.send({ type: 'blob_begin', request_id: 'r1', sha256: sha, size: data.length });
  assert.equal((await nextBlobAnswer(alice, sha)).type, 'blob_status');
  putChunk(alice, sha, 100, data.subarray(100, 200));
  const refused = await nextBlobAnswer(alice, sha);
  assert.equal(refused.type === 'blob_refused' && refused.code, 'bad_offset');
  const stray = randomBytes(10);
  putChunk(alice, sha256(stray), 0, stray);
  const noUpload = await nextBlobAnswer(alice, sha256(stray));
  assert.equal(noUpload.type === 'blob_refused' && noUpload.code, 'bad_offset');
  // Beginning again recovers.
  const up = await upload(alice, data);
  assert.equal(up.last.type === 'blob_status' && up.last.state, 'complete');
});

test('binary frames: on a v2 connection, or malformed on v3, the connection is closed as a protocol error', { timeout: 60_000 }, async () => {
  const w = await world(['alice']);
  const v2 = await login(w, 'alice', 'old', RELAY_PROTOCOL_V2);
  const data = randomBytes(10);
  v2.sendBinary(encodeBlobChunk({ kind: BlobChunkKind.Put, sha256: sha256(data), offset: 0, data }));
  assert.equal((await v2.closed).code, 4002);
  const v3 = await login(w, 'alice', 'new');
  v3.sendBinary(new Uint8Array([1, 2, 3]));
  assert.equal((await v3.closed).code, 4002);
  const before = await RawRelayClient.open(w.url);
  clients.push(before);
  before.sendBinary(encodeBlobChunk({ kind: BlobChunkKind.Put, sha256: sha256(data), offset: 0, data }));
  assert.equal((await before.closed).code, 4002);
});

test('a core far past the window is closed as a hostile peer', { timeout: 60_000 }, async () => {
  const w = await world(['alice']);
  const alice = await login(w, 'alice');
  const data = randomBytes(8 * MiB);
  const sha = sha256(data);
  alice.send({ type: 'blob_begin', request_id: 'r1', sha256: sha, size: data.length });
  await nextBlobAnswer(alice, sha);
  for (let offset = 0; offset < data.length; offset += BLOB_CHUNK_BYTES) putChunk(alice, sha, offset, data.subarray(offset, offset + BLOB_CHUNK_BYTES));
  assert.equal((await alice.closed).code, 4002);
});

test('access: not_found for an unknown blob, forbidden for one not sent to you; the recipient may', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob', 'carol']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const carol = await login(w, 'carol');
  const data = randomBytes(1000);
  const unknown = await download(bob, sha256(data));
  assert.equal(unknown.end.type === 'blob_refused' && unknown.end.code, 'not_found');
  await upload(alice, data);
  const before = await download(bob, sha256(data));
  assert.equal(before.end.type === 'blob_refused' && before.end.code, 'forbidden');
  await sendWith(alice, 'bob', 'c1', [attachment(data)]);
  const after = await download(bob, sha256(data));
  assert.ok(after.bytes.equals(data));
  const other = await download(carol, sha256(data));
  assert.equal(other.end.type === 'blob_refused' && other.end.code, 'forbidden');
});

test('a send naming a blob not uploaded is rejected blob_missing (retryable), and goes once it is', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const data = randomBytes(2000);
  const missing = await sendWith(alice, 'bob', 'c1', [attachment(data)]);
  assert.equal(missing.result, 'rejected');
  assert.equal(missing.result === 'rejected' && missing.code, 'blob_missing');
  assert.equal(missing.result === 'rejected' && missing.retryable, true);
  await upload(alice, data);
  assert.equal((await sendWith(alice, 'bob', 'c1', [attachment(data)])).result, 'accepted');
  // A size that is not the blob's is not retryable.
  const wrong = await sendWith(alice, 'bob', 'c2', [{ ...attachment(data), size: 1999 }]);
  assert.equal(wrong.result === 'rejected' && wrong.code, 'bad_attachment');
});

test('a v2 device is not sent a message with files; a v3 device of the same user is, and so are the sender\u2019s other v3 devices', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const alicePhone = await login(w, 'alice', 'alice-phone');
  const oldBob = await login(w, 'bob', 'bob-old', RELAY_PROTOCOL_V2);
  const newBob = await login(w, 'bob', 'bob-new');
  const data = randomBytes(5000);
  await upload(alice, data);
  assert.equal((await sendWith(alice, 'bob', 'c1', [attachment(data)])).result, 'accepted');
  alice.sendMessage('bob', 'plain', 'c2');
  await alice.next('verdict');
  const first = await nextMessage(newBob);
  assert.equal(first.item.kind === 'message' && first.item.message.attachments?.length, 1);
  assert.equal((await nextMessage(newBob)).item.kind === 'message' && 'plain', 'plain');
  const old = await nextMessage(oldBob);
  assert.equal(old.item.kind === 'message' && old.item.message.body, 'plain', 'the v2 device gets the plain message only');
  assert.equal(await oldBob.quietFor('deliver', 300), true);
  const copy = await nextMessage(alicePhone);
  assert.equal(copy.item.kind === 'message' && copy.item.message.attachments?.[0]?.sha256, sha256(data));
  // The sender's other device may fetch what it sent.
  assert.ok((await download(alicePhone, sha256(data))).bytes.equals(data));
});

test('group sends with files: each member may fetch it', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob', 'carol']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const carol = await login(w, 'carol');
  alice.send({ type: 'group_create', request_id: 'g', group: 'team', members: ['bob', 'carol'] });
  assert.equal((await alice.next('group_verdict')).result, 'ok');
  const data = randomBytes(300_000);
  await upload(alice, data);
  assert.equal((await sendWith(alice, '#team', 'c1', [attachment(data)])).result, 'accepted');
  for (const member of [bob, carol]) {
    const message = await nextMessage(member);
    assert.equal(message.item.kind === 'message' && message.item.message.attachments?.length, 1);
    assert.ok((await download(member, sha256(data))).bytes.equals(data));
  }
});

test('file bytes count against the recipient quota', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob'], { quotaBytes: 3 * MiB });
  const alice = await login(w, 'alice');
  const data = randomBytes(2 * MiB);
  await upload(alice, data);
  assert.equal((await sendWith(alice, 'bob', 'c1', [attachment(data)])).result, 'accepted');
  const second = await sendWith(alice, 'bob', 'c2', [attachment(data)]);
  assert.equal(second.result === 'rejected' && second.code, 'quota');
  assert.equal(second.result === 'rejected' && second.retryable, true);
  // Once bob's device acks the first, the room is back.
  const bob = await login(w, 'bob');
  await nextMessage(bob);
  // The ack commits in the relay's write queue: retry (bounded) until it has.
  let third = await sendWith(alice, 'bob', 'c3', [attachment(data)]);
  for (let i = 0; i < 100 && third.result === 'rejected'; i++) {
    await sleep(50);
    third = await sendWith(alice, 'bob', 'c3', [attachment(data)]);
  }
  assert.equal(third.result, 'accepted');
});

test('a blob is deleted once every recipient device has said blob_done', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const laptop = await login(w, 'bob', 'bob-laptop');
  const phone = await login(w, 'bob', 'bob-phone');
  const data = randomBytes(200_000);
  const sha = sha256(data);
  const path = join(w.dataDir, 'blobs', sha.slice(0, 2), sha);
  await upload(alice, data);
  await sendWith(alice, 'bob', 'c1', [attachment(data)]);
  await nextMessage(laptop);
  assert.ok((await download(laptop, sha)).bytes.equals(data));
  laptop.send({ type: 'blob_done', sha256: sha });
  // Ordered after the blob_done on the same connection: answered once it was handled.
  laptop.send({ type: 'ping', t: 1 });
  await laptop.next('pong');
  assert.equal(existsSync(path), true, 'the phone has not taken it yet');
  assert.ok((await download(phone, sha)).bytes.equals(data));
  phone.send({ type: 'blob_done', sha256: sha });
  // The deletion follows the commit of the blob_done: a bounded wait for it.
  for (let i = 0; i < 200 && existsSync(path); i++) await sleep(50);
  assert.equal(existsSync(path), false, 'the file is gone');
  const gone = await download(phone, sha);
  assert.equal(gone.end.type === 'blob_refused' && gone.end.code, 'not_found');
});

test('a message sent while a download streams is delivered before the download ends', { timeout: 60_000 }, async () => {
  // A slow-consumer cap well below the file: a download that did not pace itself would be dropped by it.
  const w = await world(['alice', 'bob'], { maxFileBytes: 64 * MiB, maxPendingBytes: 4 * MiB });
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  // More than loopback's socket buffers take from a reader that stopped (tens of MiB here) plus the cap.
  const data = randomBytes(48 * MiB);
  const sha = sha256(data);
  await upload(alice, data);
  await sendWith(alice, 'bob', 'c1', [attachment(data)]);
  await nextMessage(bob);
  // Bob stops reading after the first chunk: the relay's buffers fill and the download waits.
  let paused = false;
  bob.onChunk = () => {
    if (paused) return;
    paused = true;
    bob.socket.pause();
  };
  bob.send({ type: 'blob_get', request_id: 'dl', sha256: sha, offset: 0 });
  await bob.until(() => paused, 'the first chunk');
  alice.sendMessage('bob', 'meanwhile', 'c2');
  assert.equal((await alice.next('verdict')).result, 'accepted');
  // Not a timing assertion: time for a download that ignored the socket's backlog to overrun the cap.
  await sleep(500);
  bob.socket.resume();
  const end = await nextBlobAnswer(bob, sha);
  assert.equal(end.type === 'blob_status' && end.state, 'complete');
  const orderAt = bob.order.lastIndexOf('deliver:message');
  const endAt = bob.order.lastIndexOf('blob_status');
  assert.ok(orderAt >= 0 && orderAt < endAt, 'the message came before the download ended');
  assert.ok(bob.order.slice(orderAt).includes('chunk'), 'chunks were still streaming after it');
  assert.equal(sha256(Buffer.concat(bob.chunks.filter((c) => c.sha256 === sha).map((c) => c.data))), sha);
});

test('retention: a message that expires takes its blob with it; a blob never sent and a partial abandoned go too', { timeout: 60_000 }, async () => {
  const w = await world(['alice', 'bob'], { retentionMs: 400, dedupeWindowMs: 400 });
  const alice = await login(w, 'alice');
  const sent = randomBytes(100_000);
  const unsent = randomBytes(100_000);
  const abandoned = randomBytes(3 * MiB);
  const path = (data: Buffer): string => join(w.dataDir, 'blobs', sha256(data).slice(0, 2), sha256(data));
  const partialPath = join(w.dataDir, 'blobs', 'partial', 'alice', sha256(abandoned));
  await upload(alice, sent);
  await upload(alice, unsent);
  await upload(alice, abandoned, { stopAfter: 1 });
  await alice.closeAndWait();
  const alice2 = await login(w, 'alice', 'alice-2');
  assert.equal((await sendWith(alice2, 'bob', 'c1', [attachment(sent)])).result, 'accepted');
  // Bob never connects: the message expires and alice is told.
  for (;;) {
    const frame = await alice2.next('deliver');
    if (frame.item.kind === 'expired') break;
  }
  for (let i = 0; i < 200 && (existsSync(path(sent)) || existsSync(path(unsent)) || existsSync(partialPath)); i++) await sleep(50);
  assert.equal(existsSync(path(sent)), false, 'the expired message no longer keeps its blob');
  assert.equal(existsSync(path(unsent)), false, 'a blob never sent goes after the retention');
  assert.equal(existsSync(partialPath), false, 'an abandoned partial goes after the retention');
});

test('relay serve --max-file-bytes is what welcome announces and what uploads are held to', { timeout: 60_000 }, async () => {
  const dir = makeTempDir();
  dirs.push(dir);
  const token = await addTestUser(dir.path, 'alice');
  const relay = await spawnRelay(['--data', dir.path, '--max-file-bytes', '1MiB'], { entry: 'source' });
  const client = await RawRelayClient.open(relay.url);
  clients.push(client);
  client.send({ type: 'hello', v: RELAY_PROTOCOL_V3, user: 'alice', token, device: 'd', cursor: 0 });
  assert.equal((await client.next('welcome') as { max_file_bytes?: number }).max_file_bytes, MiB);
  const refused = await upload(client, randomBytes(MiB + 1));
  assert.equal(refused.first.type === 'blob_refused' && refused.first.code, 'too_large');
});
