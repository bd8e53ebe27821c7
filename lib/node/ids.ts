/**
 * Time-ordered ids (UUID v7, from the uuid package). Its default draws 16 random bytes from
 * the kernel per id; under load that syscall dominated a send, so random bytes come from a
 * pool refilled 4 KiB at a time.
 */
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const pool = Buffer.alloc(4096);
let offset = pool.length;

export function newId(): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + 16);
  offset += 16;
  return v7({ random });
}
