/**
 * The asymmetric primitives on Node's own crypto (OpenSSL): X25519 and Ed25519 from the raw
 * 32-byte keys the key file and the wire carry. The pure-JS curves cost milliseconds per
 * envelope (issue 18's CPU target is 15% per message); OpenSSL's take tens of microseconds.
 *
 * Raw secrets become KeyObjects by prefixing the fixed DER header of their PKCS#8 form (RFC
 * 8410; once per identity). Public keys go through JWK (RFC 8037: `x` is the raw key in
 * base64url), which OpenSSL 3 imports and exports about 8× faster than DER, and the envelope
 * handles one or two per message. Public KeyObjects of recipients are cached by key (public
 * data; bounded); a secret's KeyObject is cached on the identity object (identity.ts).
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';

const PKCS8 = { ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'), x25519: Buffer.from('302e020100300506032b656e04220420', 'hex') };
const JWK_CURVE = { ed25519: 'Ed25519', x25519: 'X25519' } as const;

type Curve = keyof typeof PKCS8;

export function secretKey(curve: Curve, secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8[curve], secret]), format: 'der', type: 'pkcs8' });
}

/** Throws for anything but 32 bytes. */
export function publicKey(curve: Curve, raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`a ${curve} public key is 32 bytes`);
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: JWK_CURVE[curve], x }, format: 'jwk' });
}

/** The raw 32 bytes of a public key (or of a private key's public half): its JWK `x`. */
export function rawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url'));
}

/** The raw 32-byte secret (the tail of its PKCS#8 encoding). */
export function rawSecret(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }).subarray(16));
}

/** The public half of a raw secret. */
export function publicOf(curve: Curve, secret: Uint8Array): Uint8Array {
  return rawPublic(secretKey(curve, secret));
}

/**
 * A new key pair. generateKeyPairSync is asked for JWK, not KeyObjects, and the secret is
 * imported from that JWK: on Node 20 a garbage collection that frees a key-generation job while
 * a key of that job is being exported deadlocks the process (seen under load: `~KeyGenJob`
 * waiting on the key's mutex held by the JWK export), and a key imported from JWK has no job.
 * (Importing 32 random bytes as PKCS#8 instead costs 5× as much: OpenSSL 3's DER decoder.)
 */
export function freshPair(curve: Curve): { secret: KeyObject; raw: Uint8Array } {
  const options = { privateKeyEncoding: { format: 'jwk' }, publicKeyEncoding: { format: 'jwk' } } as const;
  const { privateKey } = (curve === 'ed25519' ? generateKeyPairSync('ed25519', options as never) : generateKeyPairSync('x25519', options as never)) as unknown as { privateKey: { d: string; x: string } };
  const secret = createPrivateKey({ key: { kty: 'OKP', crv: JWK_CURVE[curve], d: privateKey.d, x: privateKey.x }, format: 'jwk' });
  return { secret, raw: new Uint8Array(Buffer.from(privateKey.x, 'base64url')) };
}

/** X25519; OpenSSL refuses (throws) when the result is all zeros, i.e. a low-order public key. */
export function x25519(secret: KeyObject, peer: KeyObject): Uint8Array {
  return new Uint8Array(diffieHellman({ privateKey: secret, publicKey: peer }));
}

export function ed25519Sign(secret: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(edSign(null, message, secret));
}

/** False for a bad signature and for a key that is not a valid point (never throws). */
export function ed25519Verify(raw: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  try {
    return edVerify(null, message, cachedPublic('ed25519', raw), sig);
  } catch {
    return false;
  }
}

const CACHE_LIMIT = 1024;
const cache = new Map<string, KeyObject>();

/** A public KeyObject for `raw`, reused: peers' keys repeat on every envelope. */
export function cachedPublic(curve: Curve, raw: Uint8Array): KeyObject {
  const id = `${curve}:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`;
  let key = cache.get(id);
  if (!key) {
    key = publicKey(curve, raw);
    // Bounded: drop the oldest rather than grow with every key a relay could show us.
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(id, key);
  }
  return key;
}
