/**
 * Files against relays that are not the real one (issue 13): a small in-test WebSocket server
 * speaking the relay protocol, so the core meets what a real relay never sends — a blob whose
 * bytes do not match its hash, a relay of protocol v2 (before files and encrypted messages), a
 * relay that answers blob_missing (speaking v6 and serving the recipient's device keys, since a
 * direct message goes only sealed) — and a recipient
 * whose files live on a full disk (a tiny tmpfs; needs root and mount(2), skipped otherwise).
 * The core is a real daemon; only the relay is scripted.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Method, ParamsOf, ResultOf } from '../../protocol/rpc';
import { BLOB_CHUNK_BYTES, BlobChunkKind, encodeBlobChunk } from '../../protocol/files';
import type { DeviceKeyRecord } from '../../protocol/e2e';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { kill9, runOk, startCore, tempHome } from '../support/cli';
import { waitFor, withClient } from '../support/wait';

const MiB = 1024 * 1024;

interface Blob {
  sha256: string;
  /** What this relay sends when asked for it (the right bytes, or not). */
  bytes: Buffer;
}

/** A scripted relay: welcomes with version `v`, delivers `deliveries` once, serves `blobs` as told. */
class ScriptedRelay {
  private wss: WebSocketServer | undefined;
  readonly frames: { type: string }[] = [];
  port = 0;

  /** Sends with files answered `blob_missing` before the first one accepted. */
  missingFirst = 0;

  /** Device records the relay's key directory serves (v5 and later), by user; a publish adds the session's. */
  readonly keys = new Map<string, DeviceKeyRecord[]>();

  constructor(
    private readonly v: 2 | 3 | 6,
    private readonly deliveries: object[],
    private readonly blobs: Map<string, Blob>,
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => this.wss!.once('listening', () => resolve()));
    this.port = (this.wss.address() as { port: number }).port;
    this.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => !isBinary && this.onFrame(ws, JSON.parse(data.toString()))));
  }

  private onFrame(ws: WebSocket, frame: { type: string; [k: string]: unknown }): void {
    this.frames.push(frame);
    const send = (f: object) => ws.send(JSON.stringify(f));
    switch (frame.type) {
      case 'hello': {
        const v = Math.min(Number(frame.v), this.v);
        send({ type: 'welcome', v, user: frame.user, device: frame.device, heartbeat_ms: 30_000, max_body_bytes: 65_536, backlog_seq: this.deliveries.length, ...(v >= 3 ? { max_file_bytes: 100 * MiB } : {}) });
        const cursor = Number(frame.cursor);
        this.deliveries.forEach((item, i) => i + 1 > cursor && send({ type: 'deliver', seq: i + 1, item }));
        return;
      }
      case 'ping':
        return send({ type: 'pong', t: frame.t });
      case 'keys_publish': {
        const record = frame.record as DeviceKeyRecord;
        this.keys.set(record.user, [...(this.keys.get(record.user) ?? []).filter((r) => r.device !== record.device), record]);
        return send({ type: 'keys_result', request_id: frame.request_id, result: 'ok', user: record.user, records: this.keys.get(record.user) });
      }
      case 'keys_get':
        return send({ type: 'keys_result', request_id: frame.request_id, result: 'ok', user: frame.user, records: this.keys.get(String(frame.user)) ?? [] });
      case 'blob_begin':
        // Holds every blob already: complete at once.
        return send({ type: 'blob_status', request_id: frame.request_id, sha256: frame.sha256, size: frame.size, have: frame.size, state: 'complete' });
      case 'send': {
        const m = frame.message as { id: string; client_message_id: string; attachments?: unknown[] };
        if (m.attachments && this.missingFirst > 0) {
          this.missingFirst--;
          return send({ type: 'verdict', result: 'rejected', id: m.id, client_message_id: m.client_message_id, reason: 'a blob is not complete here', retryable: true, code: 'blob_missing' });
        }
        return send({ type: 'verdict', result: 'accepted', id: m.id, client_message_id: m.client_message_id, server_id: `srv-${m.id}`, seq: this.frames.length });
      }
      case 'blob_get': {
        const blob = this.blobs.get(String(frame.sha256));
        if (!blob) return send({ type: 'blob_refused', request_id: frame.request_id, sha256: frame.sha256, code: 'not_found', reason: 'no such blob', retryable: false });
        for (let at = Number(frame.offset); at < blob.bytes.length; at += BLOB_CHUNK_BYTES) {
          ws.send(encodeBlobChunk({ kind: BlobChunkKind.Data, sha256: blob.sha256, offset: at, data: blob.bytes.subarray(at, Math.min(at + BLOB_CHUNK_BYTES, blob.bytes.length)) }), { binary: true });
        }
        return send({ type: 'blob_status', request_id: frame.request_id, sha256: blob.sha256, size: blob.bytes.length, have: blob.bytes.length, state: 'complete' });
      }
    }
  }

  async stop(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }
}

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function rpc<M extends Method>(home: string, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return withClient(home, 'files-hostile', (c) => c.call(method, params) as Promise<ResultOf<M>>);
}

function delivery(serverId: string, to: string, attachment: { sha256: string; size: number; name: string }): object {
  return {
    kind: 'message',
    server_id: serverId,
    message: { id: `m-${serverId}`, client_message_id: `c-${serverId}`, from: 'eve', to, body: 'take this', reply_to: null, request_id: null, created_at: new Date().toISOString(), attachments: [{ ...attachment, mime: 'application/octet-stream' }] },
  };
}

async function coreAgainst(relay: ScriptedRelay, user: string, prepare?: (home: string) => void): Promise<{ home: string; core: ChildProcess }> {
  const { home, cleanup } = tempHome('sb-fh-');
  cleanups.push(cleanup);
  prepare?.(home);
  await runOk(home, ['init', '--relay', relay.url, '--user', user, '--token', 'tok']);
  const core = await startCore(home);
  cleanups.push(() => kill9(core));
  await waitFor('online', async () => ((await rpc(home, 'status/get', {})).sync.state === 'online' ? true : undefined));
  return { home, core };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('files against scripted relays', { concurrency: false }, () => {
  test('a hostile relay sends bytes that do not match the hash: the attachment fails saying so, nothing is offered, no partial stays', async () => {
    const real = randomBytes(3 * MiB);
    const forged = Buffer.from(real);
    forged.writeUInt8(forged.readUInt8(12345) ^ 0xff, 12345);
    const digest = sha(real);
    const relay = new ScriptedRelay(3, [delivery('s1', 'bob', { sha256: digest, size: real.length, name: 'report.pdf' })], new Map([[digest, { sha256: digest, bytes: forged }]]));
    await relay.start();
    cleanups.push(() => relay.stop());
    const { home } = await coreAgainst(relay, 'bob');
    const m = await waitFor('the attachment to end', async () => {
      const got = await rpc(home, 'message/get', { id: 'm-s1' }).catch(() => undefined);
      return got && got.attachments[0]!.state === 'failed' ? got : undefined;
    });
    const a = m.attachments[0]!;
    assert.equal(a.path, null, 'nothing is offered');
    assert.match(a.error ?? '', /do not match its SHA-256/);
    assert.deepEqual(readdirSync(join(home, 'files')).filter((n) => n !== 'partial'), [], 'no file in the store');
    assert.deepEqual(readdirSync(join(home, 'files', 'partial')), [], 'the partial is deleted');
    assert.ok(!relay.frames.some((f) => f.type === 'blob_done'), 'the relay is not told the blob arrived');
  });

  test('a relay of protocol v2 (no files, no encrypted messages): a send with attachments is refused naming the fix, and no send frame reaches it', async () => {
    const relay = new ScriptedRelay(2, [], new Map());
    await relay.start();
    cleanups.push(() => relay.stop());
    const { home } = await coreAgainst(relay, 'alice');
    const file = join(home, 'a.txt');
    const bytes = Buffer.from('hello file');
    writeFileSync(file, bytes);
    await assert.rejects(rpc(home, 'message/send', { to: 'bob', body: 'see attached', attachments: [{ path: file, sha256: sha(bytes), size: bytes.length }], wait_ms: 10_000 }), (error: { code?: number; message?: string }) => {
      assert.equal(error.code, -32006, JSON.stringify(error));
      assert.match(error.message ?? '', /speaks protocol v2.*upgrade the relay/);
      return true;
    });
    assert.ok(!relay.frames.some((f) => f.type === 'send' || f.type === 'blob_begin'), 'no send frame and no file reached a v2 relay');
  });

  test('a relay that answers blob_missing: the core uploads the files again, then the message is sent', async () => {
    const relay = new ScriptedRelay(6, [], new Map());
    relay.keys.set('bob', [signDeviceRecord(generateIdentity(), 'bob', 'bob-laptop', Date.now())]);
    relay.missingFirst = 1;
    await relay.start();
    cleanups.push(() => relay.stop());
    const { home } = await coreAgainst(relay, 'alice');
    const file = join(home, 'b.txt');
    const bytes = Buffer.from('again and again');
    writeFileSync(file, bytes);
    const r = await rpc(home, 'message/send', { to: 'bob', body: '', attachments: [{ path: file, sha256: sha(bytes), size: bytes.length }], wait_ms: 1 });
    const m = await waitFor('the message sent', async () => {
      const got = await rpc(home, 'message/get', { id: r.id });
      return got.state === 'sent' ? got : undefined;
    });
    assert.equal(m.attachments[0]!.transferred, bytes.length);
    assert.equal(relay.frames.filter((f) => f.type === 'blob_begin').length, 2, 'uploaded again after blob_missing');
    assert.equal(relay.frames.filter((f) => f.type === 'send').length, 2);
  });

  const canMount = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    const probe = tempHome('sb-fh-probe-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe.home], { stdio: 'ignore' });
      execFileSync('umount', [probe.home], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    } finally {
      probe.cleanup();
    }
  })();

  test('a full disk at the recipient: the download fails with "disk full at …", nothing half-written is offered or kept', { skip: canMount ? false : 'needs root and mount(2) for a small tmpfs' }, async () => {
    const real = randomBytes(6 * MiB);
    const digest = sha(real);
    const relay = new ScriptedRelay(3, [delivery('s2', 'bob', { sha256: digest, size: real.length, name: 'big.iso' })], new Map([[digest, { sha256: digest, bytes: real }]]));
    await relay.start();
    cleanups.push(() => relay.stop());
    let filesDir = '';
    const { home, core } = await coreAgainst(relay, 'bob', (h) => {
      filesDir = join(h, 'files');
      mkdirSync(filesDir, { recursive: true, mode: 0o700 });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', filesDir]);
      cleanups.push(() => {
        execFileSync('umount', ['-l', filesDir], { stdio: 'ignore' });
      });
    });
    const m = await waitFor('the attachment to end', async () => {
      const got = await rpc(home, 'message/get', { id: 'm-s2' }).catch(() => undefined);
      return got && got.attachments[0]!.state === 'failed' ? got : undefined;
    });
    const a = m.attachments[0]!;
    assert.match(a.error ?? '', /^disk full at .*files/);
    assert.equal(a.path, null);
    assert.ok(!existsSync(join(filesDir, digest)), 'nothing half-written in the store');
    assert.deepEqual(readdirSync(join(filesDir, 'partial')), [], 'the partial is removed');
    // The message itself is stored and readable: only the file failed.
    assert.equal(m.body, 'take this');
    await kill9(core);
  });
});
