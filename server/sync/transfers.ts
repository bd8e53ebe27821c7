/**
 * Files over the relay link (protocol v3): uploads of the blobs outbound messages name, and
 * downloads of the blobs inbound ones name. One upload and one download run at a time, each
 * a chunk frame after another between the link's other frames, so messages, verdicts and acks
 * keep flowing while a big file moves.
 *
 * Upload: `blob_begin` → the relay's `have` → `Put` chunks from there, at most
 * BLOB_WINDOW_BYTES beyond the last acknowledged `have`, read from the store's copy (so a
 * dropped link, or a `kill -9` of either side, resumes from what the relay holds). Once every
 * blob of a message is complete at the relay the drain sends its `send` frame.
 *
 * Download: `blob_get` from the partial's length → `Data` chunks appended in order → the
 * whole file hashed against its name before the rename that makes it `ready`, then
 * `blob_done`. Anything else (a mismatch, a chunk out of place, a full disk) ends `failed`
 * with the reason, the partial deleted: nothing unverified is offered.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { BLOB_CHUNK_BYTES, BLOB_WINDOW_BYTES, BlobChunkKind, encodeBlobChunk, type BlobChunk } from '../../protocol/files';
import type { BlobRefusedFrame, BlobStatusFrame } from '../../protocol/relay';
import type { TransferProgress } from '../../protocol/rpc';
import { newId } from '../../lib/node/ids';
import { isDiskFull } from '../../lib/node/storage-errors';
import { errorMessage } from '../../lib/error-message';
import type { Logger } from '../../lib/node/log';
import type { WriteBatcher } from '../../lib/node/write-batcher';
import type { FileStore } from '../files/file-store';
import type { AttachmentRow, Repository } from '../store/repository';
import type { Outbox } from '../outbox/outbox';
import type { RelayLink } from './relay-link';

/** Progress notifications per file at most this often (the final one always goes). */
const PROGRESS_EVERY_MS = 250;
/** `transferred` is written to the store at most this often per file (and at the end). */
const RECORD_EVERY_MS = 1000;
/** An upload waits while more than this is buffered on the socket: room for messages to pass. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** A download stops reading from the link while more than this waits to be written. */
const WRITE_HIGH_WATER = 4 * 1024 * 1024;
/** A retryable refusal (busy, quota, storage at the relay) is tried again after this. */
const RETRY_REFUSED_MS = 5000;
/** Fresh starts of one blob's upload after a hash mismatch or a bad offset, before its message fails. */
const MAX_RESTARTS = 3;

export interface TransferHost {
  repo: Repository;
  writes: WriteBatcher;
  outbox: Outbox;
  files: FileStore;
  log: Logger;
  /** The live link, when it is open. */
  link(): RelayLink | undefined;
  progress(p: TransferProgress): void;
  /** Every blob of these messages is at the relay: their send frames may go. */
  uploaded(ids: string[]): void;
  /** These messages failed for good (their verdict waiters are told). */
  failed(ids: string[]): void;
}

type UploadOutcome = 'complete' | 'link' | { refused: BlobRefusedFrame };
type DownloadOutcome = 'ready' | 'link' | { failed: string };

/** What a request on the link is waiting for. */
interface StatusWaiter {
  onStatus(frame: BlobStatusFrame): void;
  onRefused(frame: BlobRefusedFrame): void;
  onClose(): void;
}

export class Transfers {
  private uploading = false;
  private uploadAgain = false;
  private downloading = false;
  private downloadAgain = false;
  /** Blob → when a retryable refusal lets it be tried again (ms since epoch). */
  private readonly notBefore = new Map<string, number>();
  private readonly restarts = new Map<string, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** By request_id: uploads' and downloads' requests on the current link. */
  private readonly waiters = new Map<string, StatusWaiter>();
  /** The current download's chunk sink, by blob. */
  private dataSink: { sha256: string; onData(chunk: BlobChunk): void } | undefined;
  private readonly downloadWaiters = new Set<() => void>();
  private stopped = false;

  constructor(private readonly host: TransferHost) {}

  /** Called for each new link: its blob frames reach the transfers. */
  attach(link: RelayLink): void {
    link.on('blob_status', (frame) => this.waiters.get(frame.request_id)?.onStatus(frame));
    link.on('blob_refused', (frame) => {
      if (frame.request_id !== undefined) this.waiters.get(frame.request_id)?.onRefused(frame);
      // A refused chunk names no request: it concerns the upload of that blob.
      else for (const w of [...this.waiters.values()]) w.onRefused(frame);
    });
    link.on('blob_data', (chunk) => {
      if (this.dataSink?.sha256 === chunk.sha256) this.dataSink.onData(chunk);
    });
    link.on('close', () => {
      for (const w of [...this.waiters.values()]) w.onClose();
      this.waiters.clear();
    });
  }

  /** Online, or new work: starts whatever is due. */
  kick(): void {
    void this.runUploads();
    void this.runDownloads();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const w of [...this.waiters.values()]) w.onClose();
    this.waiters.clear();
    for (const wake of [...this.downloadWaiters]) wake();
  }

  /** Resolves when a download ends (ready or failed) or after `ms`; the caller checks what it waits for. */
  whenDownloadEnds(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.downloadWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.downloadWaiters.add(done);
    });
  }

  private downloadEnded(): void {
    for (const wake of [...this.downloadWaiters]) wake();
  }

  private retryLater(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, ms);
    this.retryTimer.unref();
  }

  private due(sha256: string): boolean {
    const at = this.notBefore.get(sha256);
    return at === undefined || at <= Date.now();
  }

  // ---- uploads ---------------------------------------------------------------------------

  private async runUploads(): Promise<void> {
    if (this.uploading) {
      this.uploadAgain = true;
      return;
    }
    this.uploading = true;
    try {
      for (;;) {
        this.uploadAgain = false;
        const link = this.host.link();
        if (!link || this.stopped) return;
        const rows = this.host.repo.uploadsDue(256);
        if (link.maxFileBytes === undefined) {
          // A relay that takes no files (v1, v2): the messages that carry some fail, saying what fixes it.
          if (rows.length > 0) await this.failMessages(rows.map((r) => r.message_id), `not sent: the relay speaks protocol v${link.version} and takes no files; upgrade the relay to send attachments`);
          if (!this.uploadAgain) return;
          continue;
        }
        const next = rows.find((r) => this.due(r.sha256));
        if (!next) {
          const waiting = rows.map((r) => this.notBefore.get(r.sha256) ?? 0).filter((t) => t > Date.now());
          if (waiting.length > 0) this.retryLater(Math.min(...waiting) - Date.now());
          if (!this.uploadAgain) return;
          continue;
        }
        if (next.size > link.maxFileBytes) {
          await this.failMessages([next.message_id], `not sent: ${next.name} is ${next.size} bytes; the relay takes files of at most ${link.maxFileBytes} bytes`);
          continue;
        }
        if (!this.host.files.has(next.sha256, next.size)) {
          await this.failMessages([next.message_id], `not sent: the store's copy of ${next.name} (${this.host.files.pathOf(next.sha256)}) is missing; send the file again`);
          continue;
        }
        const outcome = await this.upload(link, next);
        if (outcome === 'link') return;
        if (outcome === 'complete') {
          this.restarts.delete(next.sha256);
          const ready = await this.host.writes.run(() => {
            const now = new Date().toISOString();
            const ids = this.host.repo.recordUploadComplete(next.sha256);
            for (const id of ids) this.host.repo.addEvent('message/updated', id, now);
            return ids.filter((id) => this.host.repo.uploadsLeft(id).n === 0);
          });
          if (ready.length > 0) this.host.uploaded(ready);
          continue;
        }
        const refused = outcome.refused;
        if (refused.code === 'hash_mismatch' || refused.code === 'bad_offset') {
          const n = (this.restarts.get(next.sha256) ?? 0) + 1;
          this.restarts.set(next.sha256, n);
          if (n <= MAX_RESTARTS) continue;
        }
        if (refused.retryable) {
          this.notBefore.set(next.sha256, Date.now() + RETRY_REFUSED_MS);
          this.host.log.warn(`files: the relay refused ${next.sha256.slice(0, 12)} for now (${refused.code}: ${refused.reason}); retrying`);
          continue;
        }
        await this.failMessages([next.message_id], `not sent: the relay refused ${next.name} (${refused.code}): ${refused.reason}`);
      }
    } catch (error) {
      this.host.log.error(`files: upload failed: ${errorMessage(error)}`);
      this.retryLater(RETRY_REFUSED_MS);
    } finally {
      this.uploading = false;
    }
  }

  private async failMessages(ids: string[], reason: string): Promise<void> {
    const unique = [...new Set(ids)];
    const failed = await this.host.writes.run(() => {
      const now = new Date().toISOString();
      return unique.filter((id) => this.host.outbox.fail(id, reason, now));
    });
    if (failed.length > 0) this.host.failed(failed);
  }

  /** One blob up, from what the relay already holds; resolves how it ended. */
  private async upload(link: RelayLink, a: AttachmentRow): Promise<UploadOutcome> {
    const requestId = newId();
    let acked = 0;
    let complete = false;
    let ended: UploadOutcome | undefined;
    let answered = false;
    // One pending wake-up, remembered when nothing waits yet: a status that comes while a chunk
    // is being read is never lost.
    let signalled = false;
    let wake: (() => void) | undefined;
    const progress = this.reporter(a, 'up');
    const poke = () => {
      signalled = true;
      const w = wake;
      wake = undefined;
      w?.();
    };
    const wait = (): Promise<void> => {
      if (signalled) {
        signalled = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => (wake = () => {
        signalled = false;
        resolve();
      }));
    };
    this.waiters.set(requestId, {
      onStatus: (frame) => {
        if (frame.sha256 !== a.sha256) return;
        answered = true;
        acked = Math.max(acked, frame.have);
        if (frame.state === 'complete') {
          complete = true;
          acked = a.size;
        }
        progress(acked, complete);
        poke();
      },
      onRefused: (frame) => {
        if (frame.sha256 !== a.sha256) return;
        ended ??= { refused: frame };
        poke();
      },
      onClose: () => {
        ended ??= 'link';
        poke();
      },
    });
    let handle: FileHandle | undefined;
    try {
      if (!link.blob({ type: 'blob_begin', request_id: requestId, sha256: a.sha256, size: a.size })) return 'link';
      // The first status says where to start.
      while (!answered && !ended) await wait();
      if (ended) return ended;
      if (complete) return 'complete';
      handle = await open(this.host.files.pathOf(a.sha256), 'r');
      let sent = acked;
      const buffer = Buffer.allocUnsafe(BLOB_CHUNK_BYTES);
      while (sent < a.size) {
        if (ended) return ended;
        if (sent - acked >= BLOB_WINDOW_BYTES) {
          await wait();
          continue;
        }
        if (link.bufferedAmount > SOCKET_HIGH_WATER) {
          // Let the socket drain: frames of other messages queued behind go out meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        const length = Math.min(BLOB_CHUNK_BYTES, a.size - sent, BLOB_WINDOW_BYTES - (sent - acked));
        const { bytesRead } = await handle.read(buffer, 0, length, sent);
        if (bytesRead !== length) throw new Error(`the store's copy of ${a.name} is shorter than ${a.size} bytes`);
        if (ended) return ended;
        if (!link.putChunk(encodeBlobChunk({ kind: BlobChunkKind.Put, sha256: a.sha256, offset: sent, data: buffer.subarray(0, length) }))) return 'link';
        sent += length;
        // One chunk per turn: whatever else is ready to go on the link gets its turn between them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      while (!complete && !ended) await wait();
      return ended ?? 'complete';
    } finally {
      this.waiters.delete(requestId);
      await handle?.close().catch(() => {});
      // The relay's `have` is what is durable there: recorded so a client reads how far it got.
      await this.recordTransferred(a, 'up', acked).catch(() => {});
    }
  }

  /** Progress for one file: notifications throttled, the store updated now and then. */
  private reporter(a: AttachmentRow, direction: 'up' | 'down'): (transferred: number, final: boolean) => void {
    let lastNotify = 0;
    let lastRecord = Date.now();
    return (transferred, final) => {
      const now = Date.now();
      if (final || now - lastNotify >= PROGRESS_EVERY_MS) {
        lastNotify = now;
        this.host.progress({ id: a.message_id, index: a.idx, direction, transferred, size: a.size });
      }
      if (!final && now - lastRecord >= RECORD_EVERY_MS) {
        lastRecord = now;
        void this.recordTransferred(a, direction, transferred).catch(() => {});
      }
    };
  }

  private recordTransferred(a: AttachmentRow, direction: 'up' | 'down', transferred: number): Promise<void> {
    return this.host.writes.run(() => {
      if (direction === 'up') this.host.repo.recordUploadProgress(a.sha256, transferred);
      else this.host.repo.recordDownloadProgress(a.sha256, transferred);
    });
  }

  // ---- downloads -------------------------------------------------------------------------

  private async runDownloads(): Promise<void> {
    if (this.downloading) {
      this.downloadAgain = true;
      return;
    }
    this.downloading = true;
    try {
      for (;;) {
        this.downloadAgain = false;
        if (this.stopped) return;
        const rows = this.host.repo.downloadsDue(256);
        const next = rows.find((r) => this.due(r.sha256));
        if (!next) {
          if (!this.downloadAgain) return;
          continue;
        }
        // A blob already verified here (another message named it) is ready at once.
        if (this.host.files.has(next.sha256, next.size)) {
          await this.settleBlob(next, 'ready');
          continue;
        }
        const link = this.host.link();
        if (!link || link.maxFileBytes === undefined) return;
        const outcome = await this.download(link, next);
        if (outcome === 'link') return;
        if (outcome === 'ready') {
          await this.settleBlob(next, 'ready');
          link.blob({ type: 'blob_done', sha256: next.sha256 });
        } else await this.settleBlob(next, outcome.failed);
      }
    } catch (error) {
      this.host.log.error(`files: download failed: ${errorMessage(error)}`);
      this.retryLater(RETRY_REFUSED_MS);
    } finally {
      this.downloading = false;
    }
  }

  /** Every attachment naming the blob ends ready, or failed with `error`; their messages are announced. */
  private async settleBlob(a: AttachmentRow, outcome: 'ready' | string): Promise<void> {
    await this.host.writes.run(() => {
      const now = new Date().toISOString();
      const ids = outcome === 'ready' ? this.host.repo.markBlobReady(a.sha256) : this.host.repo.markBlobFailed(a.sha256, outcome);
      for (const id of ids) this.host.repo.addEvent('message/updated', id, now);
    });
    if (outcome === 'ready') this.host.progress({ id: a.message_id, index: a.idx, direction: 'down', transferred: a.size, size: a.size });
    this.downloadEnded();
  }

  /** One blob down, appended to its partial from where it stopped; verified before it is kept. */
  private async download(link: RelayLink, a: AttachmentRow): Promise<DownloadOutcome> {
    const files = this.host.files;
    files.ensure();
    const partialPath = files.partialPathOf(a.sha256);
    let offset = files.partialLength(a.sha256);
    if (offset > a.size) {
      files.removePartial(a.sha256);
      offset = 0;
    }
    const handle = await open(partialPath, 'a', 0o600);
    const requestId = newId();
    const progress = this.reporter(a, 'down');
    let expected = offset;
    let pendingBytes = 0;
    let paused = false;
    let writes: Promise<void> = Promise.resolve();
    let failure: string | undefined;
    let settle!: (outcome: DownloadOutcome) => void;
    const result = new Promise<DownloadOutcome>((resolve) => (settle = resolve));
    const fail = (why: string) => {
      failure ??= why;
      link.blob({ type: 'blob_cancel', request_id: requestId });
      settle({ failed: why });
    };
    this.dataSink = {
      sha256: a.sha256,
      onData: (chunk) => {
        if (failure !== undefined) return;
        if (chunk.offset !== expected) return fail(`the relay sent bytes of ${a.name} out of place (at ${chunk.offset}, expected ${expected}); nothing was kept; download it again`);
        if (expected + chunk.data.byteLength > a.size) return fail(`the relay sent more bytes of ${a.name} than its ${a.size}; nothing was kept; download it again`);
        expected += chunk.data.byteLength;
        const data = chunk.data;
        pendingBytes += data.byteLength;
        if (pendingBytes > WRITE_HIGH_WATER && !paused) {
          paused = true;
          link.pause();
        }
        const at = expected;
        writes = writes.then(async () => {
          if (failure !== undefined) return;
          try {
            await handle.write(data);
          } catch (error) {
            fail(isDiskFull(error) ? `disk full at ${files.partialDir}: ${a.name} was not downloaded; free some space and download it again` : `could not write ${a.name}: ${errorMessage(error)}`);
            return;
          }
          pendingBytes -= data.byteLength;
          if (paused && pendingBytes < WRITE_HIGH_WATER / 2) {
            paused = false;
            link.resume();
          }
          progress(at, false);
        });
      },
    };
    this.waiters.set(requestId, {
      onStatus: (frame) => {
        if (frame.state !== 'complete') return;
        void writes.then(() => {
          if (failure !== undefined) return;
          if (expected !== a.size) return fail(`the relay ended ${a.name} after ${expected} of its ${a.size} bytes; nothing was kept; download it again`);
          settle('ready');
        });
      },
      onRefused: (frame) => {
        failure ??= frame.reason;
        settle({ failed: `the relay refused to send ${a.name} (${frame.code}): ${frame.reason}` });
      },
      onClose: () => settle('link'),
    });
    try {
      if (offset === a.size) settle('ready');
      else if (!link.blob({ type: 'blob_get', request_id: requestId, sha256: a.sha256, offset })) settle('link');
      let outcome = await result;
      await writes;
      await handle.close().catch(() => {});
      if (paused) link.resume();
      if (outcome === 'ready') {
        let verified: boolean;
        try {
          verified = await files.publishPartial(a.sha256, a.size);
        } catch (error) {
          files.removePartial(a.sha256);
          return { failed: isDiskFull(error) ? `disk full at ${files.dir}: ${a.name} was not kept; free some space and download it again` : `could not keep ${a.name}: ${errorMessage(error)}` };
        }
        if (!verified) outcome = { failed: `the bytes the relay sent for ${a.name} do not match its SHA-256 (${a.sha256}); nothing was kept; download it again, and tell the relay's operator if it repeats` };
        else progress(a.size, true);
      } else if (outcome !== 'link') files.removePartial(a.sha256);
      return outcome;
    } finally {
      this.waiters.delete(requestId);
      if (this.dataSink?.sha256 === a.sha256) this.dataSink = undefined;
      await this.recordTransferred(a, 'down', expected).catch(() => {});
    }
  }
}
