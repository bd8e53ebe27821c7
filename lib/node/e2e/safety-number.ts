/**
 * Safety numbers: one 60-digit number per pair of users, the same on both sides, that changes
 * whenever either user's set of device signing keys changes. Modelled on Signal's numeric
 * fingerprint: each side's 30 digits come from an iterated SHA-512 over its sorted keys and its
 * name, and the two halves are ordered by name so both users see the same number. SHA-512 is
 * Node's (OpenSSL's): 5200 rounds of the pure-JS one took seconds on a loaded machine.
 */
import { createHash } from 'node:crypto';
import { framed, utf8 } from './bytes';

const VERSION = utf8('switchboard safety number v1');
/** Iterations of the hash: Signal's figure, so a second pre-image costs that much more per guess. */
const ITERATIONS = 5200;

export interface UserKeys {
  user: string;
  /** Ed25519 public keys of every device of the user. */
  signKeys: readonly Uint8Array[];
}

export function safetyNumber(a: UserKeys, b: UserKeys): string {
  const [first, second] = a.user <= b.user ? [a, b] : [b, a];
  return halfDigits(first) + halfDigits(second);
}

/** The number in twelve groups of five digits, as shown and as typed to `verify --confirm`. */
export function groupSafetyNumber(digits: string): string {
  return digits.match(/.{1,5}/g)!.join(' ');
}

/** Digits only, so a number pasted with spaces or line breaks compares equal. */
export function normaliseSafetyNumber(typed: string): string {
  return typed.replace(/[\s-]/g, '');
}

const sha512 = (bytes: Uint8Array): Uint8Array => createHash('sha512').update(bytes).digest();

function halfDigits({ user, signKeys }: UserKeys): string {
  const sorted = [...signKeys].sort(compareBytes);
  const keys = framed(...sorted);
  let hash = sha512(framed(VERSION, keys, utf8(user)));
  for (let i = 1; i < ITERATIONS; i++) hash = sha512(framed(hash, keys));
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + hash[chunk * 5 + i]!;
    out += String(value % 100000).padStart(5, '0');
  }
  return out;
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
