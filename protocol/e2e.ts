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
