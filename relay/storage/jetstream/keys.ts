/**
 * `KeyDirectoryStorage` on the cluster: one KV key per device in `sb_keys`
 * (`<user token>.<device token>` → its signed record). The record checks are the SQLite
 * relay's own (relay/key-directory.ts).
 *
 * The per-user bound holds across nodes with creates only (nats-server 2.9.10 in a cluster
 * lets concurrent compare-and-set updates at one revision both succeed; creates it keeps to
 * one winner): a new device's record is *created*, then the user's keys are counted; a device
 * that finds more than the bound removes its own record and is refused. Of racing devices,
 * any that stays counted after every earlier creator, so no more than the bound stay (a race
 * may refuse one that would have fit: it retries). A device already there is replaced in place.
 */
import type { KV } from '@nats-io/kv';
import { MAX_DEVICES_PER_USER, type DeviceKeyRecord } from '../../../protocol/e2e';
import { deviceKeyRecordSchema } from '../../../protocol/e2e-schemas';
import type { KeysResultFrame } from '../../../protocol/relay';
import { checkPublishedRecord, limitRefusal } from '../../key-directory';
import { clusterCall } from '../../jetstream/errors';
import { token } from '../../jetstream/keys';
import { isWrongRevision } from '../../jetstream/kv-errors';
import { BUCKETS } from '../../jetstream/provision';
import type { KeyDirectoryStorage } from '../types';

export function jetstreamKeys(kv: KV, maxDevices: number = MAX_DEVICES_PER_USER): KeyDirectoryStorage {
  const prefix = (user: string) => `${token(user)}.`;

  const deviceKeys = async (user: string): Promise<string[]> => {
    const keys: string[] = [];
    for await (const key of await kv.keys(`${prefix(user)}*`)) keys.push(key);
    return keys.sort();
  };

  /** Every stored record of the user, by device key; one that no longer parses is left out, never served. */
  const records = async (user: string): Promise<DeviceKeyRecord[]> => {
    const out: DeviceKeyRecord[] = [];
    for (const key of (await deviceKeys(user)).slice(0, MAX_DEVICES_PER_USER)) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      try {
        const parsed = deviceKeyRecordSchema.safeParse(entry.json());
        if (parsed.success) out.push(parsed.data);
      } catch {
        // not JSON: left out
      }
    }
    return out;
  };

  return {
    publishKeys: (user, device, frame): Promise<KeysResultFrame> => {
      const refused = checkPublishedRecord(user, device, frame);
      if (refused) return Promise.resolve(refused);
      const key = `${prefix(user)}${token(device)}`;
      const value = JSON.stringify(frame.record);
      const ok = async (): Promise<KeysResultFrame> => ({ type: 'keys_result', request_id: frame.request_id, result: 'ok', user, records: await records(user) });
      return clusterCall(`kv create ${BUCKETS.keys}`, async () => {
        try {
          await kv.create(key, value);
        } catch (error) {
          if (!isWrongRevision(error)) throw error;
          // The device has a record: replace it (no new place taken).
          await kv.put(key, value);
          return ok();
        }
        if ((await deviceKeys(user)).length > maxDevices) {
          await kv.purge(key);
          return limitRefusal(frame, user, maxDevices);
        }
        return ok();
      });
    },
    getKeys: (frame) =>
      clusterCall(`kv get ${BUCKETS.keys}`, async (): Promise<KeysResultFrame> => ({ type: 'keys_result', request_id: frame.request_id, result: 'ok', user: frame.user, records: await records(frame.user) })),
  };
}
