/**
 * The progress bar (server/cli/progress.ts) on a real Writable posing as a terminal: drawn in
 * place on a TTY, never wider than it, redrawn only when what it shows changes, erased at the
 * end; nothing at all on a pipe or under --json. Peer names on it are inert.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ProgressBar, barCells, progressLine } from '../../server/cli/progress';

/** A stream that records what is written; `isTTY` and `columns` as a terminal (or a pipe) has them. */
class FakeStream extends Writable {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns: number | undefined = 80,
  ) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
}

const MiB = 1024 * 1024;

test('a terminal gets a bar; a pipe and --json get nothing', () => {
  assert.ok(ProgressBar.open(new FakeStream(true), 'sending', { json: false }));
  assert.equal(ProgressBar.open(new FakeStream(false), 'sending', { json: false }), undefined);
  assert.equal(ProgressBar.open(new FakeStream(true), 'sending', { json: true }), undefined);
});

test('each redraw returns to the start of the line and erases what was there; done erases the bar', () => {
  const stream = new FakeStream(true, 80);
  const bar = ProgressBar.open(stream, 'sending', { json: false })!;
  bar.update({ index: 0, count: 1, name: 'report.pdf', transferred: 0, size: 10 * MiB });
  bar.update({ index: 0, count: 1, name: 'report.pdf', transferred: 5 * MiB, size: 10 * MiB });
  bar.done();
  assert.equal(stream.chunks.length, 3);
  assert.match(stream.chunks[0]!, /^\rsending report\.pdf \[-+\]   0% 0 B\/10 MiB\u001b\[K$/);
  assert.match(stream.chunks[1]!, /^\rsending report\.pdf \[#+-+\]  50% 5 MiB\/10 MiB\u001b\[K$/);
  assert.equal(stream.chunks[2], '\r\u001b[K');
  // done twice, or done with nothing drawn, writes nothing more
  bar.done();
  assert.equal(stream.chunks.length, 3);
});

test('the same picture is not drawn twice', () => {
  const stream = new FakeStream(true, 80);
  const bar = ProgressBar.open(stream, 'downloading', { json: false })!;
  for (let i = 0; i < 100; i++) bar.update({ index: 0, count: 1, name: 'big.iso', transferred: 5 * MiB + i, size: 100 * MiB });
  assert.equal(stream.chunks.length, 1);
});

test('the line never reaches the last column, however narrow the terminal or long the name', () => {
  for (const columns of [20, 40, 80, 200]) {
    const line = progressLine('downloading', { index: 2, count: 12, name: 'n'.repeat(500), transferred: 3 * MiB, size: 7 * MiB }, columns);
    assert.ok(line.length <= Math.max(20, columns - 1), `${columns} columns: ${line.length}`);
    assert.match(line, /^downloading/);
  }
  assert.match(progressLine('sending', { index: 2, count: 12, name: 'a.txt', transferred: 1, size: 2 }, 80), / \(3\/12\) \[/);
});

test('a peer name cannot move the cursor or recolour the terminal', () => {
  const line = progressLine('downloading', { index: 0, count: 1, name: 'evil\u001b[2J\u001b]0;pwned\u0007\r.txt', transferred: 1, size: 2 }, 200);
  assert.ok(!/[\u0000-\u001f]/.test(line), JSON.stringify(line));
  assert.match(line, /<U\+001B>/);
});

test('the bar fills in proportion; an empty file is complete', () => {
  assert.equal(barCells(0, 10), '[----------]');
  assert.equal(barCells(0.5, 10), '[#####-----]');
  assert.equal(barCells(1, 10), '[##########]');
  assert.equal(barCells(2, 10), '[##########]');
  assert.match(progressLine('sending', { index: 0, count: 1, name: 'empty', transferred: 0, size: 0 }, 80), / 100% 0 B\/0 B$/);
});
