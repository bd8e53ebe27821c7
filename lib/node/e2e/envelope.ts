/**
 * Authenticated encryption of one payload for a set of devices.
 *
 * A random 32-byte content key encrypts the payload with XChaCha20-Poly1305 (random 24-byte
 * nonce). The key is wrapped for each recipient device: a fresh ephemeral X25519 key per
 * envelope, ECDH with the device's published X25519 key, HKDF-SHA256 to a wrapping key and
 * nonce, XChaCha20-Poly1305 again. The sender's device signs the whole envelope (Ed25519), so a
 * recipient knows which device wrote it and a relay cannot re-wrap, drop or swap a part.
 *
 * `context` binds the envelope to where it is used (e.g. the message's client id and its
 * conversation): it enters the signature and every AEAD, but is not carried, so an envelope
 * lifted into another message does not open.
 *
 * X25519, Ed25519, HKDF, ChaCha20-Poly1305 and the randomness are Node's (OpenSSL's,
 * node-keys.ts and aead.ts): the pure-JS curves made one envelope cost milliseconds. Only
 * XChaCha20's nonce extension (HChaCha20) is @noble/ciphers', as OpenSSL has none.
 */
import { hkdfSync, randomBytes as nodeRandomBytes } from 'node:crypto';
import type { EncryptedEnvelope, EnvelopeKey } from '../../../protocol/e2e';
import { MAX_ENVELOPE_RECIPIENTS } from '../../../protocol/e2e';
import { xchacha20poly1305 } from './aead';
import { E2eError, framed, fromB64, sameBytes, toB64, utf8 } from './bytes';
import { identityKeys, type DeviceIdentity } from './identity';
import { cachedPublic, ed25519Sign, ed25519Verify, freshPair, publicKey, rawPublic, secretKey, x25519 } from './node-keys';

const SIGN_DOMAIN = utf8('switchboard e2e envelope v1');
const CONTENT_DOMAIN = utf8('switchboard e2e content v1');
const WRAP_DOMAIN = utf8('switchboard e2e wrap v1');

export interface DeviceAddress {
  user: string;
  device: string;
}

export interface RecipientDevice extends DeviceAddress {
  /** The device's X25519 public key, from a verified and pinned record. */
  dh: Uint8Array;
}

export interface SealInput {
  sender: DeviceAddress;
  identity: DeviceIdentity;
  recipients: readonly RecipientDevice[];
  plaintext: Uint8Array;
  context: string;
}

/** What an envelope draws at random. Only known-answer tests pass their own (test/unit/e2e-crypto.test.ts). */
export interface FreshMaterial {
  contentKey: Uint8Array;
  nonce: Uint8Array;
  ephemeralSecret: Uint8Array;
}

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));

export function seal({ sender, identity, recipients, plaintext, context }: SealInput, fresh?: FreshMaterial): EncryptedEnvelope {
  if (recipients.length === 0) throw new E2eError('malformed', 'an envelope needs at least one recipient device');
  if (recipients.length > MAX_ENVELOPE_RECIPIENTS) throw new E2eError('malformed', `at most ${MAX_ENVELOPE_RECIPIENTS} recipient devices per envelope`);
  const ctx = utf8(context);
  const contentKey = fresh?.contentKey ?? randomBytes(32);
  const nonce = fresh?.nonce ?? randomBytes(24);
  // A fresh ephemeral key per envelope, by design: nothing derived from it is ever cached.
  const ephemeral = fresh ? { secret: secretKey('x25519', fresh.ephemeralSecret), raw: undefined } : freshPair('x25519');
  const epk = ephemeral.raw ?? rawPublic(ephemeral.secret);
  const ct = xchacha20poly1305(contentKey, nonce, contentAad(ctx, sender, epk)).encrypt(plaintext);
  const keys: EnvelopeKey[] = recipients.map((r) => {
    const { key, nonce: wrapNonce } = wrapKeys(x25519(ephemeral.secret, cachedPublic('x25519', r.dh)), epk, r);
    const k = xchacha20poly1305(key, wrapNonce, wrapAad(ctx, sender, r, epk)).encrypt(contentKey);
    return { user: r.user, device: r.device, k: toB64(k) };
  });
  const unsigned = { v: 1 as const, from: { user: sender.user, device: sender.device }, epk: toB64(epk), nonce: toB64(nonce), ct: toB64(ct), keys };
  const sig = ed25519Sign(identityKeys(identity).sign, signedBytes(ctx, unsigned));
  return { ...unsigned, sig: toB64(sig) };
}

export interface OpenInput {
  envelope: EncryptedEnvelope;
  me: DeviceAddress;
  identity: DeviceIdentity;
  /** The pinned Ed25519 key of the sending device, or undefined when it is not known. */
  senderKey: (from: DeviceAddress) => Uint8Array | undefined;
  context: string;
}

/** The plaintext, or an E2eError saying why not. Nothing is returned unless the signature and both tags verify. */
export function open({ envelope, me, identity, senderKey, context }: OpenInput): Uint8Array {
  const ctx = utf8(context);
  const epk = fromB64(envelope.epk, 32);
  const nonce = fromB64(envelope.nonce, 24);
  const ct = fromB64(envelope.ct);
  const sig = fromB64(envelope.sig, 64);
  if (envelope.keys.length > MAX_ENVELOPE_RECIPIENTS) throw new E2eError('malformed', 'too many recipient devices');
  const signer = senderKey(envelope.from);
  if (!signer) throw new E2eError('unknown-sender', `no key is known for ${envelope.from.user}'s device ${envelope.from.device}`);
  if (!ed25519Verify(signer, signedBytes(ctx, envelope), sig)) throw new E2eError('forged', `the envelope from ${envelope.from.user} is not signed by its device's key`);
  const mine = envelope.keys.find((k) => k.user === me.user && k.device === me.device);
  if (!mine) throw new E2eError('not-a-recipient', `the envelope from ${envelope.from.user} is not encrypted for this device`);
  const self: RecipientDevice = { ...me, dh: identity.dhPublic };
  let shared: Uint8Array;
  try {
    // The ephemeral key is new with each envelope: not cached. OpenSSL refuses a low-order one (an all-zero result); the check below says so again, whatever the library.
    shared = x25519(identityKeys(identity).dh, publicKey('x25519', epk));
  } catch {
    throw new E2eError('forged', 'the envelope carries an invalid ephemeral key');
  }
  if (sameBytes(shared, new Uint8Array(32))) throw new E2eError('forged', 'the envelope carries a low-order ephemeral key');
  const { key, nonce: wrapNonce } = wrapKeys(shared, epk, self);
  try {
    const contentKey = xchacha20poly1305(key, wrapNonce, wrapAad(ctx, envelope.from, self, epk)).decrypt(fromB64(mine.k, 48));
    return xchacha20poly1305(contentKey, nonce, contentAad(ctx, envelope.from, epk)).decrypt(ct);
  } catch (error) {
    if (error instanceof E2eError) throw error;
    throw new E2eError('forged', `the envelope from ${envelope.from.user} does not decrypt: it was altered`);
  }
}

function wrapKeys(shared: Uint8Array, epk: Uint8Array, r: RecipientDevice): { key: Uint8Array; nonce: Uint8Array } {
  const okm = new Uint8Array(hkdfSync('sha256', shared, framed(epk, r.dh), framed(WRAP_DOMAIN, utf8(r.user), utf8(r.device)), 56));
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 56) };
}

function contentAad(ctx: Uint8Array, from: DeviceAddress, epk: Uint8Array): Uint8Array {
  return framed(CONTENT_DOMAIN, ctx, utf8(from.user), utf8(from.device), epk);
}

function wrapAad(ctx: Uint8Array, from: DeviceAddress, to: DeviceAddress, epk: Uint8Array): Uint8Array {
  return framed(WRAP_DOMAIN, ctx, utf8(from.user), utf8(from.device), utf8(to.user), utf8(to.device), epk);
}

/** What the sender's device signs (exported for the tests that forge a signed envelope). */
export function signedBytes(ctx: Uint8Array, e: Omit<EncryptedEnvelope, 'sig'>): Uint8Array {
  const keys = e.keys.flatMap((k) => [utf8(k.user), utf8(k.device), fromB64(k.k)]);
  return framed(SIGN_DOMAIN, ctx, utf8(String(e.v)), utf8(e.from.user), utf8(e.from.device), fromB64(e.epk), fromB64(e.nonce), fromB64(e.ct), ...keys);
}
