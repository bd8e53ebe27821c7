/**
 * The Content-Length codec itself (server/rpc/frame-codec.ts), below the reader and the CLI's
 * client that use it: what a FrameError says it is, that a decoder is empty after it refuses a
 * header or is reset mid-frame (so the next frame starts clean), and parseBody's two answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '../../protocol/rpc';
import { encodeFrame, FrameDecoder, FrameError, parseBody } from '../../server/rpc/frame-codec';

test('a FrameError names itself and carries its JSON-RPC code', () => {
  const decoder = new FrameDecoder(1024);
  decoder.push(Buffer.from('Content-Length: 2048\r\n\r\n'));
  assert.throws(
    () => decoder.next(),
    (error: unknown) => error instanceof FrameError && error.name === 'FrameError' && error.rpcCode === ErrorCodes.FrameTooLarge && String(error).startsWith('FrameError: frame of 2048 bytes'),
  );
});

test('a decoder that refused a header is empty afterwards: the bad bytes are gone, a new frame decodes', () => {
  const decoder = new FrameDecoder(1024);
  decoder.push(Buffer.from('Content-Length: nope\r\n\r\n{"a":1}'));
  assert.throws(() => decoder.next(), FrameError);
  assert.equal(decoder.next(), undefined, 'nothing of the refused frame is left to read or to refuse again');
  decoder.push(encodeFrame('{"b":2}'));
  assert.equal(decoder.next(), '{"b":2}');
});

test('reset in the middle of a body forgets the header and the chunks held: the next frame starts clean', () => {
  const decoder = new FrameDecoder(1024);
  decoder.push(Buffer.from('Content-Length: 40\r\n\r\n{"partial":'));
  assert.equal(decoder.next(), undefined, 'the header is parsed, the body is not whole');
  decoder.push(Buffer.from('"more"'));
  decoder.push(Buffer.from(', "still": "more"'));
  decoder.reset();
  decoder.push(encodeFrame('{"fresh":true}'));
  decoder.push(encodeFrame('{"then":1}'));
  assert.equal(decoder.next(), '{"fresh":true}');
  assert.equal(decoder.next(), '{"then":1}');
  assert.equal(decoder.next(), undefined);
});

test('parseBody answers the parsed value, or the parser\'s reason without throwing', () => {
  assert.deepEqual(parseBody('{"jsonrpc":"2.0","id":1}'), { ok: true, value: { jsonrpc: '2.0', id: 1 } });
  const bad = parseBody('{"jsonrpc":');
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.error.length > 0 && /JSON/.test(bad.error), !bad.ok ? bad.error : '');
});
