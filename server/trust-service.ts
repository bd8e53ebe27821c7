/**
 * Trust in users' device keys, for the JSON-RPC methods `trust/*` and the send path (issue 18,
 * docs/security.md): trust on first use, safety numbers, and a changed key that blocks sends
 * until the person accepts it. Keys come from the relay's key directory (protocol v5) when the
 * core is online; the relay is not believed, only checked: every record must verify under its
 * own key (lib/node/e2e/pins.ts), and any difference from the pin is `changed`.
 */
import type { DeviceKeyRecord } from '../protocol/e2e';
import { ErrorCodes, type TrustConfirmParams, type TrustInfo, type TrustChanged, type TrustParams, type TrustState } from '../protocol/rpc';
import { canonicalUserName } from '../protocol/names';
import { RELAY_PROTOCOL_V6 } from '../protocol/relay';
import { fromB64 } from '../lib/node/e2e/bytes';
import { loadOrCreateIdentity } from '../lib/node/e2e/identity';
import { acceptChange, reconcile, trustState, verifiedRecords, type PinnedKeys } from '../lib/node/e2e/pins';
import { groupSafetyNumber, normaliseSafetyNumber, safetyNumber } from '../lib/node/e2e/safety-number';
import { CoreError } from './errors';
import type { PeerKeys } from './store/peer-keys';
import type { SyncPort } from './sync/port';

/** How long a `trust/*` request waits for the relay's directory before using the pinned keys. */
export const KEYS_FETCH_WAIT_MS = 5000;
/** How long a core that is still dialling (the CLI's direct mode) is given first. */
const SETTLE_MS = 5000;
/**
 * A send looks the recipient's keys up in the relay's directory on first contact, after every
 * (re)connect to the relay, and then at most this often; in between, the pins are fresh enough
 * and a send costs no round trip (docs/security.md, "When keys are checked").
 */
export const KEYS_FRESH_MS = 10 * 60_000;
/** After a lookup the relay did not answer (slow, or it dropped), sends go on the pins for this long before asking again. */
const KEYS_RETRY_MS = 60_000;
/** How long a send waits for the directory's answer; past it the send goes on the pins. */
export const KEYS_SEND_WAIT_MS = 3000;

export class TrustService {
  /** Per user, until when the pins count as fresh for a send (ms since epoch); cleared when the relay link changes. */
  private readonly freshUntil = new Map<string, number>();
  /** Lookups on their way, so concurrent sends to one user share one round trip. */
  private readonly lookups = new Map<string, Promise<void>>();
  /** Whether the last send-time lookup of a user got the relay's answer (false: no answer in time). */
  private readonly answered = new Map<string, boolean>();
  private connectedSince: string | null = null;

  constructor(
    private readonly sync: SyncPort,
    private readonly keys: PeerKeys,
    private readonly home: string,
    private readonly localUser: () => string,
  ) {
    // A new connection may be to a relay that now serves other keys: look again on the next send.
    sync.onStatus((status) => {
      if (status.connected_since === this.connectedSince) return;
      this.connectedSince = status.connected_since;
      this.freshUntil.clear();
    });
  }

  /** Each change of a user's trust state, after it is stored (the core tells its clients: `trust/changed`). */
  onChange(listener: (change: TrustChanged) => void): void {
    this.keys.onTrustChange((user, trust) => listener({ user, trust }));
  }

  /** Stores a user's pins (PeerKeys tells the listeners when that moved the user's trust state). */
  private store(user: string, pins: PinnedKeys, now: Date): void {
    this.keys.put(user, pins, now);
  }

  async show(p: TrustParams): Promise<TrustInfo> {
    const user = canonicalUserName(p.user);
    const fresh = await this.refresh(user);
    return this.info(user, fresh);
  }

  async confirm(p: TrustConfirmParams): Promise<TrustInfo> {
    const user = canonicalUserName(p.user);
    const fresh = await this.refresh(user);
    const info = this.info(user, fresh);
    const pins = this.keys.get(user)!;
    if (info.trust === 'changed') {
      throw refused('key_changed', `${user}'s keys changed since they were pinned: compare the new safety number (\`switchboard verify ${user}\`), then \`switchboard verify ${user} --accept-change\`, then confirm it`);
    }
    if (normaliseSafetyNumber(p.safety_number) !== normaliseSafetyNumber(info.safety_number!)) {
      throw refused('safety_number_mismatch', `that is not the safety number of you and ${user}: nothing was marked verified; compare it again with \`switchboard verify ${user}\` (if it truly differs, someone may be in the middle)`);
    }
    this.store(user, { ...pins, verified: true }, new Date());
    return this.info(user, fresh);
  }

  async acceptChange(p: TrustParams): Promise<TrustInfo> {
    const user = canonicalUserName(p.user);
    const fresh = await this.refresh(user);
    const pins = this.keys.get(user);
    if (!pins) throw noKeys(user);
    this.store(user, acceptChange(pins), new Date());
    return this.info(user, fresh);
  }

  /** A peer's trust for the `peers` list. */
  states(): Map<string, TrustState> {
    return new Map([...this.keys.all()].map(([peer, pins]) => [peer, trustState(pins)]));
  }

  /**
   * Before a 1:1 send: the recipient's (and this user's) keys from the relay's directory unless
   * the pins are fresh (KEYS_FRESH_MS), then refuses the send if they changed or none are pinned. Offline, with a relay before
   * v5, or with no answer in KEYS_SEND_WAIT_MS, the pins as they are decide.
   */
  async checkSendFresh(to: string, now = Date.now()): Promise<void> {
    const user = canonicalUserName(to);
    const self = this.localUser();
    const relay = this.sync.relayVersion();
    if (this.sync.isOnline() && relay !== null && relay < RELAY_PROTOCOL_V6) {
      // Never in plain text instead: a relay could claim to be old for exactly that.
      throw new CoreError(ErrorCodes.NotSent, `not sent: the relay speaks protocol v${relay}, before end-to-end encrypted messages (v${RELAY_PROTOCOL_V6}), and direct messages are sent only encrypted; upgrade the relay`, { kind: 'not_sent' });
    }
    const stale = (u: string) => (this.freshUntil.get(u) ?? 0) <= now && this.sync.isOnline();
    // This user's own other devices get a copy, sealed for their pinned keys: look those up too.
    await Promise.all([stale(user) ? this.lookUp(user) : undefined, user !== self && stale(self) ? this.lookUp(self) : undefined]);
    this.checkSend(user);
    // A direct message is sent only encrypted: with no keys for the recipient after a lookup there
    // is nothing to encrypt for, and it is refused now, never stored to leave in plain text.
    // Offline, or when the relay did not answer the lookup in time, it is queued, and the keys
    // are looked up before it leaves (sync engine): "published none" is said only on an answer.
    if (user !== self && this.sync.isOnline() && this.answered.get(user) !== false && !(this.keys.get(user)?.pinned.length ?? 0)) throw noKeys(user);
  }

  private lookUp(user: string): Promise<void> {
    let pending = this.lookups.get(user);
    if (!pending) {
      pending = this.fetch(user, KEYS_SEND_WAIT_MS)
        .then((fetched) => {
          if (fetched) this.pin(user, fetched, new Date());
          this.answered.set(user, fetched !== undefined);
          this.freshUntil.set(user, Date.now() + (fetched ? KEYS_FRESH_MS : KEYS_RETRY_MS));
        })
        .finally(() => this.lookups.delete(user));
      this.lookups.set(user, pending);
    }
    return pending;
  }

  /** Refuses a send to a user whose keys changed: nothing is stored, the person decides first. */
  checkSend(to: string): void {
    const user = canonicalUserName(to);
    if (trustState(this.keys.get(user)) !== 'changed') return;
    throw refused('key_changed', `not sent: ${user}'s keys changed since they were pinned; compare the safety number (\`switchboard verify ${user}\`), then accept the new keys with \`switchboard verify ${user} --accept-change\``);
  }

  /** Fetches and reconciles `user`'s and this user's records; true when the relay answered both. */
  private async refresh(user: string): Promise<boolean> {
    const self = this.localUser();
    await this.sync.whenSettled(SETTLE_MS);
    const [theirs, ours] = await Promise.all([this.fetch(user), user === self ? Promise.resolve(undefined) : this.fetch(self)]);
    const now = new Date();
    if (theirs) this.pin(user, theirs, now);
    if (ours) this.pin(self, ours, now);
    if (theirs) this.freshUntil.set(user, now.getTime() + KEYS_FRESH_MS);
    return theirs !== undefined && (user === self || ours !== undefined);
  }

  private async fetch(user: string, ms = KEYS_FETCH_WAIT_MS): Promise<DeviceKeyRecord[] | undefined> {
    const answer = await this.sync.keysRequest({ type: 'keys_get', user }, ms);
    return answer?.result === 'ok' ? verifiedRecords(user, answer.records) : undefined;
  }

  private pin(user: string, fetched: DeviceKeyRecord[], now: Date): void {
    const current = this.keys.get(user);
    const next = reconcile(current, fetched);
    if (next && next !== current) this.store(user, next, now);
  }

  private info(user: string, fresh: boolean): TrustInfo {
    const pins = this.keys.get(user);
    if (!pins || pins.pinned.length === 0) throw noKeys(user, fresh);
    const self = this.localUser();
    const mine = this.ownSignKeys();
    const number = (records: DeviceKeyRecord[]): string =>
      groupSafetyNumber(safetyNumber({ user: self, signKeys: mine }, { user, signKeys: user === self ? mine : records.map((r) => fromB64(r.sign, 32)) }));
    return {
      user,
      trust: trustState(pins),
      safety_number: number(pins.pinned),
      new_safety_number: pins.pending ? number(pins.pending) : null,
      devices: pins.pinned.length,
      fresh,
    };
  }

  /** This user's device keys: this device's own, always, and the other devices pinned for this user. */
  private ownSignKeys(): Uint8Array[] {
    const own = loadOrCreateIdentity(this.home).signPublic;
    const others = (this.keys.get(this.localUser())?.pinned ?? []).map((r) => fromB64(r.sign, 32));
    const key = (k: Uint8Array) => Buffer.from(k).toString('hex');
    const seen = new Map([own, ...others].map((k) => [key(k), k]));
    return [...seen.values()];
  }
}

function refused(code: 'key_changed' | 'safety_number_mismatch' | 'no_keys', message: string): CoreError {
  return new CoreError(ErrorCodes.TrustRefused, message, { kind: 'trust', code });
}

function noKeys(user: string, fresh = true): CoreError {
  const why = fresh ? `${user} has published none (their core is older than end-to-end encryption, or has not been online since it was upgraded)` : 'the relay is not reachable (or speaks a protocol before v5) and none are pinned yet';
  return refused('no_keys', `no device keys known for ${user}: ${why}`);
}
