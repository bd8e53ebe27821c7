/**
 * The core's JSON-RPC framing, on a real socket pair. What the writer hands the socket is
 * recorded write by write (how the peer's reads chunk it is up to the kernel), and the
 * writer's hold clock is frozen or stepped by the test, so nothing here depends on timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message } from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../../protocol/rpc';
import { RequestFlow, SocketMessageReader, SocketMessageWriter } from '../../server/rpc/framing';
import { encodeFrame } from '../../server/rpc/frame-codec';
import { socketPair as pair, recordWrites } from '../support/socket-pair';
import { frozenClock } from '../support/clock';
import { until } from '../support/wait';





const frame = (json: string) => `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
const answer = (id: number) => ({ jsonrpc: '2.0', id, result: id }) as Message;
const countFrames = (text: string) => text.split('Content-Length').length - 1;

test('frames split across chunks and several per chunk all arrive, in order', async () => {
  const { server, client, close } = await pair();
  try {
    const got: Message[] = [];
    new SocketMessageReader(server).listen((m) => got.push(m));
    const bytes = Buffer.from([1, 2, 3].map((id) => frame(JSON.stringify({ jsonrpc: '2.0', id, method: 'x', params: { text: 'é✓' } }))).join(''));
    for (let i = 0; i < bytes.length; i += 7) client.write(bytes.subarray(i, i + 7));
    await until('three frames', () => got.length >= 3);
    assert.deepEqual(got.map((m) => (m as unknown as { id: number }).id), [1, 2, 3]);
    assert.equal((got[0] as unknown as { params: { text: string } }).params.text, 'é✓');
  } finally {
    await close();
  }
});

test('malformed JSON costs one parse error, and the next frame still arrives', async () => {
  const { server, client, close } = await pair();
  try {
    const got: Message[] = [];
    new SocketMessageReader(server).listen((m) => got.push(m));
    let answered = '';
    client.on('data', (d) => (answered += d));
    client.write(frame('{"jsonrpc":"2.0",') + frame('[1,2]') + frame(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ok' })));
    await until('the parse error, the batch refusal and frame 9', () => got.length >= 1 && answered.includes('batches'));
    assert.match(answered, /"code":-32700/);
    assert.match(answered, /batches are not supported/);
    assert.deepEqual(got.map((m) => (m as unknown as { id: number }).id), [9]);
  } finally {
    await close();
  }
});

test('a frame over the limit is refused from its header, before its body is read, and the connection is closed', async () => {
  const { server, client, close } = await pair();
  try {
    const got: Message[] = [];
    new SocketMessageReader(server, { maxFrameBytes: 100 }).listen((m) => got.push(m));
    let answered = '';
    let ended = false;
    client.on('data', (d) => (answered += d));
    client.on('end', () => (ended = true));
    // The header alone announces 101 bytes: the refusal must not wait for the body.
    client.write('Content-Length: 101\r\n\r\n');
    await until('the frame-too-large error and the hang-up', () => ended);
    assert.match(answered, new RegExp(`"code":${ErrorCodes.FrameTooLarge}`));
    assert.match(answered, /101 bytes exceeds the 100-byte limit/);
    assert.deepEqual(got, []);
  } finally {
    await close();
  }
});

test('a frame of exactly the limit is taken', async () => {
  const { server, client, close } = await pair();
  try {
    const got: Message[] = [];
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x', params: { pad: '' } });
    const padded = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x', params: { pad: 'p'.repeat(100 - Buffer.byteLength(body)) } });
    assert.equal(Buffer.byteLength(padded), 100);
    new SocketMessageReader(server, { maxFrameBytes: 100 }).listen((m) => got.push(m));
    client.write(frame(padded));
    await until('the frame', () => got.length === 1);
  } finally {
    await close();
  }
});

test('a header with no Content-Length, or one that is not a number, is refused', async () => {
  for (const header of ['Content-Type: x\r\n\r\n', 'Content-Length: 12a\r\n\r\n', 'no colon here\r\n\r\n']) {
    const { server, client, close } = await pair();
    try {
      new SocketMessageReader(server).listen(() => assert.fail('nothing is delivered'));
      let answered = '';
      let ended = false;
      client.on('data', (d) => (answered += d));
      client.on('end', () => (ended = true));
      client.write(header);
      await until(`the refusal of ${JSON.stringify(header)}`, () => ended);
      assert.match(answered, /no valid Content-Length/, header);
    } finally {
      await close();
    }
  }
});

test('the writer sends answers to pipelined requests in one write, once all are answered', async (t) => {
  const { server, client, close } = await pair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, server);
    const flow = new RequestFlow();
    flow.received = 3;
    const writer = new SocketMessageWriter(server, flow);
    let received = '';
    client.on('data', (d) => (received += d));
    for (const id of [1, 2, 3]) {
      await writer.write(answer(id));
      // vscode-jsonrpc answers one queued request per turn: so does this test.
      await nextTurn();
      if (id < 3) assert.deepEqual(writes, [], `held while request ${id + 1} is still unanswered`);
    }
    await until('the answers to reach the client', () => countFrames(received) === 3);
    assert.equal(writes.length, 1, 'one write carried all three answers');
    assert.equal(countFrames(writes[0]!), 3);
  } finally {
    await close();
  }
});

test('an answer with nothing else unanswered leaves at the end of its tick', async (t) => {
  const { server, close } = await pair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, server);
    const flow = new RequestFlow();
    flow.received = 1;
    const writer = new SocketMessageWriter(server, flow);
    await writer.write(answer(1));
    await new Promise((r) => process.nextTick(r));
    assert.equal(writes.length, 1);
  } finally {
    await close();
  }
});

test('the hold is bounded: after 2 ms, answers leave even while requests are unanswered', async (t) => {
  const { server, close } = await pair();
  try {
    const clock = frozenClock(t);
    const writes = recordWrites(t, server);
    const flow = new RequestFlow();
    flow.received = 10;
    const writer = new SocketMessageWriter(server, flow);
    await writer.write(answer(1));
    await nextTurn();
    await writer.write(answer(2));
    await nextTurn();
    assert.deepEqual(writes, [], 'still within the hold');
    clock.advance(2);
    await writer.write(answer(3));
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 1, 'released once the hold reached 2 ms');
    assert.equal(countFrames(writes[0]!), 3);
  } finally {
    await close();
  }
});

test('the hold is bounded: a deep pipeline gets its answers in groups of 16', async (t) => {
  const { server, close } = await pair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, server);
    const flow = new RequestFlow();
    flow.received = 40;
    const writer = new SocketMessageWriter(server, flow);
    for (let id = 1; id <= 17; id++) {
      await writer.write(answer(id));
      await nextTurn();
    }
    await nextTurn();
    assert.ok(writes.length >= 1, 'released at 16 held answers');
    assert.equal(countFrames(writes[0]!), 16);
  } finally {
    await close();
  }
});

test('the hold is bounded: a turn that answers nothing releases what is held', async (t) => {
  const { server, close } = await pair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, server);
    const flow = new RequestFlow();
    flow.received = 5;
    const writer = new SocketMessageWriter(server, flow);
    await writer.write(answer(1));
    await nextTurn();
    assert.deepEqual(writes, [], 'held: an answer came in the last turn');
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 1, 'no progress in a turn: what is held leaves');
  } finally {
    await close();
  }
});

test('frame() writes the byte length of UTF-8 bodies', () => {
  const json = JSON.stringify({ text: 'é✓😀' });
  assert.equal(encodeFrame(json).toString(), frame(json));
});
