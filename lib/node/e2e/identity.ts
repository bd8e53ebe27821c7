/**
 * A home's device identity: an Ed25519 signing key and an X25519 key-agreement key, made once
 * per home and kept in `<home>/device-keys.json` (0600). The private halves never leave that
 * file or this process; only the public halves are published (device-record.ts).
 */
import type { KeyObject } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { E2eError, fromB64, toB64 } from './bytes';
import { freshPair, publicOf, rawSecret, secretKey } from './node-keys';

export const DEVICE_KEYS_FILE = 'device-keys.json';

export interface DeviceIdentity {
  signPublic: Uint8Array;
  signSecret: Uint8Array;
  dhPublic: Uint8Array;
  dhSecret: Uint8Array;
}

export function generateIdentity(): DeviceIdentity {
  const sign = freshPair('ed25519');
  const dh = freshPair('x25519');
  return { signSecret: rawSecret(sign.secret), signPublic: sign.raw, dhSecret: rawSecret(dh.secret), dhPublic: dh.raw };
}

export function identityFromSecrets(signSecret: Uint8Array, dhSecret: Uint8Array): DeviceIdentity {
  return { signSecret, signPublic: publicOf('ed25519', signSecret), dhSecret, dhPublic: publicOf('x25519', dhSecret) };
}

const keyObjects = new WeakMap<DeviceIdentity, { sign: KeyObject; dh: KeyObject }>();

/** The identity's secrets as KeyObjects, made once per identity object (they sign and open every envelope). */
export function identityKeys(id: DeviceIdentity): { sign: KeyObject; dh: KeyObject } {
  let keys = keyObjects.get(id);
  if (!keys) {
    keys = { sign: secretKey('ed25519', id.signSecret), dh: secretKey('x25519', id.dhSecret) };
    keyObjects.set(id, keys);
  }
  return keys;
}

export function deviceKeysPath(home: string): string {
  return join(home, DEVICE_KEYS_FILE);
}

/**
 * The home's identity, made on first call (at `init`, or lazily for a home made before there
 * were keys). Creation is exclusive: the new file is linked into place, which fails if another
 * process got there first, and then that process's keys are the ones read and used.
 */
export function loadOrCreateIdentity(home: string): DeviceIdentity {
  const path = deviceKeysPath(home);
  const existing = readIdentity(path);
  if (existing) return existing;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const fresh = generateIdentity();
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, serialise(fresh), { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(tmp);
  }
  return readIdentity(path)!;
}

/** The identity stored at `path`, or undefined when there is none yet; a file others can read is tightened to 0600. */
export function readIdentity(path: string): DeviceIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return parse(text, path);
}

function serialise(id: DeviceIdentity): string {
  return `${JSON.stringify({ v: 1, sign_secret: toB64(id.signSecret), dh_secret: toB64(id.dhSecret) }, null, 2)}\n`;
}

function parse(text: string, path: string): DeviceIdentity {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new E2eError('malformed', `${path} is not JSON: it holds this home's device keys; restore it from a backup`);
  }
  const r = raw as { v?: unknown; sign_secret?: unknown; dh_secret?: unknown };
  if (r.v !== 1 || typeof r.sign_secret !== 'string' || typeof r.dh_secret !== 'string') {
    throw new E2eError('malformed', `${path} does not hold version-1 device keys`);
  }
  // Public halves are derived, never stored: a file cannot pair one key's secret with another's public half.
  return identityFromSecrets(fromB64(r.sign_secret, 32), fromB64(r.dh_secret, 32));
}
