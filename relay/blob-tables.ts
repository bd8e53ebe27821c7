/**
 * The relay's blob tables (migration 6): which blobs are complete, who may use each, and which
 * recipient devices have yet to take one. Plain reads and writes, no decisions; every write runs
 * inside the caller's transaction. The bytes themselves are files (blob-files.ts).
 */
import type { Database } from 'better-sqlite3';

export interface BlobRow {
  sha256: string;
  size: number;
}

export class BlobTables {
  private readonly statements;

  constructor(db: Database) {
    this.statements = {
      get: db.prepare<[string], BlobRow>('SELECT sha256, size FROM blobs WHERE sha256 = ?'),
      insert: db.prepare<[string, number, number, number]>('INSERT OR IGNORE INTO blobs (sha256, size, created_at, last_used_at) VALUES (?, ?, ?, ?)'),
      touch: db.prepare<[number, string]>('UPDATE blobs SET last_used_at = ? WHERE sha256 = ?'),
      remove: db.prepare<[string]>('DELETE FROM blobs WHERE sha256 = ?'),
      removeAccess: db.prepare<[string]>('DELETE FROM blob_access WHERE sha256 = ?'),
      grant: db.prepare<[string, string]>('INSERT OR IGNORE INTO blob_access (sha256, user) VALUES (?, ?)'),
      mayUse: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM blob_access WHERE sha256 = ? AND user = ?'),
      addRef: db.prepare<[string, string, string, string]>('INSERT OR IGNORE INTO blob_refs (sha256, server_id, user, device) VALUES (?, ?, ?, ?)'),
      // A device's blob_done also settles its user's '' rows: the first device of a recipient the relay did not know yet.
      take: db.prepare<[string, string, string]>("DELETE FROM blob_refs WHERE user = ? AND sha256 = ? AND device IN (?, '')"),
      dropMessageRefs: db.prepare<[string, string], { sha256: string }>('DELETE FROM blob_refs WHERE server_id = ? AND user = ? RETURNING sha256'),
      refCount: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM blob_refs WHERE sha256 = ?'),
      // Nothing keeps them and nothing used them within the retention: uploaded and never sent, or every message naming them gone.
      unused: db.prepare<[number, number], { sha256: string }>(
        'SELECT b.sha256 FROM blobs b WHERE b.last_used_at < ? AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.sha256 = b.sha256) ORDER BY b.last_used_at LIMIT ?',
      ),
      versionedDevices: db.prepare<[string, number], { device: string }>('SELECT device FROM devices WHERE user = ? AND version >= ?'),
      setDeviceVersion: db.prepare<[number, string, string]>('UPDATE devices SET version = ? WHERE user = ? AND device = ?'),
    };
  }

  get(sha256: string): BlobRow | undefined {
    return this.statements.get.get(sha256);
  }

  /** Records a complete blob (its file is durable in place) and that `user` may use it. */
  record(sha256: string, size: number, user: string, now: Date): void {
    this.statements.insert.run(sha256, size, now.getTime(), now.getTime());
    this.statements.touch.run(now.getTime(), sha256);
    this.statements.grant.run(sha256, user);
  }

  grant(sha256: string, user: string): void {
    this.statements.grant.run(sha256, user);
  }

  touch(sha256: string, now: Date): void {
    this.statements.touch.run(now.getTime(), sha256);
  }

  mayUse(sha256: string, user: string): boolean {
    return this.statements.mayUse.get(sha256, user) !== undefined;
  }

  addRef(sha256: string, serverId: string, user: string, device: string): void {
    this.statements.addRef.run(sha256, serverId, user, device);
  }

  /** `user`'s `device` took the blob; true when nothing keeps it any more. */
  take(sha256: string, user: string, device: string): boolean {
    const changed = this.statements.take.run(user, sha256, device).changes > 0;
    return changed && this.refCount(sha256) === 0;
  }

  /** A message to `user` is gone (retention): its blobs no longer wait for that user. Returns the blobs nothing keeps now. */
  dropMessage(serverId: string, user: string): string[] {
    const shas = new Set(this.statements.dropMessageRefs.all(serverId, user).map((r) => r.sha256));
    return [...shas].filter((sha) => this.refCount(sha) === 0);
  }

  refCount(sha256: string): number {
    return this.statements.refCount.get(sha256)?.n ?? 0;
  }

  /** Deletes the blob's rows (its file is the caller's to delete after the commit). */
  remove(sha256: string): void {
    this.statements.remove.run(sha256);
    this.statements.removeAccess.run(sha256);
  }

  unusedBefore(cutoff: Date, limit: number): string[] {
    return this.statements.unused.all(cutoff.getTime(), limit).map((r) => r.sha256);
  }

  /** The devices of `user` that said hello at protocol `version` or later. */
  devicesAtLeast(user: string, version: number): string[] {
    return this.statements.versionedDevices.all(user, version).map((r) => r.device);
  }

  setDeviceVersion(user: string, device: string, version: number): void {
    this.statements.setDeviceVersion.run(version, user, device);
  }
}
