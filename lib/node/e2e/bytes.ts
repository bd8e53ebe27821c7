/** Byte helpers for the end-to-end crypto: base64url on the wire, length-prefixed framing for what is signed. */

export function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes base64url, refusing anything that does not round-trip (so one value has one spelling) or has the wrong length. */
export function fromB64(text: string, length?: number): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (toB64(bytes) !== text) throw new E2eError('malformed', 'not canonical base64url');
  if (length !== undefined && bytes.length !== length) throw new E2eError('malformed', `expected ${length} bytes, got ${bytes.length}`);
  return bytes;
}

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Concatenates parts, each preceded by its length (4 bytes, big-endian): what gets signed or
 * authenticated can never be re-cut into different fields with the same bytes.
 */
export function framed(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Why a record or an envelope was refused. `malformed`: not even shaped right; `forged`: a signature or a tag did not verify. */
export type E2eFailure = 'malformed' | 'forged' | 'not-a-recipient' | 'unknown-sender';

export class E2eError extends Error {
  constructor(
    readonly reason: E2eFailure,
    message: string,
  ) {
    super(message);
    this.name = 'E2eError';
  }
}
