/**
 * Relay tokens: random secrets shown once, stored only as a scrypt hash with a per-user salt.
 * scrypt is slow on purpose so a stolen database does not yield tokens cheaply; the relay
 * checks a token once per connection, so the cost is paid rarely.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** N=2^15, r=8: about 32 MiB and tens of milliseconds per check on a laptop. */
const SCRYPT_OPTIONS: ScryptOptions = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface TokenHash {
  hash: Buffer;
  salt: Buffer;
}

/** A token a person can paste: prefix says what it is, 32 random bytes make it unguessable. */
export function generateToken(): string {
  return `sbr_${randomBytes(32).toString('base64url')}`;
}

function derive(token: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    scrypt(token, salt, KEY_LENGTH, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolvePromise(key)));
  });
}

export async function hashToken(token: string): Promise<TokenHash> {
  const salt = randomBytes(SALT_LENGTH);
  return { hash: await derive(token, salt), salt };
}

/** Constant-time comparison; a missing credential still pays for one derivation. */
export async function verifyToken(token: string, stored: TokenHash | undefined): Promise<boolean> {
  const salt = stored?.salt ?? Buffer.alloc(SALT_LENGTH);
  const derived = await derive(token, salt);
  if (!stored || stored.hash.length !== derived.length) return false;
  return timingSafeEqual(derived, stored.hash);
}
