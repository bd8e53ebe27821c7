/**
 * Relay tokens: random secrets shown once, stored only as a hash.
 *
 * A token is 256 random bits, so a fast hash is enough: nobody can guess or brute-force a
 * preimage of SHA-256 over 2^256 candidates, slow hash or not. The check is a few microseconds
 * on the event loop, so a stranger's bad hello costs the relay nothing it has to wait for.
 *
 * Rows written by older relays hold a scrypt hash (32 MiB and tens of ms on the libuv pool,
 * which also runs the WAL fsync). They still work: `LegacyTokenChecks` runs at most a couple
 * of them at a time, leaving the pool to the commits, and the relay rewrites such a row as
 * SHA-256 on its next successful login.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { StoredToken } from './storage/types';

export type { StoredToken, TokenHashKind } from './storage/types';

/** A token a person can paste: prefix says what it is, 32 random bytes make it unguessable. */
export function generateToken(): string {
  return `sbr_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): StoredToken {
  return { kind: 'sha256', hash: sha256(token), salt: Buffer.alloc(0) };
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compared in constant time; an unknown user is compared against a dummy so it costs the same. */
export function checkSha256Token(token: string, stored: Buffer | undefined): boolean {
  const derived = sha256(token);
  const expected = stored && stored.length === derived.length ? stored : UNKNOWN_USER_HASH;
  return timingSafeEqual(derived, expected) && expected !== UNKNOWN_USER_HASH;
}

const UNKNOWN_USER_HASH = randomBytes(32);

/** The parameters older relays hashed with: N=2^15, r=8 (about 32 MiB per check). */
const SCRYPT_KEY_LENGTH = 32;
const SCRYPT_OPTIONS: ScryptOptions = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** At most this many scrypt checks run at once: the libuv pool has 4 threads by default. */
export const LEGACY_CHECKS_AT_ONCE = 2;
/** Further checks wait in line up to this many; beyond, the hello is refused as busy. */
export const LEGACY_CHECKS_QUEUED = 32;

/** Checks against scrypt rows written by older relays, a bounded few at a time. */
export class LegacyTokenChecks {
  /** scrypt derivations started, for operators and tests. */
  started = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly atOnce = LEGACY_CHECKS_AT_ONCE,
    private readonly queued = LEGACY_CHECKS_QUEUED,
  ) {}

  /** False when the line is full: the caller refuses the hello as busy rather than wait. */
  hasRoom(): boolean {
    return this.waiting.length < this.queued;
  }

  async check(token: string, stored: StoredToken): Promise<boolean> {
    // A finishing check hands its slot straight to the next in line, so none can jump it.
    if (this.running < this.atOnce) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.started++;
    try {
      const derived = await deriveScrypt(token, stored.salt);
      return stored.hash.length === derived.length && timingSafeEqual(derived, stored.hash);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** The scrypt hash an older relay stored for `token`; exported for tests that build such rows. */
export function deriveScrypt(token: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    scrypt(token, salt, SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolvePromise(key)));
  });
}
