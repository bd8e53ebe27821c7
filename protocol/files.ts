/**
 * Files (attachments): the limits every part enforces and the binary chunk frame both ends of
 * a relay link read and write. No runtime dependencies (no node or DOM API), so the relay, the
 * core, the CLI, the extension and the webview can all import it.
 *
 * A file travels as a content-addressed blob: its SHA-256 (lowercase hex) names it. Its bytes
 * go in binary WebSocket frames (`BlobChunk`) between the JSON frames of the same link, at most
 * BLOB_CHUNK_BYTES of payload each, so a big file never holds up a message for longer than one
 * chunk takes on the wire. docs/relay.md ("Files") is the prose of this contract.
 */

/** Largest file the relay accepts unless configured otherwise (`relay serve --max-file-bytes`); announced in welcome. */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;
/** Most attachments on one message. */
export const MAX_ATTACHMENTS = 32;
/** Longest attachment name, in UTF-8 bytes (a file-system name's usual limit). */
export const MAX_ATTACHMENT_NAME_BYTES = 255;
/** Longest MIME type string. */
export const MAX_MIME_LENGTH = 127;
/** Payload bytes of one chunk frame: with its header, well inside RELAY_MAX_FRAME_BYTES. */
export const BLOB_CHUNK_BYTES = 192 * 1024;
/**
 * Most chunk payload bytes a sender has on the wire beyond what the other side acknowledged
 * (`blob_status.have` on upload); on resume after any failure at most this much is sent twice.
 */
export const BLOB_WINDOW_BYTES = 2 * 1024 * 1024;
/** The recipient's core downloads files up to this size (total per message) at once; larger ones on demand. */
export const DEFAULT_AUTO_DOWNLOAD_BYTES = 10 * 1024 * 1024;

/** A blob's name: SHA-256 of its bytes, lowercase hex. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

export function isSha256Hex(s: string): boolean {
  return SHA256_HEX_PATTERN.test(s);
}

/** What a binary frame carries: the first byte. */
export const BlobChunkKind = {
  /** core → relay: bytes of a blob being uploaded. */
  Put: 1,
  /** relay → core: bytes of a blob being downloaded (answering `blob_get`). */
  Data: 2,
} as const;
export type BlobChunkKind = (typeof BlobChunkKind)[keyof typeof BlobChunkKind];

/** kind (1) + sha256 (32) + offset (8, big-endian). */
export const BLOB_CHUNK_HEADER_BYTES = 41;

export interface BlobChunk {
  kind: BlobChunkKind;
  sha256: string;
  /** Where `data` starts in the blob. */
  offset: number;
  data: Uint8Array;
}

export function encodeBlobChunk(chunk: BlobChunk): Uint8Array {
  const out = new Uint8Array(BLOB_CHUNK_HEADER_BYTES + chunk.data.byteLength);
  out[0] = chunk.kind;
  out.set(hexToBytes(chunk.sha256), 1);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // offsets stay below 2^53: the high word is at most 2^21
  view.setUint32(33, Math.floor(chunk.offset / 2 ** 32));
  view.setUint32(37, chunk.offset >>> 0);
  out.set(chunk.data, BLOB_CHUNK_HEADER_BYTES);
  return out;
}

/**
 * The chunk in a binary frame, or a sentence saying why it is not one (a hostile or broken
 * peer's bytes are data: never trusted shapes). `data` is a view into `frame`, not a copy.
 */
export function decodeBlobChunk(frame: Uint8Array): BlobChunk | string {
  if (frame.byteLength < BLOB_CHUNK_HEADER_BYTES) return `a binary frame of ${frame.byteLength} bytes is shorter than a chunk header (${BLOB_CHUNK_HEADER_BYTES})`;
  const kind = frame[0];
  if (kind !== BlobChunkKind.Put && kind !== BlobChunkKind.Data) return `unknown binary frame kind ${kind}`;
  const payload = frame.byteLength - BLOB_CHUNK_HEADER_BYTES;
  if (payload === 0) return 'an empty chunk';
  if (payload > BLOB_CHUNK_BYTES) return `a chunk of ${payload} bytes is over the ${BLOB_CHUNK_BYTES}-byte limit`;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const high = view.getUint32(33);
  if (high >= 2 ** 21) return 'a chunk offset past 2^53';
  const offset = high * 2 ** 32 + view.getUint32(37);
  return { kind, sha256: bytesToHex(frame.subarray(1, 33)), offset, data: frame.subarray(BLOB_CHUNK_HEADER_BYTES) };
}

const HEX = '0123456789abcdef';

function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

function hexToBytes(hex: string): Uint8Array {
  if (!isSha256Hex(hex)) throw new Error('not a SHA-256 in lowercase hex');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
