/** writesPerTurn: frames written in one event-loop turn leave in one write, and nothing is held past that turn. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { writesPerTurn } from '../../lib/node/turn-writes';

/** A stream that records each write it is handed: one entry per underlying write. */
function recordingStream(): { stream: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => String(c.chunk)));
      done();
    },
  });
  return { stream, writes };
}

test('frames written in one turn go out together, at the end of that turn', async () => {
  const { stream, writes } = recordingStream();
  const hold = writesPerTurn(stream);
  for (const frame of ['a', 'b', 'c']) {
    hold();
    stream.write(frame);
  }
  assert.deepEqual(writes, [], 'held while the turn runs');
  await nextTurn();
  assert.deepEqual(writes, [['a', 'b', 'c']]);
});

test('each turn is released on its own, so a quiet link waits for nothing', async () => {
  const { stream, writes } = recordingStream();
  const hold = writesPerTurn(stream);
  hold();
  stream.write('first');
  await nextTurn();
  hold();
  stream.write('second');
  await nextTurn();
  assert.deepEqual(writes, [['first'], ['second']]);
});
