/**
 * The framing at its bounds (server/rpc/framing.ts): frames cut at every awkward point, the
 * writer's hold released exactly at its size and time limits and when all is answered, what
 * counts as an answer, and the reader's error and close wiring. Chunk boundaries are set by
 * emitting the socket's data events; what the writer writes is recorded write by write.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message } from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../../protocol/rpc';
import { RequestFlow, SocketMessageReader, SocketMessageWriter } from '../../server/rpc/framing';
import { recordWrites, socketPair } from '../support/socket-pair';
import { frozenClock } from '../support/clock';

const frame = (json: string) => `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
const request = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'x', params: { text: 'é' } });
const answer = (id: number, result: unknown = id) => ({ jsonrpc: '2.0', id, result }) as Message;

test('a frame cut anywhere (inside the header, right after it, inside the body) arrives whole', async (t) => {
  const whole = frame(request(1)) + frame(request(2));
  const bytes = Buffer.from(whole);
  const headerEnd = whole.indexOf('\r\n\r\n') + 4;
  for (const cuts of [[5], [headerEnd - 2], [headerEnd], [headerEnd + 3], [headerEnd + 3, headerEnd + 9], [bytes.length - 1]]) {
    const p = await socketPair();
    try {
      const writes = recordWrites(t, p.server);
      const got: Message[] = [];
      new SocketMessageReader(p.server).listen((m) => got.push(m));
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        p.server.emit('data', bytes.subarray(from, cut));
        from = cut;
      }
      assert.deepEqual(got.map((m) => (m as unknown as { id: number }).id), [1, 2], `cut at ${cuts.join(', ')}`);
      assert.deepEqual(writes, [], 'nothing to answer');
    } finally {
      await p.close();
    }
  }
});

test('a header that is 1024 bytes so far is waited on, not refused', async (t) => {
  const p = await socketPair();
  try {
    const writes = recordWrites(t, p.server);
    const got: Message[] = [];
    new SocketMessageReader(p.server).listen((m) => got.push(m));
    const json = request(1);
    const header = `X-Pad: ${'p'.repeat(1000)}\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n`;
    p.server.emit('data', Buffer.from(header.slice(0, 1024)));
    assert.deepEqual(writes, [], 'no refusal at 1024 bytes');
    p.server.emit('data', Buffer.from(header.slice(1024) + json));
    assert.equal(got.length, 1);
  } finally {
    await p.close();
  }
});

test('an empty header is refused; an odd header line before Content-Length is skipped', async (t) => {
  const p = await socketPair();
  try {
    const writes = recordWrites(t, p.server);
    new SocketMessageReader(p.server).listen(() => assert.fail('nothing is delivered'));
    p.server.emit('data', Buffer.from('\r\n\r\n'));
    assert.equal(writes.length, 1);
    assert.match(writes[0]!, /no valid Content-Length/);
  } finally {
    await p.close();
  }
  const q = await socketPair();
  try {
    const got: Message[] = [];
    new SocketMessageReader(q.server).listen((m) => got.push(m));
    const json = request(3);
    q.server.emit('data', Buffer.from(`: odd\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`));
    assert.equal(got.length, 1);
  } finally {
    await q.close();
  }
});

test('the errors the reader writes are JSON-RPC 2.0 and say what failed to parse', async (t) => {
  const p = await socketPair();
  try {
    const writes = recordWrites(t, p.server);
    new SocketMessageReader(p.server).listen(() => {});
    p.server.emit('data', Buffer.from(frame('{"jsonrpc":')));
    const body = JSON.parse(writes[0]!.slice(writes[0]!.indexOf('\r\n\r\n') + 4)) as { jsonrpc: string; id: null; error: { code: number; message: string } };
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.id, null);
    assert.equal(body.error.code, ErrorCodes.ParseError);
    assert.match(body.error.message, /^parse error: \S/);
  } finally {
    await p.close();
  }
});

test('the reader passes on its socket\'s errors and closes, and none once disposed', async () => {
  const p = await socketPair();
  try {
    const reader = new SocketMessageReader(p.server);
    const listening = reader.listen(() => {});
    const errors: string[] = [];
    let closes = 0;
    reader.onError((error) => errors.push(error.message));
    reader.onClose(() => closes++);
    p.server.emit('error', new Error('boom'));
    p.server.emit('close');
    assert.deepEqual(errors, ['boom']);
    assert.equal(closes, 1);
    listening.dispose();
    p.server.on('error', () => {});
    p.server.emit('error', new Error('after'));
    p.server.emit('close');
    assert.deepEqual(errors, ['boom']);
    assert.equal(closes, 1);
  } finally {
    await p.close();
  }
});

test('the hold ends in the turn that reaches 2 ms, while answers still come', async (t) => {
  const p = await socketPair();
  try {
    const clock = frozenClock(t);
    const writes = recordWrites(t, p.server);
    const flow = new RequestFlow();
    flow.received = 10;
    const writer = new SocketMessageWriter(p.server, flow);
    await writer.write(answer(1));
    await nextTurn();
    clock.advance(2);
    await writer.write(answer(2));
    await nextTurn();
    assert.equal(writes.length, 1, 'released in that very turn');
  } finally {
    await p.close();
  }
});

test('the hold ends once more than 256 KiB is held', async (t) => {
  const p = await socketPair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, p.server);
    const flow = new RequestFlow();
    flow.received = 5;
    const writer = new SocketMessageWriter(p.server, flow);
    await writer.write(answer(1, 'x'.repeat(300 * 1024)));
    await nextTurn();
    assert.equal(writes.length, 1, 'too much to hold, though an answer came and four are due');
  } finally {
    await p.close();
  }
});

test('the hold ends as soon as every request is answered', async (t) => {
  const p = await socketPair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, p.server);
    const flow = new RequestFlow();
    flow.received = 2;
    const writer = new SocketMessageWriter(p.server, flow);
    await writer.write(answer(1));
    await nextTurn();
    assert.deepEqual(writes, []);
    await writer.write(answer(2));
    await nextTurn();
    assert.equal(writes.length, 1, 'nothing left unanswered: no reason to wait another turn');
  } finally {
    await p.close();
  }
});

test('only a response counts as an answer: notifications and requests the core sends do not', async (t) => {
  for (const outgoing of [{ jsonrpc: '2.0', method: 'event', params: {} }, { jsonrpc: '2.0', id: 99, method: 'ask', params: {} }] as unknown as Message[]) {
    const p = await socketPair();
    try {
      frozenClock(t);
      const writes = recordWrites(t, p.server);
      const flow = new RequestFlow();
      flow.received = 2;
      const writer = new SocketMessageWriter(p.server, flow);
      await writer.write(outgoing);
      assert.equal(flow.answered, 0);
      await nextTurn();
      // No answer came in that turn: what is held leaves.
      assert.equal(writes.length, 1, JSON.stringify(outgoing));
    } finally {
      await p.close();
    }
  }
});

test('end() with nothing held writes nothing', async (t) => {
  const p = await socketPair();
  try {
    const writes = recordWrites(t, p.server);
    new SocketMessageWriter(p.server, new RequestFlow()).end();
    assert.deepEqual(writes, []);
  } finally {
    await p.close();
  }
});

test('a few MiB left unread is no reason to drop a client', async () => {
  const p = await socketPair();
  try {
    p.client.pause();
    const writer = new SocketMessageWriter(p.server, new RequestFlow());
    const errors: string[] = [];
    writer.onError(([error]) => errors.push(error.message));
    await writer.write(answer(1, 'x'.repeat(4 * 1024 * 1024)));
    await nextTurn();
    assert.ok(p.server.writableLength > 0, 'the kernel did not take it all: some is unread');
    assert.deepEqual(errors, []);
    assert.equal(p.server.destroyed, false);
  } finally {
    await p.close();
  }
});

