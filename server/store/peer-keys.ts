/** The `peer_keys` table (migration 11): each user's pinned device keys, for trust on first use (lib/node/e2e/pins.ts). */
import type { Database, Statement } from 'better-sqlite3';
import type { DeviceKeyRecord } from '../../protocol/e2e';
import { deviceKeyRecordSchema } from '../../protocol/e2e-schemas';
import { trustState, type PinnedKeys, type TrustState } from '../../lib/node/e2e/pins';
import { z } from 'zod';

const records = z.array(deviceKeyRecordSchema);
/** Users whose pins are kept in memory at once. */
const CACHE_LIMIT = 4096;

interface Row {
  peer: string;
  pinned: string;
  pending: string | null;
  verified_at: string | null;
}

const perDatabase = new WeakMap<Database, PeerKeys>();

export class PeerKeys {
  /**
   * Pins as last read or written, by user (`null`: none): every send and every sealed delivery
   * reads them, and SQLite cost ~2% of the core's CPU there. Every write goes through `put`,
   * which drops the user's entry (confirm, accept-change, a change found), so it is never stale.
   */
  private readonly cache = new Map<string, PinnedKeys | null>();
  private readonly listeners: ((user: string, trust: TrustState) => void)[] = [];

  /** The one instance for `db`: the trust service and the sync engine share its cache. */
  static of(db: Database): PeerKeys {
    let keys = perDatabase.get(db);
    if (!keys) {
      keys = new PeerKeys(db);
      perDatabase.set(db, keys);
    }
    return keys;
  }

  private readonly s: {
    get: Statement<[string], Row>;
    all: Statement<[], Row>;
    put: Statement<[string, string, string | null, string, string | null, string | null]>;
  };

  constructor(db: Database) {
    this.s = {
      get: db.prepare('SELECT peer, pinned, pending, verified_at FROM peer_keys WHERE peer = ?'),
      all: db.prepare('SELECT peer, pinned, pending, verified_at FROM peer_keys'),
      // pinned_at stays the first pin's time; changed_at is set when a change appears, cleared with it.
      put: db.prepare(`INSERT INTO peer_keys (peer, pinned, pending, pinned_at, changed_at, verified_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (peer) DO UPDATE SET pinned = excluded.pinned, pending = excluded.pending,
          changed_at = CASE WHEN excluded.pending IS NULL THEN NULL ELSE coalesce(peer_keys.changed_at, excluded.changed_at) END,
          verified_at = CASE WHEN excluded.verified_at IS NULL THEN NULL ELSE coalesce(peer_keys.verified_at, excluded.verified_at) END`),
    };
  }

  get(peer: string): PinnedKeys | undefined {
    const cached = this.cache.get(peer);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.s.get.get(peer);
    const pins = row && toPins(row);
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(peer, pins ?? null);
    return pins;
  }

  /** Every user with pinned keys, by name: the `peers` list's trust column. */
  all(): Map<string, PinnedKeys> {
    return new Map(this.s.all.all().map((row) => [row.peer, toPins(row)]));
  }

  /**
   * Each move of a user's trust state, whoever stored it: the trust service (confirm, accept, a
   * change found by a send or `verify`) or the sync engine (a sealed delivery's new sender device).
   */
  onTrustChange(listener: (user: string, trust: TrustState) => void): void {
    this.listeners.push(listener);
  }

  /** Stores the pins; a verified pin keeps the time it was first confirmed. */
  put(peer: string, pins: PinnedKeys, now: Date): void {
    const before = trustState(this.get(peer));
    const at = now.toISOString();
    this.cache.delete(peer);
    this.s.put.run(peer, JSON.stringify(pins.pinned), pins.pending ? JSON.stringify(pins.pending) : null, at, pins.pending ? at : null, pins.verified ? at : null);
    const trust = trustState(pins);
    if (trust !== before) for (const l of this.listeners) l(peer, trust);
  }
}

function toPins(row: Row): PinnedKeys {
  return { pinned: parse(row.pinned), pending: row.pending === null ? null : parse(row.pending), verified: row.verified_at !== null };
}

/** A row this core wrote; one that no longer parses pins nothing rather than crash a listing. */
function parse(text: string): DeviceKeyRecord[] {
  const parsed = records.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : [];
}
