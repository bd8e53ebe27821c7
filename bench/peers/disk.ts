/**
 * How long the disk takes to make a write durable right now: Switchboard syncs before every
 * ack at every hop and the peers do not, so on a shared machine this figure, taken beside the
 * run, says how much of the gap is the disk's at that moment.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianBy } from './compare';

/** p50 and p99 of `count` appends of 4 KiB each followed by fdatasync, in the temp directory the systems' data live in. */
export function fsyncLatencyMs(count = 100): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, block);
      const started = process.hrtime.bigint();
      fdatasyncSync(fd);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: medianBy(times, (t) => t), p99: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]! };
}
