/**
 * Direct (1:1) message bodies, encrypted for every device of the recipient and the sender's
 * own other devices (docs/security.md, "Direct messages").
 *
 * Per pair of devices, a pairwise key: X25519 of the two static key-agreement keys, HKDF-SHA256
 * (salt: both public keys; info: both addresses, in a fixed order), so both devices derive the
 * same key and no one else can. It is made once and kept in memory (bounded), which is what
 * keeps a message's cost near a plain frame's: no ephemeral X25519 and no Ed25519 signature per
 * message (envelope.ts, made for the general case, costs ~100× more).
 *
 * Per message: a random content key and a random 24-byte nonce; the payload is encrypted once
 * (XChaCha20-Poly1305), and the content key wrapped for each device under that pair's key with
 * the same nonce (a different key per device, so never a repeated key and nonce). The context
 * (message id, client id, sender, recipient, time) enters every AAD; each wrap's AAD also holds
 * both devices and SHA-256 of the ciphertext, so a recipient device, which knows the content
 * key, cannot hand another device a different ciphertext under the same wrap.
 *
 * A wrap that opens proves the sealing device is the sender's device or this one (the only two
 * holders of the pair's key), and the direction is in the AAD. That is authentication without
 * non-repudiation: the recipient could have made it too (deniability; docs/security.md).
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { EnvelopeKey, SealedBody, SealedPayload } from '../../../protocol/e2e';
import { MAX_ENVELOPE_RECIPIENTS } from '../../../protocol/e2e';
import { sealedBodySchema, sealedPayloadSchema } from '../../../protocol/e2e-schemas';
import { xchacha20poly1305 } from './aead';
import { E2eError, framed, fromB64, sameBytes, toB64, utf8 } from './bytes';
import type { DeviceAddress, RecipientDevice } from './envelope';
import { identityKeys, type DeviceIdentity } from './identity';
import { cachedPublic, x25519 } from './node-keys';

const PAIR_DOMAIN = utf8('switchboard e2e pairwise v1');
const CONTENT_DOMAIN = utf8('switchboard e2e direct content v2');
const WRAP_DOMAIN = utf8('switchboard e2e direct wrap v2');

/** What a sealed body is bound to; carried in the frame beside it, authenticated in every AEAD. */
export interface DirectContext {
  id: string;
  client_message_id: string;
  from: string;
  to: string;
  created_at: string;
}

/**
 * Randomness drawn 4 KiB at a time and handed out once each, never twice: one getrandom call per
 * ~70 messages instead of one per message (it was a tenth of a seal's CPU).
 */
let pool = Buffer.alloc(0);
let poolAt = 0;
function freshBytes(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

const PAIR_CACHE_LIMIT = 4096;
const pairCache = new Map<string, Uint8Array>();

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The pairwise key of this device and `peer`, the same on both sides; cached by both public keys and addresses. */
export function pairwiseKey(identity: DeviceIdentity, me: DeviceAddress, peer: RecipientDevice): Uint8Array {
  const id = `${b64(identity.dhPublic)}|${me.user}|${me.device}|${b64(peer.dh)}|${peer.user}|${peer.device}`;
  let key = pairCache.get(id);
  if (key) return key;
  let shared: Uint8Array;
  try {
    shared = x25519(identityKeys(identity).dh, cachedPublic('x25519', peer.dh));
  } catch {
    throw new E2eError('forged', `${peer.user}'s device ${peer.device} has an invalid key-agreement key`);
  }
  if (sameBytes(shared, new Uint8Array(32))) throw new E2eError('forged', `${peer.user}'s device ${peer.device} has a low-order key-agreement key`);
  // One order for both sides: by public key, then the addresses in that order.
  const mine = { dh: identity.dhPublic, ...me };
  const [a, b] = Buffer.compare(Buffer.from(mine.dh), Buffer.from(peer.dh)) <= 0 ? [mine, peer] : [peer, mine];
  key = new Uint8Array(hkdfSync('sha256', shared, framed(a.dh, b.dh), framed(PAIR_DOMAIN, utf8(a.user), utf8(a.device), utf8(b.user), utf8(b.device)), 32));
  if (pairCache.size >= PAIR_CACHE_LIMIT) pairCache.delete(pairCache.keys().next().value!);
  pairCache.set(id, key);
  return key;
}

function contextBytes(c: DirectContext): Uint8Array {
  return framed(utf8('direct'), utf8(c.id), utf8(c.client_message_id), utf8(c.from), utf8(c.to), utf8(c.created_at));
}

function contentAad(ctx: Uint8Array, from: DeviceAddress): Uint8Array {
  return framed(CONTENT_DOMAIN, ctx, utf8(from.user), utf8(from.device));
}

/** `digest`: SHA-256 of the ciphertext (ctDigest), once per message. */
function wrapAad(ctx: Uint8Array, from: DeviceAddress, to: DeviceAddress, nonce: Uint8Array, digest: Uint8Array): Uint8Array {
  return framed(WRAP_DOMAIN, ctx, utf8(from.user), utf8(from.device), utf8(to.user), utf8(to.device), nonce, digest);
}

function ctDigest(ct: Uint8Array): Uint8Array {
  return createHash('sha256').update(ct).digest();
}

export interface SealDirectInput {
  sender: DeviceAddress;
  identity: DeviceIdentity;
  /** Pinned devices of the recipient and the sender's other devices (this one only for a message to oneself). */
  recipients: readonly RecipientDevice[];
  payload: SealedPayload;
  context: DirectContext;
}

/** The sealed body as the `sealed` field carries it (JSON text; opaque to the relay). */
export function sealDirect({ sender, identity, recipients, payload, context }: SealDirectInput): string {
  const targets = recipients;
  if (targets.length === 0) throw new E2eError('malformed', 'a sealed body needs at least one recipient device');
  if (targets.length > MAX_ENVELOPE_RECIPIENTS) throw new E2eError('malformed', `at most ${MAX_ENVELOPE_RECIPIENTS} recipient devices per message`);
  const ctx = contextBytes(context);
  const fresh = freshBytes(56);
  const contentKey = new Uint8Array(fresh.buffer, fresh.byteOffset, 32);
  const nonce = new Uint8Array(fresh.buffer, fresh.byteOffset + 32, 24);
  const ct = xchacha20poly1305(contentKey, nonce, contentAad(ctx, sender)).encrypt(utf8(JSON.stringify(payload)));
  const digest = ctDigest(ct);
  const keys: EnvelopeKey[] = targets.map((r) => {
    const k = xchacha20poly1305(pairwiseKey(identity, sender, r), nonce, wrapAad(ctx, sender, r, nonce, digest)).encrypt(contentKey);
    return { user: r.user, device: r.device, k: toB64(k) };
  });
  const sealed: SealedBody = { v: 2, from: { user: sender.user, device: sender.device }, nonce: toB64(nonce), ct: toB64(ct), keys };
  return JSON.stringify(sealed);
}

export interface OpenDirectInput {
  sealed: string;
  me: DeviceAddress;
  identity: DeviceIdentity;
  context: DirectContext;
  /** The pinned key-agreement key of the sending device; undefined when none is pinned. */
  senderKey: (from: DeviceAddress) => Uint8Array | undefined;
}

/** The payload, or an E2eError saying why not: nothing is returned unless both tags verify and the sender is the message's. */
export function openDirect({ sealed, me, identity, context, senderKey }: OpenDirectInput): SealedPayload {
  let parsed: SealedBody;
  try {
    parsed = sealedBodySchema.parse(JSON.parse(sealed));
  } catch {
    throw new E2eError('malformed', 'the sealed body is not a v2 envelope');
  }
  // The relay names the sender; the envelope must be sealed by one of that user's devices.
  if (parsed.from.user !== context.from) throw new E2eError('forged', `the message from ${context.from} is sealed by ${parsed.from.user}`);
  const mine = parsed.keys.find((k) => k.user === me.user && k.device === me.device);
  if (!mine) throw new E2eError('not-a-recipient', `the message from ${context.from} is not encrypted for this device`);
  const dh = senderKey(parsed.from);
  if (!dh) throw new E2eError('unknown-sender', `no key is pinned for ${parsed.from.user}'s device ${parsed.from.device}`);
  const ctx = contextBytes(context);
  const nonce = fromB64(parsed.nonce, 24);
  const ct = fromB64(parsed.ct);
  let plaintext: Uint8Array;
  try {
    const key = pairwiseKey(identity, me, { ...parsed.from, dh });
    const contentKey = xchacha20poly1305(key, nonce, wrapAad(ctx, parsed.from, me, nonce, ctDigest(ct))).decrypt(fromB64(mine.k, 48));
    plaintext = xchacha20poly1305(contentKey, nonce, contentAad(ctx, parsed.from)).decrypt(ct);
  } catch (error) {
    if (error instanceof E2eError) throw error;
    throw new E2eError('forged', `the message from ${context.from} does not decrypt: it was altered, or not sealed by ${parsed.from.user}'s device ${parsed.from.device}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    json = undefined;
  }
  const payload = sealedPayloadSchema.safeParse(json);
  if (!payload.success) throw new E2eError('malformed', `the message from ${context.from} decrypts to no valid payload`);
  return payload.data;
}

/** The associated data, for the tests that forge with a recipient's knowledge (test/unit/e2e-direct-seal.test.ts). */
export const directAadForTests = { contextBytes, contentAad, wrapAad, ctDigest };
