/**
 * The relay's decisions about what to store: verdicts for sends, cursors for acks, receipts
 * for the senders, pruning. Synchronous and socket-free; the caller runs each method inside a
 * transaction (see server/store/write-batcher.ts) and delivers the returned items after the commit.
 */
import { newId } from '../server/ids';
import { RELAY_MAX_FRAME_BYTES, type DeliveryItem, type SendFrame, type VerdictFrame, type WireMessage } from '../protocol/relay';
import { sendFingerprint } from './fingerprint';
import type { RelayStore, StoredDelivery } from './store';

/** A delivery just committed for `user`, to push to that user's live devices. */
export interface CommittedDelivery extends StoredDelivery {
  user: string;
}

export interface SendOutcome {
  verdict: VerdictFrame;
  deliveries: CommittedDelivery[];
}

/** Room for `{"type":"deliver","seq":<n>,"item":…}` around the stored item. */
const DELIVER_FRAME_OVERHEAD = 64;

export class RelayLedger {
  constructor(
    private readonly store: RelayStore,
    private readonly maxBodyBytes: number,
  ) {}

  recordSend(sender: string, message: SendFrame['message'], now: Date): SendOutcome {
    const { client_message_id, id } = message;
    const fingerprint = sendFingerprint(message);
    const earlier = this.store.findDedupe(sender, client_message_id);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        return rejected(message, 'client_message_id was already used for a different message', false);
      }
      return {
        verdict: { type: 'verdict', result: 'duplicate', client_message_id, id, server_id: earlier.server_id, original_id: earlier.id },
        deliveries: [],
      };
    }
    if (!this.store.isUserActive(message.to)) return rejected(message, `unknown recipient "${message.to}"`, false);
    const bodyBytes = Buffer.byteLength(message.body, 'utf8');
    if (bodyBytes > this.maxBodyBytes) {
      return rejected(message, `message body is ${bodyBytes} bytes; the relay accepts at most ${this.maxBodyBytes}`, false);
    }
    const serverId = newId();
    const wire: WireMessage = { ...message, from: sender };
    const item = JSON.stringify({ kind: 'message', server_id: serverId, message: wire } satisfies DeliveryItem);
    if (Buffer.byteLength(item, 'utf8') + DELIVER_FRAME_OVERHEAD > RELAY_MAX_FRAME_BYTES) {
      return rejected(message, 'message is too large to deliver once encoded', false);
    }
    const seq = this.store.appendDelivery(message.to, item);
    this.store.insertDedupe(sender, client_message_id, { id, server_id: serverId, fingerprint });
    return {
      verdict: { type: 'verdict', result: 'accepted', client_message_id, id, server_id: serverId, seq },
      deliveries: [{ user: message.to, seq, item }],
    };
  }

  /**
   * Registers a device at hello and returns its acked cursor. A hello cursor beyond the
   * stored one counts as an ack (the core says it committed those); one beyond anything the
   * relay ever assigned is clamped, so a bogus cursor cannot hide future deliveries.
   */
  openDevice(user: string, device: string, helloCursor: number, now: Date): { acked: number; receipts: CommittedDelivery[] } {
    const cursor = Math.min(helloCursor, this.store.lastSeq(user));
    // A new device starts at 0 and its hello cursor is then applied as an ack, so the
    // messages it already committed still produce their receipts.
    const acked = this.store.touchDevice(user, device, 0, now.toISOString());
    if (cursor > acked) return { acked: cursor, receipts: this.recordAck(user, device, cursor, now) };
    return { acked, receipts: [] };
  }

  /**
   * Cumulative ack from one device. Returns the receipts it produced (one per message, on the
   * first device to ack it), already appended to each sender's own sequence.
   */
  recordAck(user: string, device: string, seq: number, now: Date): CommittedDelivery[] {
    const current = this.store.deviceAcked(user, device);
    if (current === undefined) return [];
    const target = Math.min(seq, this.store.lastSeq(user));
    if (target <= current) return [];
    const receipts: CommittedDelivery[] = [];
    for (const row of this.store.deliveriesBetween(user, current, target)) {
      // The relay's own write, built from a frame validated on arrival: no need to check it again.
      const item = JSON.parse(row.item) as DeliveryItem;
      if (item.kind !== 'message') continue;
      const { server_id, message } = item;
      if (!this.store.markReceipted(server_id)) continue;
      const receipt = JSON.stringify({ kind: 'receipt', id: message.id, server_id, by: user, at: now.toISOString() } satisfies DeliveryItem);
      receipts.push({ user: message.from, seq: this.store.appendDelivery(message.from, receipt), item: receipt });
    }
    this.store.setDeviceAcked(user, device, target);
    this.store.pruneDeliveries(user, this.store.minAcked(user));
    return receipts;
  }
}

function rejected(message: SendFrame['message'], reason: string, retryable: boolean): SendOutcome {
  return {
    verdict: { type: 'verdict', result: 'rejected', client_message_id: message.client_message_id, id: message.id, reason, retryable },
    deliveries: [],
  };
}
