/**
 * mosquitto driven by mqtt.js, in the load shape of the Switchboard A→B run (Rounds): A
 * publishes at QoS 1 and a send is done at the broker's PUBACK; B holds a persistent session
 * (clean: false) subscribed at QoS 1, so the broker keeps what it has not delivered, and acks
 * each message. Latency: A's publish to B's message event, the send time in the payload.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { Rounds, type EndToEndFigures, type EndToEndLoad } from '../end-to-end';
import { startMosquitto } from './brokers';

const TOPIC = 'bench/a-to-b';

export async function mosquittoRun(binary: string, transport: 'ws' | 'tcp', load: EndToEndLoad): Promise<EndToEndFigures> {
  const broker = await startMosquitto(binary);
  const clients: MqttClient[] = [];
  try {
    const url = transport === 'ws' ? `ws://127.0.0.1:${broker.ports.ws}` : `mqtt://127.0.0.1:${broker.ports.tcp}`;
    const open = async (clientId: string): Promise<MqttClient> => {
      const client = await connectAsync(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
      clients.push(client);
      return client;
    };
    const b = await open('bench-b');
    const a = await open('bench-a');
    const rounds = new Rounds(() => ({ mosquitto: broker.pid, 'bench (both ends, mqtt.js)': process.pid }));
    b.on('message', (_topic, payload) => rounds.arrived(Number(payload.toString().split(' ')[0])));
    await b.subscribeAsync(TOPIC, { qos: 1 });
    return await rounds.measure(load, async (i) => {
      await a.publishAsync(TOPIC, `${performance.now()} message ${i}`, { qos: 1 });
    });
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await broker.stop();
  }
}
