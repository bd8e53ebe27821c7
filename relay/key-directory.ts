/**
 * The key directory (protocol v5, docs/security.md): each device's signed public keys, by user.
 * The relay checks only what keeps the directory tidy — a record is the session's own user and
 * device, and signed by its own key — and bounds it per user. It is not a trust anchor: cores
 * verify every record themselves and pin what they first saw, so a relay that swaps a key is
 * seen as a changed key, never believed. Synchronous and socket-free like the ledger: the
 * caller runs `handle` inside a write (lib/node/write-batcher.ts).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DeviceKeyRecord } from '../protocol/e2e';
import { MAX_DEVICES_PER_USER } from '../protocol/e2e';
import { deviceKeyRecordSchema } from '../protocol/e2e-schemas';
import { KEYS_REJECTION_CODES, type KeysFrame, type KeysPublishFrame, type KeysRejectionCode, type KeysResultFrame } from '../protocol/relay';
import { verifyDeviceRecord } from '../lib/node/e2e/device-record';

function keysRefusal(frame: KeysFrame, code: KeysRejectionCode, reason: string): KeysResultFrame {
  return { type: 'keys_result', request_id: frame.request_id, result: 'rejected', code, reason, retryable: false };
}

/**
 * The checks of a `keys_publish` that need no storage, the same whatever the engine: the record
 * is the session's own user and device, and signed by its own key. A refusal, or undefined.
 */
export function checkPublishedRecord(user: string, device: string, frame: KeysPublishFrame): KeysResultFrame | undefined {
  const { record } = frame;
  if (record.user !== user || record.device !== device) {
    return keysRefusal(frame, KEYS_REJECTION_CODES.badRecord, `a device publishes only its own keys: this session is ${user}'s device ${device}, the record is ${record.user}'s device ${record.device}`);
  }
  try {
    verifyDeviceRecord(record);
  } catch {
    return keysRefusal(frame, KEYS_REJECTION_CODES.badRecord, 'the record is not signed by its own key');
  }
  return undefined;
}

/** The refusal of a new device's record when the user has `maxDevices` already. */
export function limitRefusal(frame: KeysFrame, user: string, maxDevices: number): KeysResultFrame {
  return keysRefusal(frame, KEYS_REJECTION_CODES.limit, `${user} has keys for ${maxDevices} devices, this relay's most per user`);
}

export class KeyDirectory {
  private readonly s: {
    records: Statement<[string], { record: string }>;
    has: Statement<[string, string], { n: number }>;
    count: Statement<[string], { n: number }>;
    upsert: Statement<[string, string, string, string]>;
  };

  constructor(
    db: Database,
    private readonly maxDevices: number = MAX_DEVICES_PER_USER,
  ) {
    this.s = {
      records: db.prepare(`SELECT record FROM device_keys WHERE user = ? ORDER BY device LIMIT ${MAX_DEVICES_PER_USER}`),
      has: db.prepare('SELECT count(*) AS n FROM device_keys WHERE user = ? AND device = ?'),
      count: db.prepare('SELECT count(*) AS n FROM device_keys WHERE user = ?'),
      upsert: db.prepare(
        'INSERT INTO device_keys (user, device, record, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (user, device) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at',
      ),
    };
  }

  /** Every record of `user`, by device id. A stored row that no longer parses is left out, never served. */
  records(user: string): DeviceKeyRecord[] {
    return this.s.records.all(user).flatMap((row) => {
      const parsed = deviceKeyRecordSchema.safeParse(JSON.parse(row.record));
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** One keys request of the session (`user`, `device`), decided and written in the caller's transaction. */
  handle(user: string, device: string, frame: KeysFrame, now: Date): KeysResultFrame {
    if (frame.type === 'keys_get') return { type: 'keys_result', request_id: frame.request_id, result: 'ok', user: frame.user, records: this.records(frame.user) };
    const refused = checkPublishedRecord(user, device, frame);
    if (refused) return refused;
    const replacing = (this.s.has.get(user, device)?.n ?? 0) > 0;
    if (!replacing && (this.s.count.get(user)?.n ?? 0) >= this.maxDevices) {
      return limitRefusal(frame, user, this.maxDevices);
    }
    this.s.upsert.run(user, device, JSON.stringify(frame.record), now.toISOString());
    return { type: 'keys_result', request_id: frame.request_id, result: 'ok', user, records: this.records(user) };
  }
}
