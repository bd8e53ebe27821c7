/**
 * Trust on first use: what a core makes of a user's device records fetched from the key
 * directory, given what it pinned before. Pure: the store and the relay are the caller's.
 *
 * Only records that verify and are the user's own count. The first set seen is pinned. Later,
 * a set that is the pinned one or a part of it (a device gone) keeps the pin (narrowed); any
 * added device or replaced key is a change: the pin stays, the new set waits as `pending`
 * until the person accepts it, and nothing is encrypted to or believed from it meanwhile.
 */
import type { DeviceKeyRecord } from '../../../protocol/e2e';
import { verifyDeviceRecord } from './device-record';

export type TrustState = 'unverified' | 'verified' | 'changed';

export interface PinnedKeys {
  pinned: DeviceKeyRecord[];
  pending: DeviceKeyRecord[] | null;
  verified: boolean;
}

/** The records of `user` that verify under their own keys, one per device, by device id. */
export function verifiedRecords(user: string, records: readonly DeviceKeyRecord[]): DeviceKeyRecord[] {
  const byDevice = new Map<string, DeviceKeyRecord>();
  for (const record of records) {
    if (record.user !== user) continue;
    try {
      verifyDeviceRecord(record);
    } catch {
      continue;
    }
    byDevice.set(record.device, record);
  }
  return [...byDevice.values()].sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
}

export function trustState(pins: PinnedKeys | undefined): TrustState {
  if (!pins) return 'unverified';
  if (pins.pending) return 'changed';
  return pins.verified ? 'verified' : 'unverified';
}

/** The pins after a fetch of `fetched` (verified records of the user); undefined when there is nothing to pin. */
export function reconcile(current: PinnedKeys | undefined, fetched: DeviceKeyRecord[]): PinnedKeys | undefined {
  if (!current) return fetched.length === 0 ? undefined : { pinned: fetched, pending: null, verified: false };
  const pinnedKey = new Map(current.pinned.map((r) => [r.device, keyOf(r)]));
  const within = fetched.every((r) => pinnedKey.get(r.device) === keyOf(r));
  // A fetch that shows nothing (the relay lost its rows, or hides them) changes no pin.
  if (fetched.length === 0) return current;
  if (within) return { pinned: current.pinned.filter((r) => fetched.some((f) => f.device === r.device)), pending: null, verified: current.verified };
  return { ...current, pending: fetched };
}

/** The person accepted the changed keys: they become the pin, not yet verified. */
export function acceptChange(current: PinnedKeys): PinnedKeys {
  return current.pending ? { pinned: current.pending, pending: null, verified: false } : current;
}

function keyOf(r: DeviceKeyRecord): string {
  return `${r.sign}.${r.dh}`;
}
