/**
 * End-to-end encryption contracts shared by the core and the relay (docs/security.md):
 * a device's signed public keys, and an envelope encrypted for a set of devices.
 * Types only; validators in `e2e-schemas.ts`. Binary values are base64url without padding.
 */

/** Most devices one user may publish keys for; the relay refuses more (a directory, bounded). */
export const MAX_DEVICES_PER_USER = 16;

/** Most recipient devices in one envelope: the recipient's devices plus the sender's own. */
export const MAX_ENVELOPE_RECIPIENTS = 2 * MAX_DEVICES_PER_USER;

/** A device's public keys, signed by the device's own Ed25519 key. The relay stores it; cores verify and pin it. */
export interface DeviceKeyRecord {
  v: 1;
  user: string;
  device: string;
  /** Ed25519 public key (32 bytes). */
  sign: string;
  /** X25519 public key (32 bytes). */
  dh: string;
  /** Milliseconds since the epoch, as the device said when it signed. */
  created_at: number;
  /** Ed25519 signature (64 bytes) by `sign` over the fields above. */
  sig: string;
}

/** The content key, wrapped for one device. */
export interface EnvelopeKey {
  user: string;
  device: string;
  /** The 32-byte content key sealed with XChaCha20-Poly1305 (48 bytes). */
  k: string;
}

export interface EncryptedEnvelope {
  v: 1;
  from: { user: string; device: string };
  /** Ephemeral X25519 public key of this envelope (32 bytes). */
  epk: string;
  /** XChaCha20-Poly1305 nonce of the content (24 bytes). */
  nonce: string;
  /** The payload's ciphertext and tag. */
  ct: string;
  keys: EnvelopeKey[];
  /** Ed25519 signature (64 bytes) of the sending device over everything above and the use's context. */
  sig: string;
}

/**
 * A direct message's body as the relay carries and stores it (protocol v6, `sealed` in the send
 * and deliver frames; docs/security.md "Direct messages"). A random content key encrypts the
 * payload once (XChaCha20-Poly1305); the key is wrapped for each device under the pairwise key of
 * the sending device and that device (static X25519, HKDF; only those two can derive it), so the
 * wrap authenticates the sender to each device without a signature. The message's id, client id,
 * sender, recipient and time enter every AEAD's associated data, and each wrap's also a hash of
 * the ciphertext, so neither can be moved to another message or swapped by another recipient.
 */
export interface SealedBody {
  v: 2;
  from: { user: string; device: string };
  /** 24 bytes: the content's XChaCha20-Poly1305 nonce, and each wrap's under its pairwise key. */
  nonce: string;
  /** The payload (`SealedPayload` as JSON) encrypted, with its tag. */
  ct: string;
  keys: EnvelopeKey[];
}

/** What a sealed body holds: every field of a direct message that carries content. */
export interface SealedPayload {
  body: string;
  reply_to: string | null;
  request_id: string | null;
  mentions?: string[];
}

/**
 * The most characters a `sealed` field may have at a relay that takes bodies of
 * `maxBodyBytes`: the payload's JSON (a body's escapes may double it), base64url (4/3), the
 * envelope's own fields and one wrapped key per device. The frame limit caps it as well.
 */
export function maxSealedChars(maxBodyBytes: number): number {
  return Math.ceil(((2 * maxBodyBytes + 1024) * 4) / 3) + 512 + MAX_ENVELOPE_RECIPIENTS * 256;
}
