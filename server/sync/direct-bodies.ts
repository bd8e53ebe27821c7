/**
 * The sync engine's end of end-to-end encrypted direct messages (protocol v6, docs/security.md
 * "Direct messages"): seals a send frame's content for the recipient's pinned devices and this
 * user's other pinned devices, and opens a sealed delivery with the sending device's pinned key.
 * Only pinned keys are used, never a `changed` user's pending ones.
 */
import type { SealedPayload } from '../../protocol/e2e';
import type { WireMessageV3 } from '../../protocol/relay';
import type { DeviceKeyRecord } from '../../protocol/e2e';
import type { PinnedKeys } from '../../lib/node/e2e/pins';
import { fromB64 } from '../../lib/node/e2e/bytes';
import { openDirect, sealDirect, type DirectContext } from '../../lib/node/e2e/direct';
import type { DeviceAddress, RecipientDevice } from '../../lib/node/e2e/envelope';
import { loadOrCreateIdentity, type DeviceIdentity } from '../../lib/node/e2e/identity';
import type { PeerKeys } from '../store/peer-keys';
import type { SendFrameMessage } from './send-frame';

const LEADING_FROM = /^\{"v":2,"from":\{"user":"[^"\\]*","device":"([^"\\]*)"\}/;

/** Why a direct message cannot be sealed: said as the outbox row's failure. */
export class SealRefused extends Error {}

export class DirectBodies {
  private identityCache: DeviceIdentity | undefined;
  /** Recipient devices of a pin set, decoded once per set (PeerKeys hands out the same object until it changes). */
  private readonly devices = new WeakMap<PinnedKeys, RecipientDevice[]>();

  constructor(
    private readonly keys: PeerKeys,
    private readonly home: string,
    private readonly me: () => DeviceAddress,
  ) {}

  private identity(): DeviceIdentity {
    return (this.identityCache ??= loadOrCreateIdentity(this.home));
  }

  private pinnedDevices(user: string): RecipientDevice[] {
    const pins = this.keys.get(user);
    if (!pins) return [];
    let list = this.devices.get(pins);
    if (!list) {
      list = pins.pinned.map((r: DeviceKeyRecord) => ({ user: r.user, device: r.device, dh: fromB64(r.dh, 32) }));
      this.devices.set(pins, list);
    }
    return list;
  }

  /** True when `user` has pinned keys a message could be sealed for. */
  hasKeys(user: string): boolean {
    return this.pinnedDevices(user).length > 0;
  }

  /**
   * The frame with its content sealed: `body` "", `reply_to`/`request_id` null and no mentions on
   * the wire; all of them inside `sealed`. Throws SealRefused when the recipient has no pinned keys.
   */
  seal(frame: SendFrameMessage, from: string): SendFrameMessage {
    const me = this.me();
    const toSelf = frame.to === me.user;
    const theirs = toSelf ? [] : this.pinnedDevices(frame.to);
    if (!toSelf && theirs.length === 0) {
      throw new SealRefused(`not sent: no device keys are pinned for ${frame.to}, so it cannot be encrypted for them; their core must be upgraded and online once (\`switchboard verify ${frame.to}\` shows when it is)`);
    }
    // This device gets its own message back only when it is to itself (the relay's recipient copy).
    const own = this.pinnedDevices(me.user).filter((d) => d.device !== me.device);
    const recipients = [...theirs, ...own];
    if (toSelf) recipients.push({ ...me, dh: this.identity().dhPublic });
    const payload: SealedPayload = { body: frame.body, reply_to: frame.reply_to, request_id: frame.request_id, ...(frame.mentions ? { mentions: frame.mentions } : {}) };
    const sealed = sealDirect({ sender: me, identity: this.identity(), recipients: dedupe(recipients), payload, context: contextOf(frame, from) });
    const { mentions: _mentions, ...rest } = frame;
    return { ...rest, body: '', reply_to: null, request_id: null, sealed };
  }

  /** The user whose keys must be looked up before `m` can be opened (its sending device is not pinned), if any. */
  missingSender(m: WireMessageV3): string | undefined {
    if (m.sealed === undefined) return undefined;
    // The sending device, read without parsing the whole envelope (sealDirect writes `from` first); open() checks it all.
    let from = LEADING_FROM.exec(m.sealed)?.[1];
    if (from === undefined) {
      try {
        from = (JSON.parse(m.sealed) as { from?: { device?: unknown } }).from?.device as string | undefined;
      } catch {
        return undefined;
      }
    }
    return this.pinnedDevices(m.from).some((d) => d.device === from) ? undefined : m.from;
  }

  /** The message with its content opened; throws E2eError when it does not open (tampered, not for this device, an unpinned sender). */
  open(m: WireMessageV3 & { sealed: string }): WireMessageV3 {
    const payload = openDirect({
      sealed: m.sealed,
      me: this.me(),
      identity: this.identity(),
      context: contextOf(m, m.from),
      senderKey: (from) => this.pinnedDevices(from.user).find((d) => d.device === from.device)?.dh,
    });
    const { sealed: _sealed, mentions: _mentions, ...rest } = m;
    return { ...rest, body: payload.body, reply_to: payload.reply_to, request_id: payload.request_id, ...(payload.mentions ? { mentions: payload.mentions } : {}) };
  }
}

function contextOf(m: Pick<WireMessageV3, 'id' | 'client_message_id' | 'to' | 'created_at'>, from: string): DirectContext {
  return { id: m.id, client_message_id: m.client_message_id, from, to: m.to, created_at: m.created_at };
}

function dedupe(devices: RecipientDevice[]): RecipientDevice[] {
  const seen = new Map(devices.map((d) => [`${d.user}\n${d.device}`, d]));
  return [...seen.values()];
}
