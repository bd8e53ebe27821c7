/**
 * The framing's edges (server/rpc/framing.ts): header limits and parsing, every kind of invalid
 * message, the reader's lifecycle, and the writer on a dead or unread socket. Real sockets; chunk
 * boundaries that matter are set by emitting the socket's data events directly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message } from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../../protocol/rpc';
import { RequestFlow, SocketMessageReader, SocketMessageWriter } from '../../server/rpc/framing';
import { recordWrites, socketPair } from '../support/socket-pair';
import { frozenClock } from '../support/clock';
import { waitFor } from '../support/wait';

const until = (what: string, done: () => boolean) => waitFor(what, () => (done() ? true : undefined), 5000, 10);

const frame = (json: string) => `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
const answer = (id: number) => ({ jsonrpc: '2.0', id, result: id }) as Message;

/** The reader on a real socket, with the client's answers collected as parsed JSON. */
async function readerOn(limits?: { maxFrameBytes: number }) {
  const p = await socketPair();
  const got: Message[] = [];
  const flow = new RequestFlow();
  const reader = new SocketMessageReader(p.server, limits, flow);
  const listening = reader.listen((m) => got.push(m));
  let answered = '';
  let ended = false;
  p.client.on('data', (d) => (answered += d));
  p.client.on('end', () => (ended = true));
  const answers = () =>
    answered
      .split(/Content-Length: \d+\r\n\r\n/)
      .filter(Boolean)
      .map((json) => JSON.parse(json) as { id: unknown; error: { code: number; message: string } });
  return { ...p, got, flow, reader, listening, answers, ended: () => ended, answeredText: () => answered };
}

test('a header that grows past 1024 bytes without its blank line is refused; 1024 bytes is still waited on', async () => {
  const r = await readerOn();
  try {
    const json = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x' });
    const header = `X-Pad: ${'p'.repeat(1024 - 'X-Pad: \r\n'.length)}\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n`;
    // Chunk boundaries are chosen here, not by the kernel: the reader sees exactly these.
    r.server.emit('data', Buffer.from(header.slice(0, 1024)));
    r.server.emit('data', Buffer.from(header.slice(1024) + json));
    assert.equal(r.got.length, 1, 'a 1024-byte partial header is waited on, then the frame arrives');
  } finally {
    await r.close();
  }
  const tooLong = await readerOn();
  try {
    tooLong.server.emit('data', Buffer.from(`X-Pad: ${'p'.repeat(1025)}`));
    await until('the hang-up', tooLong.ended);
    assert.match(tooLong.answeredText(), /frame header too long or missing its blank line/);
    assert.equal(tooLong.answers()[0]!.error.code, ErrorCodes.InvalidRequest);
    assert.deepEqual(tooLong.got, []);
  } finally {
    await tooLong.close();
  }
});

test('Content-Length is found among other header lines, in any case, with spaces around its value', async () => {
  const r = await readerOn();
  try {
    const json = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'x' });
    r.client.write(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n  content-LENGTH :  ${Buffer.byteLength(json)} \r\n\r\n${json}`);
    await until('the frame', () => r.got.length === 1);
    assert.equal((r.got[0] as unknown as { id: number }).id, 7);
  } finally {
    await r.close();
  }
});

test('a Content-Length of more than ten digits, or with anything before its digits, is refused', async () => {
  for (const value of ['12345678901', 'x12', '-1']) {
    const r = await readerOn();
    try {
      r.client.write(`Content-Length: ${value}\r\n\r\n`);
      await until(`the refusal of ${value}`, r.ended);
      assert.match(r.answeredText(), /no valid Content-Length/, value);
    } finally {
      await r.close();
    }
  }
  // Ten digits is a number: refused by the size limit instead.
  const r = await readerOn();
  try {
    r.client.write('Content-Length: 9999999999\r\n\r\n');
    await until('the refusal', r.ended);
    assert.equal(r.answers()[0]!.error.code, ErrorCodes.FrameTooLarge);
  } finally {
    await r.close();
  }
});

test('invalid messages are answered one by one with what is wrong and the id when it is usable; valid ones arrive', async () => {
  const r = await readerOn();
  try {
    const invalid: [unknown, string, unknown][] = [
      ['text', 'a message must be a JSON object', null],
      [null, 'a message must be a JSON object', null],
      [{ jsonrpc: '1.0', id: 1, method: 'x' }, 'jsonrpc must be "2.0"', 1],
      [{ id: 2, method: 'x' }, 'jsonrpc must be "2.0"', 2],
      [{ jsonrpc: '2.0', id: 's', method: '' }, 'method must be a non-empty string', 's'],
      [{ jsonrpc: '2.0', id: 3, method: 5 }, 'method must be a non-empty string', 3],
      [{ jsonrpc: '2.0', id: { x: 1 }, method: 'x' }, 'id must be a string or a number', null],
      [{ jsonrpc: '2.0', id: null, method: 'x' }, 'id must be a string or a number', null],
      [{ jsonrpc: '2.0', id: 4, method: 'x', params: 'p' }, 'params must be an object or an array', 4],
      [{ jsonrpc: '2.0', id: 5, method: 'x', params: null }, 'params must be an object or an array', 5],
      [{ jsonrpc: '2.0', id: 6 }, 'neither a request, a notification nor a response', 6],
      [{ jsonrpc: '2.0', result: 1 }, 'neither a request, a notification nor a response', null],
    ];
    const valid = [
      { jsonrpc: '2.0', id: 10, method: 'x', params: [1] },
      { jsonrpc: '2.0', id: 'eleven', method: 'x', params: { a: 1 } },
      { jsonrpc: '2.0', method: 'notify' },
      { jsonrpc: '2.0', id: 12, result: null },
      { jsonrpc: '2.0', id: 13, error: { code: 1, message: 'm' } },
    ];
    r.client.write([...invalid.map(([m]) => m), ...valid].map((m) => frame(JSON.stringify(m))).join(''));
    await until('every answer and message', () => r.answers().length === invalid.length && r.got.length === valid.length);
    assert.deepEqual(
      r.answers().map((a) => [a.error.code, a.error.message, a.id]),
      invalid.map(([, why, id]) => [ErrorCodes.InvalidRequest, `invalid request: ${why}`, id]),
    );
    assert.deepEqual(r.got, valid);
    assert.equal(r.flow.received, 2, 'only requests (method and id) wait for an answer');
    assert.equal(r.ended(), false);
  } finally {
    await r.close();
  }
});

test('the reader reports its socket closing, and hears nothing once disposed', async () => {
  const r = await readerOn();
  try {
    let closed = false;
    r.reader.onClose(() => (closed = true));
    r.listening.dispose();
    r.server.emit('data', Buffer.from(frame(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x' }))));
    assert.deepEqual(r.got, []);
    const other = new SocketMessageReader(r.server);
    other.listen(() => {});
    other.onClose(() => (closed = true));
    r.client.destroy();
    await until('the close', () => closed);
  } finally {
    await r.close();
  }
});

test('nothing is written to a destroyed socket', async (t) => {
  const { server, close } = await socketPair();
  try {
    const writes = recordWrites(t, server);
    const writer = new SocketMessageWriter(server, new RequestFlow());
    await writer.write(answer(1));
    server.destroy();
    await nextTurn();
    await writer.write(answer(2));
    await nextTurn();
    assert.deepEqual(writes, []);
  } finally {
    await close();
  }
});

test('end() sends what is held at once', async (t) => {
  const { server, close } = await socketPair();
  try {
    frozenClock(t);
    const writes = recordWrites(t, server);
    const flow = new RequestFlow();
    flow.received = 3;
    const writer = new SocketMessageWriter(server, flow);
    await writer.write(answer(1));
    assert.deepEqual(writes, []);
    writer.end();
    assert.equal(writes.length, 1);
  } finally {
    await close();
  }
});

test('a client that leaves more than 16 MiB of answers unread is dropped', async () => {
  const { server, client, close } = await socketPair();
  try {
    client.pause();
    const writer = new SocketMessageWriter(server, new RequestFlow());
    const errors: string[] = [];
    writer.onError(([error]) => errors.push(error.message));
    await writer.write({ jsonrpc: '2.0', id: 1, result: 'small' } as Message);
    await nextTurn();
    assert.deepEqual(errors, [], 'a small answer is no reason to drop anyone');
    // The kernel takes a few hundred KiB of it at most: the rest stays in the socket's buffer.
    await writer.write({ jsonrpc: '2.0', id: 2, result: 'x'.repeat(20 * 1024 * 1024) } as Message);
    await nextTurn();
    assert.deepEqual(errors, ['client is not reading its responses; dropping it']);
    assert.equal(server.destroyed, true);
  } finally {
    await close();
  }
});
