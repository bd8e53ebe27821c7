/**
 * Every recipient's deliveries, in order, in the stream SB_DELIVERIES: one subject per
 * recipient (`sb.dlv.<token>`), so the stream sequence orders each recipient's items, and a
 * device's cursor is the stream sequence of the last item it acked (increasing, not
 * contiguous: other recipients' items fall in between).
 *
 * An append is a JetStream publish acknowledged by the stream once a majority of its replicas
 * stored it (durable before ack). Each append carries a Nats-Msg-Id: the same append retried
 * after a lost PubAck (a node died mid-publish) is stored once and answers the first sequence.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { clusterCall } from './errors';
import { token } from './keys';
import { DELIVERIES_STREAM, DELIVERIES_SUBJECT_PREFIX } from './provision';

export interface AppendResult {
  seq: number;
  /** The stream had this Nats-Msg-Id already (a retried append): nothing new was stored. */
  duplicate: boolean;
}

export interface StoredItem {
  seq: number;
  /** The delivery item as the relay stored it (JSON text), sent without re-encoding. */
  item: string;
}

export function recipientSubject(recipient: string): string {
  return `${DELIVERIES_SUBJECT_PREFIX}.${token(recipient)}`;
}

export class DeliveryLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly timeoutMs = 5000,
  ) {}

  /** Appends `item` for `recipient`; `msgId` makes a retry of the same append harmless. */
  async append(recipient: string, item: string, msgId: string): Promise<AppendResult> {
    const subject = recipientSubject(recipient);
    return clusterCall(`publish to ${subject}`, async () => {
      const ack = await this.js.publish(subject, item, { msgID: msgId, expect: { streamName: DELIVERIES_STREAM }, timeout: this.timeoutMs });
      return { seq: ack.seq, duplicate: ack.duplicate };
    });
  }

  /** The sequence of the recipient's newest item, 0 when it has none. */
  async lastSeq(recipient: string): Promise<number> {
    const subject = recipientSubject(recipient);
    return clusterCall(`last item of ${subject}`, async () => {
      const message = await this.jsm.streams.getMessage(DELIVERIES_STREAM, { last_by_subj: subject });
      return message?.seq ?? 0;
    });
  }

  /**
   * Up to `limit` of the recipient's items after `cursor`, in order. Reads through an ordered
   * consumer filtered on the recipient's subject (one consumer per read, removed after), and
   * stops at the newest item that existed when the read began, so it never waits for more.
   */
  async readAfter(recipient: string, cursor: number, limit: number): Promise<StoredItem[]> {
    const subject = recipientSubject(recipient);
    const last = await this.lastSeq(recipient);
    if (last <= cursor || limit <= 0) return [];
    return clusterCall(`read ${subject} after ${cursor}`, async () => {
      const consumer = await this.js.consumers.get(DELIVERIES_STREAM, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: cursor + 1,
      });
      const items: StoredItem[] = [];
      const messages = await consumer.fetch({ max_messages: limit, expires: this.timeoutMs });
      try {
        for await (const m of messages) {
          items.push({ seq: m.seq, item: m.string() });
          if (items.length >= limit || m.seq >= last) break;
        }
      } finally {
        messages.stop();
        await consumer.delete().catch(() => undefined);
      }
      return items;
    });
  }
}
