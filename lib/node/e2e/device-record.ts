/**
 * A device's public keys as published to the relay's key directory: who (user, device id),
 * the two public keys, and the device's own Ed25519 signature over all of it. The relay only
 * stores and serves records; a core verifies the signature and pins the keys (trust on first use).
 */
import type { DeviceKeyRecord } from '../../../protocol/e2e';
import { E2eError, framed, fromB64, toB64, utf8 } from './bytes';
import { identityKeys, type DeviceIdentity } from './identity';
import { ed25519Sign, ed25519Verify } from './node-keys';

const DOMAIN = utf8('switchboard device-key record v1');

function signedBytes(r: Omit<DeviceKeyRecord, 'sig'>): Uint8Array {
  return framed(DOMAIN, utf8(r.user), utf8(r.device), fromB64(r.sign, 32), fromB64(r.dh, 32), utf8(String(r.created_at)));
}

export function signDeviceRecord(identity: DeviceIdentity, user: string, device: string, createdAt: number): DeviceKeyRecord {
  const unsigned = { v: 1 as const, user, device, sign: toB64(identity.signPublic), dh: toB64(identity.dhPublic), created_at: createdAt };
  return { ...unsigned, sig: toB64(ed25519Sign(identityKeys(identity).sign, signedBytes(unsigned))) };
}

/** The record's public keys once its self-signature verifies; throws E2eError otherwise. */
export function verifyDeviceRecord(record: DeviceKeyRecord): { sign: Uint8Array; dh: Uint8Array } {
  const sign = fromB64(record.sign, 32);
  const dh = fromB64(record.dh, 32);
  const sig = fromB64(record.sig, 64);
  if (!ed25519Verify(sign, signedBytes(record), sig)) throw new E2eError('forged', `the key record of ${record.user}'s device ${record.device} is not signed by its own key`);
  return { sign, dh };
}
