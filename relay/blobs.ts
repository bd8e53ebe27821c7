/**
 * Blob uploads and downloads over a v3 connection (docs/relay.md, "Files"): the state of each
 * transfer; its bytes (`BlobContent`) and its records (`BlobRecords`) are the storage's
 * (relay/storage/types.ts). The protocol is in the doc comments of protocol/relay.ts (v3).
 *
 * Upload: blob_begin → blob_status {have} → Put chunks in order from `have`, hashed as they
 * arrive and appended to the user's partial file; acknowledged at least every
 * BLOB_WINDOW_BYTES / 2 of bytes written; at the end verified, fsynced, renamed into place, the
 * directory fsynced, recorded, and only then `complete`.
 *
 * Download: blob_get → Data chunks from the offset, one read at a time, sent only while the
 * connection has less than DOWNLOAD_BUFFER_BYTES unflushed: a file is never held in memory, and
 * a delivery committed meanwhile waits behind at most that much of it.
 */
import type { Hash } from 'node:crypto';
import { BLOB_CHUNK_BYTES, BLOB_CHUNK_HEADER_BYTES, BLOB_WINDOW_BYTES, BlobChunkKind, encodeBlobChunk, type BlobChunk } from '../protocol/files';
import { BLOB_REJECTION_CODES, type BlobBeginFrame, type BlobGetFrame, type BlobRejectionCode } from '../protocol/relay';
import { errorMessage } from '../lib/error-message';
import type { RelaySession } from './session';
import type { BlobContent, BlobReader, BlobRecords, PartialBlob } from './storage/types';

/** What a stranger's transfers may hold at the relay (docs/relay.md, "Files", Limits). */
export interface BlobLimits {
  /** Largest blob accepted (`--max-file-bytes`); announced in welcome. */
  maxFileBytes: number;
  /** Uploads in progress at once per user, over all its connections. */
  maxUploadsPerUser: number;
  /** Bytes (declared sizes) of the uploads in progress of one user. Default 2 × maxFileBytes. */
  maxPartialBytesPerUser: number;
  /** Downloads streaming at once on one connection. */
  maxDownloadsPerSession: number;
  /** The slow-consumer cap (`--max-pending-bytes`): downloads keep to a quarter of it at most. */
  maxPendingBytes?: number;
}

export const DEFAULT_BLOB_LIMITS = { maxUploadsPerUser: 4, maxDownloadsPerSession: 4 } as const;

/** Unflushed bytes of one connection up to which downloads add chunks: a few chunks, far below the slow-consumer cap. */
export const DOWNLOAD_BUFFER_BYTES = 1024 * 1024;

/**
 * A core may have BLOB_WINDOW_BYTES on the wire beyond the last `have` it saw; anything far
 * past that (twice, plus a chunk) is a peer ignoring the protocol to make the relay buffer: closed.
 */
export const HOSTILE_WINDOW_BYTES = 2 * BLOB_WINDOW_BYTES + BLOB_CHUNK_BYTES;

interface Upload {
  key: string;
  user: string;
  sha256: string;
  size: number;
  requestId: string;
  session: RelaySession;
  state: 'opening' | 'open' | 'finishing' | 'closed';
  handle?: PartialBlob;
  hash?: Hash;
  /** The next offset expected from the core (bytes accepted, written or queued). */
  received: number;
  /** Bytes written to the partial file. */
  have: number;
  /** The last `have` told to the core. */
  acked: number;
  queue: Uint8Array[];
  writing: boolean;
}

interface Download {
  requestId: string;
  sha256: string;
  size: number;
  offset: number;
  handle: BlobReader;
}

interface SessionTransfers {
  downloads: Map<string, Download>;
  /** Downloads take turns, a chunk each. */
  turn: number;
  pumping: boolean;
  waitingForRoom: boolean;
  /** Blobs whose chunks were refused: later chunks of the same burst are dropped until the next blob_begin. */
  refusedChunks: Set<string>;
}

export class BlobService {
  private readonly uploads = new Map<string, Upload>();
  private readonly perSession = new WeakMap<RelaySession, SessionTransfers>();
  /** Blobs being renamed into place and recorded: a deletion must not remove the new file. */
  private readonly completing = new Set<string>();
  /** Unflushed bytes up to which downloads add chunks: DOWNLOAD_BUFFER_BYTES, or less under a small slow-consumer cap. */
  private readonly downloadBuffer: number;

  constructor(
    private readonly records: BlobRecords,
    private readonly files: BlobContent,
    private readonly limits: BlobLimits,
    private readonly protocolError: (session: RelaySession, message: string) => void,
    private readonly log: (line: string) => void,
  ) {
    this.downloadBuffer = Math.min(DOWNLOAD_BUFFER_BYTES, Math.floor((limits.maxPendingBytes ?? Number.POSITIVE_INFINITY) / 4));
  }

  // ---- uploads ----------------------------------------------------------------------------

  async begin(session: RelaySession, frame: BlobBeginFrame): Promise<void> {
    const user = session.identity?.user;
    if (!user) return;
    const { sha256, size, request_id } = frame;
    const refuse = (code: BlobRejectionCode, reason: string, retryable: boolean): void =>
      session.send({ type: 'blob_refused', request_id, sha256, code, reason, retryable });
    this.transfers(session).refusedChunks.delete(sha256);
    if (size > this.limits.maxFileBytes) return refuse(BLOB_REJECTION_CODES.tooLarge, `the file is ${size} bytes; this relay accepts files of at most ${this.limits.maxFileBytes} bytes`, false);
    let existing;
    try {
      existing = await this.records.blob(sha256, user);
    } catch (err) {
      this.log(`could not read the record of blob ${sha256}: ${errorMessage(err)}`);
      return refuse(BLOB_REJECTION_CODES.storage, 'relay storage error; retry shortly', true);
    }
    if (!session.isOpen()) return;
    if (existing && existing.size !== size) return refuse(BLOB_REJECTION_CODES.hashMismatch, `a blob with this hash is ${existing.size} bytes, not ${size}`, false);
    // Dedup with proof: complete at once only for a user who may use it already; anyone else
    // uploads the bytes, which are checked against the hash and then dropped (knowing a hash is not having the file).
    if (existing?.mayUse) return session.send({ type: 'blob_status', request_id, sha256, size, have: size, state: 'complete' });
    const key = uploadKey(user, sha256);
    const current = this.uploads.get(key);
    if (current) {
      if (current.session !== session && current.session.isOpen()) return refuse(BLOB_REJECTION_CODES.busy, 'this file is being uploaded on another connection of yours; retry once it ends', true);
      if (current.state === 'finishing') return refuse(BLOB_REJECTION_CODES.busy, 'this upload is being verified; retry shortly', true);
      await this.abort(current);
      if (session.state === 'closed') return;
    }
    const mine = [...this.uploads.values()].filter((u) => u.user === user);
    if (mine.length >= this.limits.maxUploadsPerUser) return refuse(BLOB_REJECTION_CODES.busy, `${mine.length} uploads of yours are in progress; this relay allows ${this.limits.maxUploadsPerUser} at once`, true);
    const pending = mine.reduce((sum, u) => sum + u.size, 0);
    if (pending + size > this.limits.maxPartialBytesPerUser) {
      return refuse(BLOB_REJECTION_CODES.quota, `your uploads in progress hold ${pending} bytes; this relay allows ${this.limits.maxPartialBytesPerUser} at once`, true);
    }
    const upload: Upload = { key, user, sha256, size, requestId: request_id, session, state: 'opening', received: 0, have: 0, acked: 0, queue: [], writing: false };
    this.uploads.set(key, upload);
    try {
      const opened = await this.files.openPartial(user, sha256, size);
      upload.handle = opened;
      upload.hash = opened.hash;
      upload.received = upload.have = upload.acked = opened.have;
    } catch (err) {
      this.uploads.delete(key);
      this.log(`could not open the upload of ${sha256} for ${user}: ${errorMessage(err)}`);
      return refuse(BLOB_REJECTION_CODES.storage, 'relay storage error; retry shortly', true);
    }
    if (upload.state !== 'opening') return void (await upload.handle.close().catch(() => undefined));
    upload.state = 'open';
    if (upload.have === size) return this.finish(upload);
    session.send({ type: 'blob_status', request_id, sha256, size, have: upload.have, state: 'partial' });
  }

  /** A binary frame on a v3 connection after welcome. */
  chunk(session: RelaySession, chunk: BlobChunk): void {
    const user = session.identity?.user;
    if (!user) return;
    if (chunk.kind !== BlobChunkKind.Put) return this.protocolError(session, 'a core sends Put chunks only');
    const transfers = this.transfers(session);
    if (transfers.refusedChunks.has(chunk.sha256)) return;
    const upload = this.uploads.get(uploadKey(user, chunk.sha256));
    const refuse = (reason: string, requestId?: string): void => {
      transfers.refusedChunks.add(chunk.sha256);
      session.send({ type: 'blob_refused', ...(requestId ? { request_id: requestId } : {}), sha256: chunk.sha256, code: BLOB_REJECTION_CODES.badOffset, reason, retryable: true });
    };
    if (!upload || upload.session !== session || upload.state !== 'open') return refuse('no upload of this blob is in progress on this connection: send blob_begin first');
    const end = chunk.offset + chunk.data.byteLength;
    if (chunk.offset !== upload.received) return refuse(`a chunk at offset ${chunk.offset}; the relay expects ${upload.received}: send blob_begin again`, upload.requestId);
    if (end > upload.size) return refuse(`a chunk ending at ${end}, past the blob's ${upload.size} bytes`, upload.requestId);
    if (end - upload.acked > HOSTILE_WINDOW_BYTES) {
      return this.protocolError(session, `${end - upload.acked} bytes sent beyond the last acknowledgement; the window is ${BLOB_WINDOW_BYTES}`);
    }
    upload.hash!.update(chunk.data);
    upload.received = end;
    upload.queue.push(chunk.data);
    void this.drain(upload);
  }

  /** Appends queued chunks in order, acknowledging as the written bytes pass each half window. */
  private async drain(upload: Upload): Promise<void> {
    if (upload.writing) return;
    upload.writing = true;
    try {
      while (upload.queue.length > 0 && upload.state === 'open') {
        const data = upload.queue.shift()!;
        await upload.handle!.write(data);
        upload.have += data.byteLength;
        if (upload.have === upload.size) break;
        if (upload.have - upload.acked >= BLOB_WINDOW_BYTES / 2) {
          upload.acked = upload.have;
          upload.session.send({ type: 'blob_status', request_id: upload.requestId, sha256: upload.sha256, size: upload.size, have: upload.have, state: 'partial' });
        }
      }
    } catch (err) {
      // Disk full or I/O: what is written stays for a resume; the core is told to retry.
      this.log(`upload of ${upload.sha256} for ${upload.user} failed: ${errorMessage(err)}`);
      upload.session.send({ type: 'blob_refused', request_id: upload.requestId, sha256: upload.sha256, code: BLOB_REJECTION_CODES.storage, reason: 'relay storage error; retry shortly', retryable: true });
      upload.writing = false;
      await this.abort(upload);
      return;
    }
    upload.writing = false;
    if (upload.state === 'open' && upload.have === upload.size) await this.finish(upload);
    else if (upload.state === 'closed') await upload.handle?.close().catch(() => undefined);
  }

  /** Every byte is in: verify the whole file against its name, make it durable, record it, then say `complete`. */
  private async finish(upload: Upload): Promise<void> {
    upload.state = 'finishing';
    const { user, sha256, size, requestId, session } = upload;
    const tell = (frame: Parameters<RelaySession['send']>[0]): void => {
      if (session.isOpen()) session.send(frame);
    };
    try {
      await upload.handle!.sync();
      await upload.handle!.close();
      const digest = upload.hash!.digest('hex');
      if (digest !== sha256) {
        await this.files.discardPartial(user, sha256);
        this.log(`upload of ${sha256} for ${user}: the bytes hash to ${digest}; discarded`);
        return tell({ type: 'blob_refused', request_id: requestId, sha256, code: BLOB_REJECTION_CODES.hashMismatch, reason: `the ${size} bytes uploaded hash to ${digest}, not ${sha256}; upload the file again from 0`, retryable: true });
      }
      if (await this.records.blob(sha256, user)) {
        // The blob is here already: this upload was the proof; its bytes are not needed.
        await this.files.discardPartial(user, sha256);
      } else {
        this.completing.add(sha256);
        await this.files.promote(user, sha256);
      }
      await this.records.recordBlob(sha256, size, user, new Date());
      tell({ type: 'blob_status', request_id: requestId, sha256, size, have: size, state: 'complete' });
    } catch (err) {
      this.log(`could not complete the upload of ${sha256} for ${user}: ${errorMessage(err)}`);
      tell({ type: 'blob_refused', request_id: requestId, sha256, code: BLOB_REJECTION_CODES.storage, reason: 'relay storage error; retry shortly', retryable: true });
    } finally {
      this.completing.delete(sha256);
      upload.state = 'closed';
      if (this.uploads.get(upload.key) === upload) this.uploads.delete(upload.key);
    }
  }

  /** Ends an upload in progress; its partial file stays for a later resume (or the sweep). */
  private async abort(upload: Upload): Promise<void> {
    if (this.uploads.get(upload.key) === upload) this.uploads.delete(upload.key);
    if (upload.state === 'finishing' || upload.state === 'closed') return;
    upload.state = 'closed';
    upload.queue.length = 0;
    // A write in flight finishes first; drain closes the handle after it.
    if (!upload.writing) await upload.handle?.close().catch(() => undefined);
  }

  // ---- downloads --------------------------------------------------------------------------

  async get(session: RelaySession, frame: BlobGetFrame): Promise<void> {
    const user = session.identity?.user;
    if (!user) return;
    const { sha256, request_id, offset } = frame;
    const refuse = (code: BlobRejectionCode, reason: string, retryable: boolean): void =>
      session.send({ type: 'blob_refused', request_id, sha256, code, reason, retryable });
    let blob;
    try {
      blob = await this.records.blob(sha256, user);
    } catch (err) {
      this.log(`could not read the record of blob ${sha256}: ${errorMessage(err)}`);
      return refuse(BLOB_REJECTION_CODES.storage, 'relay storage error; retry shortly', true);
    }
    if (!session.isOpen()) return;
    if (!blob) return refuse(BLOB_REJECTION_CODES.notFound, 'no such file at this relay (never uploaded, or every recipient took it, or it expired)', false);
    if (!blob.mayUse) return refuse(BLOB_REJECTION_CODES.forbidden, 'this file was not sent to you', false);
    if (offset > blob.size) return refuse(BLOB_REJECTION_CODES.badOffset, `offset ${offset} is past the file's ${blob.size} bytes`, false);
    const transfers = this.transfers(session);
    if (transfers.downloads.has(request_id)) return refuse(BLOB_REJECTION_CODES.busy, `request ${request_id} is already streaming`, false);
    if (transfers.downloads.size >= this.limits.maxDownloadsPerSession) {
      return refuse(BLOB_REJECTION_CODES.busy, `${transfers.downloads.size} downloads are streaming on this connection; this relay allows ${this.limits.maxDownloadsPerSession} at once`, true);
    }
    let handle: BlobReader;
    try {
      handle = await this.files.openBlob(sha256);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return refuse(BLOB_REJECTION_CODES.notFound, 'no such file at this relay', false);
      this.log(`could not open blob ${sha256}: ${errorMessage(err)}`);
      return refuse(BLOB_REJECTION_CODES.storage, 'relay storage error; retry shortly', true);
    }
    if (!session.isOpen()) return void (await handle.close().catch(() => undefined));
    transfers.downloads.set(request_id, { requestId: request_id, sha256, size: blob.size, offset, handle });
    void this.pump(session, transfers);
  }

  cancel(session: RelaySession, requestId: string): void {
    const transfers = this.transfers(session);
    const download = transfers.downloads.get(requestId);
    if (!download) return;
    transfers.downloads.delete(requestId);
    void download.handle.close().catch(() => undefined);
  }

  /** Sends chunks of the connection's downloads in turn while its unflushed bytes are few; resumed by `written`. */
  private async pump(session: RelaySession, transfers: SessionTransfers): Promise<void> {
    if (transfers.pumping) return;
    transfers.pumping = true;
    transfers.waitingForRoom = false;
    try {
      while (transfers.downloads.size > 0 && session.isOpen()) {
        if (session.pendingBytes >= this.downloadBuffer) {
          transfers.waitingForRoom = true;
          return;
        }
        const list = [...transfers.downloads.values()];
        const download = list[transfers.turn++ % list.length]!;
        if (download.offset >= download.size) {
          transfers.downloads.delete(download.requestId);
          await download.handle.close().catch(() => undefined);
          session.send({ type: 'blob_status', request_id: download.requestId, sha256: download.sha256, size: download.size, have: download.size, state: 'complete' });
          continue;
        }
        const length = Math.min(BLOB_CHUNK_BYTES, download.size - download.offset);
        const frame = Buffer.allocUnsafe(BLOB_CHUNK_HEADER_BYTES + length);
        frame.set(encodeBlobChunk({ kind: BlobChunkKind.Data, sha256: download.sha256, offset: download.offset, data: new Uint8Array(0) }), 0);
        let read: number;
        try {
          ({ bytesRead: read } = await download.handle.read(frame, BLOB_CHUNK_HEADER_BYTES, length, download.offset));
        } catch (err) {
          read = -1;
          this.log(`reading blob ${download.sha256} failed: ${errorMessage(err)}`);
        }
        // Cancelled (or the connection closed) while the read was in flight: nothing more of it.
        if (transfers.downloads.get(download.requestId) !== download) continue;
        if (read !== length) {
          transfers.downloads.delete(download.requestId);
          await download.handle.close().catch(() => undefined);
          session.send({ type: 'blob_refused', request_id: download.requestId, sha256: download.sha256, code: BLOB_REJECTION_CODES.storage, reason: 'relay storage error while reading the file; retry', retryable: true });
          continue;
        }
        session.sendBinary(frame);
        download.offset += length;
      }
    } finally {
      transfers.pumping = false;
    }
  }

  /** The connection flushed a frame: a download waiting for room goes on once half of it is free. */
  written(session: RelaySession): void {
    const transfers = this.perSession.get(session);
    if (transfers?.waitingForRoom && session.pendingBytes < this.downloadBuffer / 2) void this.pump(session, transfers);
  }

  // ---- taken, closed, swept -----------------------------------------------------------------

  /** A device has the blob, verified: once every recipient device has, its file goes. */
  done(session: RelaySession, sha256: string): void {
    const identity = session.identity;
    if (!identity) return;
    this.records
      .takeBlob(sha256, identity.user, identity.device)
      .then(
        (gone) => (gone ? this.deleteFiles([sha256]) : undefined),
        (err: unknown) => this.log(`blob_done failed to commit: ${errorMessage(err)}`),
      );
  }

  /** Deletes the files of blobs whose rows are gone (unless one is being completed again right now). */
  async deleteFiles(shas: string[]): Promise<void> {
    for (const sha of shas) {
      if (this.completing.has(sha) || (await this.records.blob(sha, ''))) continue;
      await this.files.deleteBlob(sha);
    }
  }

  sweepPartials(cutoff: Date): Promise<number> {
    return this.files.sweepPartials(cutoff, (user, sha) => this.uploads.has(uploadKey(user, sha)));
  }

  /** The connection is gone: its downloads stop, its uploads end (their partials stay to be resumed). */
  closed(session: RelaySession): void {
    const transfers = this.perSession.get(session);
    if (transfers) {
      for (const download of transfers.downloads.values()) void download.handle.close().catch(() => undefined);
      transfers.downloads.clear();
    }
    for (const upload of [...this.uploads.values()]) if (upload.session === session) void this.abort(upload);
  }

  private transfers(session: RelaySession): SessionTransfers {
    let transfers = this.perSession.get(session);
    if (!transfers) this.perSession.set(session, (transfers = { downloads: new Map(), turn: 0, pumping: false, waitingForRoom: false, refusedChunks: new Set() }));
    return transfers;
  }
}

function uploadKey(user: string, sha256: string): string {
  return `${user}\u0000${sha256}`;
}
