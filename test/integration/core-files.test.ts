/**
 * Files through real cores and a real relay (issue 13): a 50 MiB file A→B verified by hash,
 * the same file to a 3-member group, kill -9 of the sender's core, of the relay and of the
 * recipient's core mid-transfer (the bytes sent twice counted by a loopback proxy between the
 * core and the relay, bounded by the window), files refused before anything is stored, and
 * messages that keep flowing while a big upload runs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes, type Attachment, type Message, type TransferProgress } from '../../protocol/rpc';
import { BLOB_CHUNK_BYTES, BLOB_CHUNK_HEADER_BYTES, BLOB_WINDOW_BYTES } from '../../protocol/files';
import { runOk, tempHome } from '../support/cli';
import { CoreSides, type Side } from '../support/cores';
import { killAllRelays, TestRelay } from '../support/relay';
import { waitFor } from '../support/wait';
import { SocketClient } from '../../server/cli/socket-client';
import { homePaths } from '../../lib/node/paths';
import { PROTOCOL_VERSION } from '../../protocol/rpc';
import { openDirect } from '../../server/direct';

const MiB = 1024 * 1024;

/**
 * A TCP proxy on loopback between cores and the relay that counts the bytes each way, and can
 * hold one direction once it has carried so many bytes: a transfer then stops mid-way for sure,
 * however fast the machine (a kill "mid-transfer" timed on progress notifications could find
 * the transfer already over).
 */
class CountingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private holds: { up?: number; down?: number } = {};
  private readonly held = new Set<Socket>();
  up = 0;
  down = 0;
  port = 0;

  /** Stops forwarding `direction` once it carried `after` bytes since the last reset, until release(). */
  hold(direction: 'up' | 'down', after: number): void {
    this.holds[direction] = after;
  }

  release(): void {
    this.holds = {};
    for (const s of this.held) s.resume();
    this.held.clear();
  }

  constructor(private readonly target: () => number) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target(), '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      const forward = (from: Socket, to: Socket, direction: 'up' | 'down'): void => {
        from.on('data', (d: Buffer) => {
          this[direction] += d.byteLength;
          if (!to.write(d)) {
            from.pause();
            to.once('drain', () => !this.held.has(from) && from.resume());
          }
          const limit = this.holds[direction];
          if (limit !== undefined && this[direction] >= limit) {
            from.pause();
            this.held.add(from);
          }
        });
      };
      forward(client, upstream, 'up');
      forward(upstream, client, 'down');
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  reset(): void {
    this.up = 0;
    this.down = 0;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const relay = new TestRelay();
const proxy = new CountingProxy(() => relay.port);
const cores = new CoreSides('files', 'sb-f');
const { cleanups, rpc, rpcError, start: startSide, stop: stopSide } = cores;
let work: string;

async function makeSide(user: string): Promise<Side> {
  return cores.make(user, user, async (home) => {
    const token = await relay.addUser(user);
    // Through the proxy: every byte between this core and the relay is counted.
    await runOk(home, ['init', '--relay', proxy.url, '--user', user, '--token', token]);
  });
}

/** A file of random bytes, with the hash and size a client measures before sending it. */
function makeFile(name: string, bytes: number): { path: string; sha256: string; size: number } {
  const path = join(work, name);
  const hash = createHash('sha256');
  const block = 4 * MiB;
  writeFileSync(path, '');
  for (let at = 0; at < bytes; at += block) {
    const chunk = randomBytes(Math.min(block, bytes - at));
    hash.update(chunk);
    writeFileSync(path, chunk, { flag: 'a' });
  }
  return { path, sha256: hash.digest('hex'), size: bytes };
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function inbound(side: Side, id: string): Promise<Message> {
  return waitFor(`${side.name} to receive ${id}`, async () => {
    try {
      return await rpc(side, 'message/get', { id });
    } catch {
      return undefined;
    }
  }, 60_000);
}

async function waitSent(side: Side, id: string, timeoutMs = 120_000): Promise<Message> {
  return waitFor(`${side.name}'s ${id} sent`, async () => {
    const m = await rpc(side, 'message/get', { id });
    return m.state === 'sent' || m.state === 'delivered' ? m : undefined;
  }, timeoutMs, 200);
}

/** Subscribes to a core's notifications and resolves at the first transfer/progress that passes `when`. */
async function progressPast(side: Side, direction: 'up' | 'down', minBytes: number): Promise<{ seen: Promise<TransferProgress>; close: () => void }> {
  const c = await SocketClient.connect(homePaths(side.home).socket);
  await c.call('initialize', { client: { name: 'files-progress', version: '1' }, protocol: PROTOCOL_VERSION });
  const seen = new Promise<TransferProgress>((resolve) =>
    c.onNotification((name, params) => {
      if (name === 'transfer/progress') {
        const p = params as TransferProgress;
        if (p.direction === direction && p.transferred >= minBytes && p.transferred < p.size) resolve(p);
      }
    }),
  );
  await c.call('events/subscribe', {});
  return { seen, close: () => c.close() };
}

function storeFiles(side: Side): string[] {
  const dir = join(side.home, 'files');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n !== 'partial') : [];
}

/** What may cross the link more than once after an interruption: the window, plus per-chunk framing and the JSON frames around it. */
function resentBound(size: number): number {
  const chunks = Math.ceil((size + BLOB_WINDOW_BYTES) / BLOB_CHUNK_BYTES);
  return size + BLOB_WINDOW_BYTES + chunks * (BLOB_CHUNK_HEADER_BYTES + 14) + 256 * 1024;
}

let alice: Side, bob: Side, carol: Side;

before(async () => {
  work = tempHome('sb-f-work-').home;
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  await relay.start();
  await proxy.start();
  alice = await makeSide('alice');
  bob = await makeSide('bob');
  carol = await makeSide('carol');
  await Promise.all([alice, bob, carol].map(startSide));
});

after(async () => {
  await cores.stopAll();
  await proxy.stop();
  await relay.dispose();
  await killAllRelays();
  cores.removeHomes();
});

describe('files through real cores and a real relay', { concurrency: false }, () => {
  test('a 50 MiB file A→B: sent once every byte is at the relay, on demand above the auto-download size, verified by hash; the store keeps 0600 files in a 0700 directory', async () => {
    const file = makeFile('big.bin', 50 * MiB);
    const sent = await rpc(alice, 'message/send', { to: 'bob', body: 'the build', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }], wait_ms: 120_000 });
    assert.equal(sent.status, 'sent', JSON.stringify(sent));
    const out = await rpc(alice, 'message/get', { id: sent.id });
    assert.deepEqual(
      out.attachments.map((a) => ({ name: a.name, size: a.size, sha256: a.sha256, state: a.state, transferred: a.transferred })),
      [{ name: 'big.bin', size: file.size, sha256: file.sha256, state: 'ready', transferred: file.size }],
    );
    assert.equal(sha256Of(out.attachments[0]!.path!), file.sha256, "the sender's store copy is the file");
    assert.equal(statSync(join(alice.home, 'files')).mode & 0o777, 0o700);
    assert.equal(statSync(out.attachments[0]!.path!).mode & 0o777, 0o600);

    const got = await inbound(bob, sent.id);
    assert.equal(got.body, 'the build');
    // 50 MiB is over the 10 MiB default: it waits at the relay until asked for.
    assert.deepEqual(got.attachments.map((a) => [a.name, a.size, a.sha256, a.mime, a.state, a.path]), [['big.bin', file.size, file.sha256, 'application/octet-stream', 'remote', null]]);
    const done = await rpc(bob, 'attachment/download', { id: sent.id, wait_ms: 120_000 });
    assert.equal(done.attachments[0]!.state, 'ready', JSON.stringify(done));
    assert.equal(done.attachments[0]!.transferred, file.size);
    assert.equal(sha256Of(done.attachments[0]!.path!), file.sha256, 'the file bob is offered is the one alice sent');
    assert.deepEqual(readdirSync(join(bob.home, 'files', 'partial')), [], 'no partial left behind');
  });

  test('the same file to a 3-member group: each member device downloads it (at once, under the auto-download size) and has it verified; a second message naming it is ready at once', async () => {
    await rpc(alice, 'group/create', { name: 'team', members: ['bob', 'carol'] });
    const file = makeFile('notes.bin', 3 * MiB);
    proxy.reset();
    const sent = await rpc(alice, 'message/send', { to: '#team', body: '', attachments: [{ path: file.path, sha256: file.sha256, size: file.size, name: 'notes.txt' }], wait_ms: 60_000 });
    assert.equal(sent.status, 'sent', JSON.stringify(sent));
    for (const side of [bob, carol]) {
      const m = await waitFor(`${side.name} to have notes.txt ready`, async () => {
        const got = await inbound(side, sent.id);
        return got.attachments[0]?.state === 'ready' ? got : undefined;
      }, 60_000);
      assert.equal(m.attachments[0]!.mime, 'text/plain');
      assert.equal(sha256Of(m.attachments[0]!.path!), file.sha256);
    }
    // Once per member device: bob's and carol's. alice's device kept its own copy and fetches
    // nothing; the slack is the chunks' framing and the messages, receipts and pings around them.
    assert.ok(proxy.down >= 2 * file.size && proxy.down < 2 * file.size + 512 * 1024, `the blob came down once per member device (${proxy.down} bytes for a ${file.size}-byte file)`);
    proxy.reset();
    const again = await rpc(alice, 'message/send', { to: '#team', body: 'again', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }], wait_ms: 60_000 });
    assert.equal(again.status, 'sent');
    const m = await waitFor('bob to have the second copy ready', async () => {
      const got = await inbound(bob, again.id);
      return got.attachments[0]?.state === 'ready' ? got : undefined;
    });
    assert.equal(m.attachments[0]!.path, join(bob.home, 'files', file.sha256));
    assert.ok(proxy.down < file.size, `the blob was not fetched again (${proxy.down} bytes came down)`);
  });

  test("kill -9 of the sender's core mid-upload: after restart the upload resumes from the relay's have, the bytes sent twice bounded by the window", async () => {
    const file = makeFile('resume-up.bin', 40 * MiB);
    proxy.reset();
    proxy.hold('up', 12 * MiB);
    const sent = await rpc(alice, 'message/send', { to: 'bob', body: 'resume up', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }] });
    await waitFor('12 MiB on the way up', async () => (proxy.up >= 12 * MiB ? true : undefined), 60_000, 20);
    await stopSide(alice);
    proxy.release();
    await startSide(alice);
    await waitSent(alice, sent.id);
    assert.ok(proxy.up <= resentBound(file.size), `${proxy.up} bytes went up for a ${file.size}-byte file (bound ${resentBound(file.size)})`);
    const done = await rpc(bob, 'attachment/download', { id: (await inbound(bob, sent.id)).id, wait_ms: 120_000 });
    assert.equal(sha256Of(done.attachments[0]!.path!), file.sha256);
  });

  test('kill -9 of the relay mid-upload: once it is back the upload resumes, the bytes sent twice bounded by the window', async () => {
    const file = makeFile('resume-relay.bin', 40 * MiB);
    proxy.reset();
    proxy.hold('up', 12 * MiB);
    const sent = await rpc(alice, 'message/send', { to: 'bob', body: 'resume relay', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }] });
    await waitFor('12 MiB on the way up', async () => (proxy.up >= 12 * MiB ? true : undefined), 60_000, 20);
    proxy.release();
    await relay.restart();
    await waitSent(alice, sent.id);
    assert.ok(proxy.up <= resentBound(file.size), `${proxy.up} bytes went up for a ${file.size}-byte file (bound ${resentBound(file.size)})`);
    const done = await rpc(bob, 'attachment/download', { id: (await inbound(bob, sent.id)).id, wait_ms: 120_000 });
    assert.equal(sha256Of(done.attachments[0]!.path!), file.sha256);
  });

  test("kill -9 of the recipient's core mid-download: after restart the download resumes from its partial and the file is verified", async () => {
    const file = makeFile('resume-down.bin', 40 * MiB);
    const sent = await rpc(alice, 'message/send', { to: 'bob', body: 'resume down', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }], wait_ms: 120_000 });
    assert.equal(sent.status, 'sent');
    await inbound(bob, sent.id);
    proxy.reset();
    proxy.hold('down', 8 * MiB);
    await rpc(bob, 'attachment/download', { id: sent.id });
    const partial = join(bob.home, 'files', 'partial', file.sha256);
    const written = () => {
      try {
        return statSync(partial).size;
      } catch {
        return 0;
      }
    };
    await waitFor('4 MiB in the partial', async () => (written() >= 4 * MiB ? true : undefined), 60_000, 20);
    await stopSide(bob);
    proxy.release();
    const kept = statSync(partial).size;
    assert.ok(kept > 0 && kept < file.size, `a partial of ${kept} bytes is kept`);
    const firstLink = proxy.down;
    proxy.reset();
    await startSide(bob);
    // Still downloading after the restart: it resumes by itself.
    const m = await waitFor('bob to have it ready', async () => {
      const got = await rpc(bob, 'message/get', { id: sent.id });
      return got.attachments[0]!.state === 'ready' ? got : undefined;
    }, 120_000, 200);
    assert.equal(sha256Of(m.attachments[0]!.path!), file.sha256);
    // After the restart only what the partial lacked comes down (with chunk framing and the
    // link's JSON frames): the download resumed from the partial's length, not from 0.
    const framing = Math.ceil(file.size / BLOB_CHUNK_BYTES) * (BLOB_CHUNK_HEADER_BYTES + 14) + 256 * 1024;
    assert.ok(proxy.down <= file.size - kept + framing, `after the restart ${proxy.down} bytes came down; the partial lacked ${file.size - kept} (first link: ${firstLink})`);
  });

  test('a file that is missing, a directory, or changed after the client measured it is refused with FileRefused, nothing stored', async () => {
    const file = makeFile('changing.bin', 1 * MiB);
    const before = { files: storeFiles(alice).length, outbox: (await rpc(alice, 'outbox/list', {})).items.length };
    writeFileSync(file.path, randomBytes(file.size)); // same size, other bytes
    const changed = await rpcError(alice, 'message/send', { to: 'bob', body: 'x', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }] });
    assert.equal(changed.code, ErrorCodes.FileRefused);
    assert.deepEqual(changed.data, { kind: 'file', path: file.path });
    assert.match(changed.message, /changed while it was being sent/);
    writeFileSync(file.path, randomBytes(10)); // another size
    assert.match((await rpcError(alice, 'message/send', { to: 'bob', body: 'x', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }] })).message, /changed while it was being sent/);
    const missing = await rpcError(alice, 'message/send', { to: 'bob', body: 'x', attachments: [{ path: join(work, 'nope.bin'), sha256: file.sha256, size: 1 }] });
    assert.equal(missing.code, ErrorCodes.FileRefused);
    assert.match(missing.message, /is missing/);
    const dir = join(work, 'a-dir');
    mkdirSync(dir, { recursive: true });
    assert.match((await rpcError(alice, 'message/send', { to: 'bob', body: 'x', attachments: [{ path: dir, sha256: file.sha256, size: 0 }] })).message, /is a directory/);
    // The first of two is fine, the second changed: the send stores neither.
    const good = makeFile('good.bin', 1000);
    const second = await rpcError(alice, 'message/send', { to: 'bob', body: 'x', attachments: [{ path: good.path, sha256: good.sha256, size: good.size }, { path: file.path, sha256: file.sha256, size: file.size }] });
    assert.equal(second.code, ErrorCodes.FileRefused);
    assert.equal(storeFiles(alice).length, before.files, 'nothing was added to the store');
    assert.equal((await rpc(alice, 'outbox/list', {})).items.length, before.outbox, 'nothing was queued');
  });

  test('messages keep flowing while a big upload runs: the file message is queued with reason uploading, text sent after it is sent and arrives first', async () => {
    const file = makeFile('slow.bin', 60 * MiB);
    const watch = await progressPast(alice, 'up', 1);
    // The wait ends long before 60 MiB are at the relay: queued, saying it is uploading.
    const big = await rpc(alice, 'message/send', { to: 'bob', body: 'big one', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }], wait_ms: 50 });
    assert.equal(big.status, 'queued', JSON.stringify(big));
    assert.equal(big.reason_code, 'uploading', JSON.stringify(big));
    assert.match(big.reason ?? '', /uploading/);
    await watch.seen;
    watch.close();
    const texts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await rpc(alice, 'message/send', { to: 'bob', body: `text ${i}`, wait_ms: 30_000 });
      assert.equal(r.status, 'sent', `text ${i} went while the upload ran: ${JSON.stringify(r)}`);
      texts.push(r.id);
    }
    await waitSent(alice, big.id);
    // bob's thread has the texts before the file message: none waited for the upload.
    const thread = await waitFor('bob to have all six', async () => {
      const page = (await rpc(bob, 'conversation/messages', { peer: 'alice', limit: 1000 })).messages;
      return [...texts, big.id].every((id) => page.some((m) => m.id === id)) ? page : undefined;
    }, 60_000);
    const order = thread.map((m) => m.id).filter((id) => id === big.id || texts.includes(id));
    assert.deepEqual(order, [...texts, big.id]);
  });

  test('a CLI verb run without a core downloads too: attachment/download in direct mode keeps the link open until the file is ready', async () => {
    await stopSide(bob);
    const file = makeFile('direct.bin', 12 * MiB);
    const sent = await rpc(alice, 'message/send', { to: 'bob', body: 'no core here', attachments: [{ path: file.path, sha256: file.sha256, size: file.size }], wait_ms: 60_000 });
    assert.equal(sent.status, 'sent');
    const opened = await openDirect(homePaths(bob.home), { sync: true, pullMs: 10_000 });
    assert.ok(opened.ok, 'no core holds bob');
    try {
      const got = await opened.core.call('message/get', { id: sent.id });
      assert.equal(got.attachments[0]!.state, 'remote', 'over the auto-download size: it waited');
      const done = await opened.core.call('attachment/download', { id: sent.id, wait_ms: 60_000 });
      assert.equal(done.attachments[0]!.state, 'ready', JSON.stringify(done));
      assert.equal(sha256Of(done.attachments[0]!.path!), file.sha256);
    } finally {
      await opened.core.close();
    }
    await startSide(bob);
  });
});

export type { Attachment };
