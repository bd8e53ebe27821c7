/**
 * NATS JetStream driven by its own Node client, in the load shape of the Switchboard A→B run
 * (Rounds): a file-storage stream; A's send is a JetStream publish, done at the stream's
 * PubAck (stored); B is a durable pull consumer with explicit acks, acking each message,
 * pulling up to 1,000 at a time.
 * Latency: A's publish to B's message, the send time in the payload.
 *
 * nats-server is 2.9.10 (the distribution's): the client features used here (stream and
 * durable consumer create, `consumers.get(stream, name)`, `consume()` pulls) are all 2.9-era
 * JetStream API; no 2.10 feature (multiple filter subjects, ordered-consumer resets) is used.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { Rounds, type EndToEndFigures, type EndToEndLoad } from '../end-to-end';
import { startNats } from './brokers';

const STREAM = 'BENCH';
const SUBJECT = 'bench.a-to-b';

export async function jetstreamRun(binary: string, load: EndToEndLoad): Promise<EndToEndFigures> {
  const broker = await startNats(binary);
  const connections: NatsConnection[] = [];
  try {
    const open = async (name: string): Promise<NatsConnection> => {
      const nc = await connect({ servers: `127.0.0.1:${broker.ports.tcp}`, name, reconnect: false, timeout: 10_000 });
      connections.push(nc);
      return nc;
    };
    const b = await open('bench-b');
    const a = await open('bench-a');
    const jsm = await jetstreamManager(b);
    await jsm.streams.add({ name: STREAM, subjects: [SUBJECT], storage: StorageType.File });
    await jsm.consumers.add(STREAM, { durable_name: 'b', ack_policy: AckPolicy.Explicit });
    const rounds = new Rounds(() => ({ 'nats-server': broker.pid, 'bench (both ends, nats.js)': process.pid }));
    const consumer = await jetstream(b).consumers.get(STREAM, 'b');
    // Pulls of 1,000 rather than the client's default 100: with 100, B fell ~300 ms behind A at
    // 256 in flight (p50 350 ms against 30 ms here, the same msg/s). The peer gets its better setting.
    const messages = await consumer.consume({ max_messages: 1000 });
    const consuming = (async () => {
      for await (const m of messages) {
        rounds.arrived(Number(m.string().split(' ')[0]));
        m.ack();
      }
    })();
    const js = jetstream(a);
    try {
      return await rounds.measure(load, async (i) => {
        await js.publish(SUBJECT, `${performance.now()} message ${i}`);
      });
    } finally {
      await messages.close();
      await consuming;
    }
  } finally {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await broker.stop();
  }
}
