/**
 * Deliveries committed anywhere in the cluster, as they commit: what a relay node needs to push
 * to its live sessions a delivery another node appended (a user's two devices on two nodes).
 * An ordered consumer on every recipient's subject from "new" on: it sees only what the stream
 * stored, in stream order, and the client recreates it past the last sequence it delivered when
 * its node dies, so the feed has no gaps and no repeats while it runs. A feed is a hint for
 * live pushes: a session still reads after its own cursor (deliveries.ts), so what a node
 * missed while it was down is read, not lost.
 */
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { fromToken } from './keys';
import { DELIVERIES_STREAM, DELIVERIES_SUBJECT_PREFIX } from './provision';

export interface FedDelivery {
  recipient: string;
  seq: number;
  item: string;
}

export interface DeliveryFeed {
  /** Stops the feed; resolves once its consumer is gone. */
  stop(): Promise<void>;
}

export async function watchCommittedDeliveries(js: JetStreamClient, listener: (delivery: FedDelivery) => void, onError: (error: unknown) => void = () => undefined): Promise<DeliveryFeed> {
  const consumer = await js.consumers.get(DELIVERIES_STREAM, {
    filter_subjects: `${DELIVERIES_SUBJECT_PREFIX}.>`,
    deliver_policy: DeliverPolicy.New,
  });
  // Short pulls and heartbeats: a consumer that died with its node is noticed within seconds
  // (two missed heartbeats), then recreated past the last sequence delivered.
  const messages = await consumer.consume({ max_messages: 256, expires: 5000, idle_heartbeat: 1000 });
  const prefix = `${DELIVERIES_SUBJECT_PREFIX}.`;
  const running = (async () => {
    for await (const m of messages) {
      try {
        listener({ recipient: fromToken(m.subject.slice(prefix.length)), seq: m.seq, item: m.string() });
      } catch (error) {
        onError(error);
      }
    }
  })().catch(onError);
  return {
    stop: async () => {
      messages.stop();
      await running;
      await consumer.delete().catch(() => undefined);
    },
  };
}
