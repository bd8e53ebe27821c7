/**
 * Per-device cursors in KV bucket `sb_cursors`: (user, device) → the highest delivery
 * sequence the device acked. "Ack up to" only ever moves a cursor forward: each write is a
 * compare-and-set on the key's revision, so two nodes acking for the same device (a
 * reconnect that raced its old connection) cannot move it back.
 *
 * nats-server 2.9.10 in a cluster does not hold that compare-and-set against writes still in
 * flight: of concurrent updates at one revision, several can succeed (measured here: up to 6
 * of 6 from two connections; creates are not affected). So each ack reads the cursor back
 * after writing and writes again while it reads less than it wrote. That narrows the race
 * without closing it (a lower write can land after the higher writer's read-back); a cursor
 * that does move back costs a redelivery, which cores drop as already stored, never a loss.
 */
import type { KV } from '@nats-io/kv';
import { clusterCall } from './errors';
import { token } from './keys';
import { isWrongRevision } from './kv-errors';
import { cursorRecord, decodeEntry, encodeRecord } from './records';
import { BUCKETS } from './provision';

export function cursorKey(user: string, device: string): string {
  return `${token(user)}.${token(device)}`;
}

export class CursorTable {
  constructor(private readonly kv: KV) {}

  async get(user: string, device: string): Promise<number> {
    return clusterCall(`kv get ${BUCKETS.cursors}`, async () => decodeEntry(cursorRecord, await this.kv.get(cursorKey(user, device)), BUCKETS.cursors)?.seq ?? 0);
  }

  /** Moves the cursor to `seq` unless it is already there or beyond; returns the cursor after. */
  async ackUpTo(user: string, device: string, seq: number): Promise<number> {
    const key = cursorKey(user, device);
    return clusterCall(`kv update ${BUCKETS.cursors}`, async () => {
      // Each lost race means another writer moved the cursor: bounded, as acks are few per device.
      for (let attempt = 0; attempt < 10; attempt++) {
        const entry = await this.kv.get(key);
        const current = decodeEntry(cursorRecord, entry, BUCKETS.cursors)?.seq ?? 0;
        if (seq <= current) return current;
        try {
          if (entry && entry.operation === 'PUT') await this.kv.update(key, encodeRecord({ seq }), entry.revision);
          else await this.kv.create(key, encodeRecord({ seq }));
          const after = decodeEntry(cursorRecord, await this.kv.get(key), BUCKETS.cursors)?.seq ?? 0;
          if (after >= seq) return after;
          // A concurrent lower ack overwrote ours (the 2.9 race above): write again.
        } catch (error) {
          if (!isWrongRevision(error)) throw error;
        }
      }
      throw new Error(`${BUCKETS.cursors}: cursor ${key} kept moving; ack not recorded`);
    });
  }
}
