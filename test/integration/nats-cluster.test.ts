/**
 * The test cluster itself (test/support/nats-cluster.ts): three real nats-server processes
 * form a JetStream cluster; an R3 file stream keeps every acknowledged message through a
 * SIGKILL of one node and accepts publishes meanwhile; the node, restarted on its ports and
 * store dir, rejoins and catches up; stop removes the store dirs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { NatsCluster, withNatsCluster } from '../support/nats-cluster';
import { waitFor } from '../support/wait';

test('three nodes form a JetStream cluster; an R3 stream survives kill -9 of one node, which rejoins', { timeout: 120_000 }, async () => {
  let dir = '';
  await withNatsCluster({}, async (cluster) => {
    dir = cluster.dir;
    assert.equal(cluster.nodes.length, 3);
    assert.equal(new Set(cluster.nodes.flatMap((n) => [n.clientPort, n.routePort, n.monitorPort])).size, 9);
    const agreed = (leaders: Record<string, string | undefined>) => {
      const named = new Set(Object.values(leaders));
      assert.equal(named.size, 1, JSON.stringify(leaders));
      assert.ok([...named][0], `a meta leader: ${JSON.stringify(leaders)}`);
    };
    agreed(await cluster.metaLeaders()); // start returned only once every node names one
    const nc = await connect({ servers: cluster.urls, timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      await jsm.streams.add({ name: 'FIXTURE', subjects: ['fixture.>'], storage: StorageType.File, num_replicas: 3 });
      const js = jetstream(nc, { timeout: 5000 });
      for (let i = 0; i < 20; i++) await js.publish('fixture.a', `before ${i}`);

      // Kill the stream's leader: the harder case (a new leader must be elected).
      const leader = (await jsm.streams.info('FIXTURE')).cluster?.leader;
      assert.ok(leader, 'the stream has a leader');
      await cluster.kill9(leader);
      assert.equal(cluster.node(leader).process, undefined);
      // Publishes go on with 2 of 3 (retried while the new leader is elected: bounded).
      for (let i = 0; i < 20; i++) {
        await waitFor(`publish ${i} with ${leader} down`, async () => (await js.publish('fixture.a', `during ${i}`, { msgID: `during-${i}` })).seq, 20_000, 200);
      }
      await cluster.restart(leader);
      const after = await cluster.metaLeaders();
      assert.deepEqual(Object.keys(after).sort(), ['n1', 'n2', 'n3'], 'the restarted node runs');
      agreed(after); // and names the same meta leader as the others
      // The restarted node catches up: it reports itself current for the stream with every message.
      await waitFor('the restarted node to be a current replica', async () => {
        const info = await jsm.streams.info('FIXTURE');
        const peers = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name)];
        return peers.includes(leader) && info.state.messages === 40 ? true : undefined;
      }, 30_000, 200);
      const info = await jsm.streams.info('FIXTURE');
      assert.equal(info.state.messages, 40, 'every acknowledged message, none twice');
    } finally {
      await nc.close();
    }
  });
  assert.ok(dir && !existsSync(dir), 'stop removes the store dirs');
});

test('a one-node cluster is ready and serves JetStream', { timeout: 60_000 }, async () => {
  const cluster = await NatsCluster.start({ nodes: 1 });
  try {
    const nc = await connect({ servers: cluster.urls, timeout: 5000 });
    try {
      const jsm = await jetstreamManager(nc);
      assert.equal((await jsm.getAccountInfo()).streams, 0);
    } finally {
      await nc.close();
    }
  } finally {
    await cluster.stop();
  }
});
