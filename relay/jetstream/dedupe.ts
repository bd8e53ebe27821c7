/**
 * The dedupe table: (sender, client_message_id) → the send's server id and fingerprint, in
 * KV bucket `sb_dedupe`. A claim is a KV *create*: of two nodes racing on the same key, exactly
 * one gets it; the other reads the winner's record. The table lives as long as the relay keeps
 * it (no TTL on the bucket), unlike the stream's Nats-Msg-Id window, which is minutes.
 */
import type { KV } from '@nats-io/kv';
import { clusterCall } from './errors';
import { token } from './keys';
import { isWrongRevision } from './kv-errors';
import { dedupeRecord, decodeEntry, encodeRecord, type DedupeRecord } from './records';
import { BUCKETS } from './provision';

export type Claim =
  | { kind: 'claimed'; record: DedupeRecord; revision: number }
  | { kind: 'existing'; record: DedupeRecord; revision: number };

export function dedupeKey(sender: string, clientMessageId: string): string {
  return `${token(sender)}.${token(clientMessageId)}`;
}

export class DedupeTable {
  constructor(private readonly kv: KV) {}

  /** Claims the key for `record` (state pending), or returns the record that already holds it. */
  async claim(sender: string, clientMessageId: string, record: Omit<DedupeRecord, 'state'>): Promise<Claim> {
    const key = dedupeKey(sender, clientMessageId);
    const pending: DedupeRecord = { ...record, state: 'pending' };
    return clusterCall(`kv create ${BUCKETS.dedupe}`, async () => {
      // Bounded: a lost race reads the winner; a winner's record that vanished (purged by the
      // relay's pruning between the two calls) is claimed again, at most twice.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const revision = await this.kv.create(key, encodeRecord(pending));
          return { kind: 'claimed', record: pending, revision };
        } catch (error) {
          if (!isWrongRevision(error)) throw error;
        }
        const entry = await this.kv.get(key);
        const existing = decodeEntry(dedupeRecord, entry, BUCKETS.dedupe);
        if (existing && entry) return { kind: 'existing', record: existing, revision: entry.revision };
      }
      throw new Error(`${BUCKETS.dedupe}: key ${key} keeps changing under its claim`);
    });
  }

  /** Marks a claim committed (every delivery appended). Idempotent: committed stays committed. */
  async commit(sender: string, clientMessageId: string, record: DedupeRecord, revision: number): Promise<void> {
    if (record.state === 'committed') return;
    const key = dedupeKey(sender, clientMessageId);
    await clusterCall(`kv update ${BUCKETS.dedupe}`, async () => {
      try {
        await this.kv.update(key, encodeRecord({ ...record, state: 'committed' }), revision);
      } catch (error) {
        if (!isWrongRevision(error)) throw error;
        // Someone else committed it first (a retry on another node): fine if it is the same send.
        const now = decodeEntry(dedupeRecord, await this.kv.get(key), BUCKETS.dedupe);
        if (!now || now.server_id !== record.server_id) throw new Error(`${BUCKETS.dedupe}: key ${key} changed owner while it was being committed`);
      }
    });
  }

  async get(sender: string, clientMessageId: string): Promise<DedupeRecord | undefined> {
    return clusterCall(`kv get ${BUCKETS.dedupe}`, async () => decodeEntry(dedupeRecord, await this.kv.get(dedupeKey(sender, clientMessageId)), BUCKETS.dedupe));
  }
}
