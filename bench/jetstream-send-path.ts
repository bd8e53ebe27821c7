/**
 * The relay's send path on NATS JetStream (relay/jetstream/send-path.ts: a create-only dedupe
 * claim, one delivery append, the claim's commit; every step acknowledged by the cluster before
 * the next), on a three-node cluster with three replicas beside a one-node server with one
 * replica, in the same run: latency of one send at a time (publish → ack of the whole path)
 * and sends/s with `window` in flight. Real nats-server processes on loopback, each with its
 * own store dir (test/support/nats-cluster.ts); all on this machine, so the figures show what
 * replication costs in round trips and CPU, not what separate machines would do.
 */
import { NatsCluster } from '../test/support/nats-cluster';
import { openTables } from '../test/support/jetstream-relay';
import { acceptSend } from '../relay/jetstream/send-path';
import { cpuMs } from './live';

export interface SendPathFigures {
  nodes: number;
  p50Ms: number;
  p99Ms: number;
  sendsPerSecond: number;
  /** nats-server CPU (all nodes) per send in the throughput run, µs. */
  serverCpuUsPerSend: number | undefined;
  /** This process's CPU (the client side: what a relay node spends) per send, µs. */
  clientCpuUsPerSend: number;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

export async function sendPathRun(nodes: 1 | 3, load: { sequential: number; count: number; window: number }): Promise<SendPathFigures> {
  const cluster = await NatsCluster.start({ nodes });
  try {
    const t = await openTables(cluster.urls, { replicas: nodes, name: 'bench' });
    try {
      let n = 0;
      const one = async () => {
        const i = n++;
        const verdict = await acceptSend(t.dedupe, t.log, {
          sender: `sender${i % 8}`,
          clientMessageId: `c-${i}`,
          fingerprint: `f-${i}`,
          serverId: `s-${i}`,
          recipients: [`r${i % 16}`],
          item: (id, to) => JSON.stringify({ type: 'message', id, to, text: 'x'.repeat(200) }),
        });
        if (verdict.verdict !== 'accepted') throw new Error(`send ${i}: ${verdict.verdict}`);
      };
      for (let i = 0; i < 100; i++) await one(); // warm up
      const latencies: number[] = [];
      for (let i = 0; i < load.sequential; i++) {
        const started = performance.now();
        await one();
        latencies.push(performance.now() - started);
      }
      const pids = cluster.nodes.map((node) => node.process!.pid!);
      const cpuBefore = pids.map(cpuMs);
      const clientBefore = process.cpuUsage();
      const started = performance.now();
      let left = load.count;
      await Promise.all(Array.from({ length: load.window }, async () => {
        while (left-- > 0) await one();
      }));
      const seconds = (performance.now() - started) / 1000;
      const cpuAfter = pids.map(cpuMs);
      const client = process.cpuUsage(clientBefore);
      const cpu = cpuBefore.every((c) => c !== undefined) && cpuAfter.every((c) => c !== undefined)
        ? cpuAfter.reduce((sum, c, i) => sum! + c! - cpuBefore[i]!, 0)! : undefined;
      return {
        nodes,
        p50Ms: pct(latencies, 50),
        p99Ms: pct(latencies, 99),
        sendsPerSecond: load.count / seconds,
        serverCpuUsPerSend: cpu === undefined ? undefined : (cpu * 1000) / load.count,
        clientCpuUsPerSend: (client.user + client.system) / load.count,
      };
    } finally {
      await t.close();
    }
  } finally {
    await cluster.stop();
  }
}
