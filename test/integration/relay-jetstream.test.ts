/**
 * The relay's JetStream building blocks (relay/jetstream/) against a real three-node
 * nats-server cluster (the distribution's 2.9.10): every client feature they use, provisioning
 * on restart, the create-only dedupe table, deliveries read after a cursor and acked up to it,
 * accounts and memberships; then, in order, a SIGKILL of one node in the middle of concurrent
 * sends (acked with 2 of 3, each message stored once, a reader resuming from its cursor) and a
 * cluster without quorum (2 of 3 down: a typed retryable refusal, bounded).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NatsCluster } from '../support/nats-cluster';
import { openTables, retrying, type RelayTables, type RetryStats } from '../support/jetstream-relay';
import { ClusterConnectError, connectCluster } from '../../relay/jetstream/connect';
import { ClusterUnavailableError } from '../../relay/jetstream/errors';
import { BUCKETS, DELIVERIES_STREAM } from '../../relay/jetstream/provision';
import { acceptSend, type SendRequest } from '../../relay/jetstream/send-path';
import { UserExistsError } from '../../relay/storage/errors';
import { dedupeKey } from '../../relay/jetstream/dedupe';
import { sleep, waitFor } from '../support/wait';

let cluster: NatsCluster;
let t: RelayTables;

before(async () => {
  cluster = await NatsCluster.start({ nodes: 3 });
  t = await openTables(cluster.urls);
});
after(async () => {
  await t?.close().catch(() => undefined);
  await cluster?.stop();
});

function send(sender: string, cmid: string, recipients: string[], text = `text of ${cmid}`): SendRequest {
  return {
    sender,
    clientMessageId: cmid,
    fingerprint: `fp:${text}`,
    serverId: `srv-${sender}-${cmid}-${Math.random().toString(36).slice(2)}`,
    recipients,
    item: (serverId, recipient) => JSON.stringify({ type: 'message', id: serverId, from: sender, to: recipient, client_message_id: cmid, text }),
  };
}

const ids = (items: Array<{ item: string }>) => items.map((i) => (JSON.parse(i.item) as { id: string }).id);

test('the server is nats-server 2.9 and every client feature used here works against it', async () => {
  assert.match(t.nc.info?.version ?? '', /^2\.9\./, `nats-server ${t.nc.info?.version}`);
  const { jsm } = t.provisioned;
  // Provisioned with 3 replicas each: the deliveries stream and the KV buckets' streams.
  for (const stream of [DELIVERIES_STREAM, ...Object.values(BUCKETS).map((b) => `KV_${b}`)]) {
    const info = await jsm.streams.info(stream);
    assert.equal(info.config.num_replicas, 3, stream);
    assert.equal(info.cluster?.replicas?.length, 2, `${stream} has a leader and 2 replicas`);
  }
  // publish with Nats-Msg-Id + expected stream; last_by_subj; ordered consumer on one subject from a sequence.
  const first = await t.log.append('feature-check', 'one', 'feature-1');
  const again = await t.log.append('feature-check', 'one', 'feature-1');
  assert.deepEqual(again, { seq: first.seq, duplicate: true }, 'a repeated Nats-Msg-Id is stored once and answers the first sequence');
  const second = await t.log.append('feature-check', 'two', 'feature-2');
  assert.equal(await t.log.lastSeq('feature-check'), second.seq);
  assert.equal(await t.log.lastSeq('nobody-here'), 0);
  assert.deepEqual(await t.log.readAfter('feature-check', first.seq, 10), [{ seq: second.seq, item: 'two' }]);
  // KV: create (create-only), update with revision, get, keys with a filter, delete.
  const kv = t.provisioned.buckets.members;
  const rev = await kv.create('feature.a', 'x');
  await assert.rejects(kv.create('feature.a', 'y'));
  await kv.update('feature.a', 'z', rev);
  assert.equal((await kv.get('feature.a'))?.string(), 'z');
  const keys: string[] = [];
  for await (const k of await kv.keys('feature.*')) keys.push(k);
  assert.deepEqual(keys, ['feature.a']);
  await kv.delete('feature.a');
  assert.equal((await kv.get('feature.a'))?.operation, 'DEL');
  assert.ok(await kv.create('feature.a', 'again'), 'create after delete takes the key again');
});

test('provisioning again (a node restart) binds to what is there and changes nothing', async () => {
  const { jsm } = t.provisioned;
  const before = (await jsm.streams.info(DELIVERIES_STREAM)).state.messages;
  const again = await openTables(cluster.urls, { name: 'second-node' });
  try {
    const info = await jsm.streams.info(DELIVERIES_STREAM);
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.state.messages, before, 'nothing purged');
    assert.equal((await jsm.streams.names().next()).length, 1 + Object.keys(BUCKETS).length, 'no stream added');
  } finally {
    await again.close();
  }
});

test('connect: a dead seed among live ones still connects; only dead seeds fail, bounded and typed', async () => {
  const deadPort = 1; // nothing listens on port 1 of loopback
  const nc = await connectCluster({ urls: [`nats://127.0.0.1:${deadPort}`, ...cluster.urls], connectTimeoutMs: 10_000 });
  await nc.close();
  const started = Date.now();
  await assert.rejects(connectCluster({ urls: [`nats://127.0.0.1:${deadPort}`], connectTimeoutMs: 2000 }), ClusterConnectError);
  assert.ok(Date.now() - started < 20_000, 'bounded');
  await assert.rejects(connectCluster({ urls: cluster.urls, credsFile: join(cluster.dir, 'no-such.creds') }), /cannot read the NATS credentials file/);
  const bad = join(cluster.dir, 'bad.creds');
  writeFileSync(bad, 'not a creds file');
  await assert.rejects(connectCluster({ urls: cluster.urls, credsFile: bad, connectTimeoutMs: 5000 }), ClusterConnectError);
});

test('dedupe: of concurrent claims of one (sender, client_message_id) from two nodes exactly one wins', async () => {
  const other = await openTables(cluster.urls, { name: 'racing-node' });
  try {
    for (let round = 0; round < 10; round++) {
      const cmid = `race-${round}`;
      const claims = await Promise.all([t, other, t, other].map((tables, i) => tables.dedupe.claim('alice', cmid, { server_id: `s${i}`, fingerprint: 'f', at: 'now' })));
      assert.equal(claims.filter((c) => c.kind === 'claimed').length, 1, `round ${round}: one claim wins`);
      const winner = claims.find((c) => c.kind === 'claimed')!.record.server_id;
      for (const c of claims) assert.equal(c.record.server_id, winner, 'the others read the winner');
    }
  } finally {
    await other.close();
  }
  // Names are tokens: a dot in a user name or a client id does not make keys collide.
  assert.notEqual(dedupeKey('a.b', 'c'), dedupeKey('a', 'b.c'));
});

test('send path: accepted once, the same send again is a duplicate, other content under the same id a conflict', async () => {
  const request = send('alice', 'm-1', ['bob', 'carol']);
  const first = await acceptSend(t.dedupe, t.log, request);
  assert.equal(first.verdict, 'accepted');
  const again = await acceptSend(t.dedupe, t.log, { ...request, serverId: 'another-id' });
  assert.deepEqual(again, { verdict: 'duplicate', serverId: request.serverId });
  const conflict = await acceptSend(t.dedupe, t.log, { ...send('alice', 'm-1', ['bob'], 'other text') });
  assert.deepEqual(conflict, { verdict: 'conflict', serverId: request.serverId });
  assert.deepEqual(ids(await t.log.readAfter('bob', 0, 100)), [request.serverId]);
  assert.deepEqual(ids(await t.log.readAfter('carol', 0, 100)), [request.serverId]);
});

test('send path: a claim left pending (its node died before the appends) is finished by the next try, once', async () => {
  const request = send('alice', 'half-done', ['dora', 'erin']);
  // The first node claimed and appended for dora only, then died.
  const claim = await t.dedupe.claim(request.sender, request.clientMessageId, { server_id: request.serverId, fingerprint: request.fingerprint, at: 'then' });
  assert.equal(claim.kind, 'claimed');
  await t.log.append('dora', request.item(request.serverId, 'dora'), `${request.serverId}:dora`);
  const retried = await acceptSend(t.dedupe, t.log, { ...request, serverId: 'retry-id' });
  assert.equal(retried.verdict, 'accepted');
  assert.equal(retried.verdict === 'accepted' && retried.resumed, true);
  assert.equal(retried.serverId, request.serverId, 'the first server id, which nobody was told yet');
  assert.deepEqual(ids(await t.log.readAfter('dora', 0, 100)), [request.serverId], 'dora: once');
  assert.deepEqual(ids(await t.log.readAfter('erin', 0, 100)), [request.serverId], 'erin: now');
  assert.equal((await t.dedupe.get('alice', 'half-done'))?.state, 'committed');
  assert.equal((await acceptSend(t.dedupe, t.log, request)).verdict, 'duplicate');
});

test('deliveries: each recipient in order; a device reads after its cursor and acks up to; cursors never move back', async () => {
  for (let i = 0; i < 6; i++) {
    await t.log.append('frank', `frank ${i}`, `frank-${i}`);
    if (i % 2 === 0) await t.log.append('gina', `gina ${i}`, `gina-${i}`);
  }
  const all = await t.log.readAfter('frank', 0, 100);
  assert.deepEqual(all.map((i) => i.item), [0, 1, 2, 3, 4, 5].map((i) => `frank ${i}`));
  assert.ok(all.every((item, i) => i === 0 || item.seq > all[i - 1]!.seq), 'increasing sequences');
  assert.deepEqual((await t.log.readAfter('frank', 0, 2)).map((i) => i.item), ['frank 0', 'frank 1'], 'limit');
  assert.deepEqual((await t.log.readAfter('gina', 0, 100)).map((i) => i.item), ['gina 0', 'gina 2', 'gina 4']);

  assert.equal(await t.cursors.get('frank', 'laptop'), 0);
  assert.equal(await t.cursors.ackUpTo('frank', 'laptop', all[2]!.seq), all[2]!.seq);
  assert.equal(await t.cursors.ackUpTo('frank', 'laptop', all[1]!.seq), all[2]!.seq, 'an older ack does not move it back');
  const cursor = await t.cursors.get('frank', 'laptop');
  assert.deepEqual((await t.log.readAfter('frank', cursor, 100)).map((i) => i.item), ['frank 3', 'frank 4', 'frank 5']);
  assert.equal(await t.cursors.get('frank', 'phone'), 0, 'each device has its own cursor');
  assert.deepEqual(await t.log.readAfter('frank', all[5]!.seq, 100), [], 'nothing after the newest');
  // Concurrent acks of one device from two places end at the highest.
  const acks = await Promise.all(all.map((item) => t.cursors.ackUpTo('frank', 'phone', item.seq)));
  assert.ok(acks.every((a) => a <= all[5]!.seq));
  assert.equal(await t.cursors.get('frank', 'phone'), all[5]!.seq);
});

test('accounts and memberships', async () => {
  const token = (fill: string) => ({ kind: 'sha256' as const, hash: Buffer.alloc(32, fill), salt: Buffer.alloc(0) });
  const first = await t.accounts.add('hank', token('a'));
  await assert.rejects(t.accounts.add('hank', token('b')), UserExistsError);
  assert.equal((await t.accounts.get('hank'))?.record.hash, Buffer.alloc(32, 'a').toString('base64'), 'the first add stands');
  assert.equal(await t.accounts.get('nobody'), undefined);
  // Two nodes adding one name at once: one wins.
  const other = await openTables(cluster.urls, { name: 'admin-node' });
  try {
    const racing = await Promise.allSettled([t.accounts.add('ivan', token('c')), other.accounts.add('ivan', token('d'))]);
    assert.equal(racing.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(racing.some((r) => r.status === 'rejected' && r.reason instanceof UserExistsError));
  } finally {
    await other.close();
  }
  assert.equal(await t.accounts.isActive(first.revision), true);
  assert.equal(await t.accounts.revoke('hank'), true);
  assert.equal(await t.accounts.revoke('hank'), false, 'already revoked');
  assert.notEqual((await t.accounts.get('hank'))?.record.revoked_at, null);
  assert.equal(await t.accounts.isActive(first.revision), false, 'the revoked credential is inactive');
  assert.equal(await t.accounts.isActive((await t.accounts.get('hank'))!.revision), false, 'the revocation\'s own revision is no credential');
  const again = await t.accounts.add('hank', token('e'));
  assert.notEqual(again.revision, first.revision, 'a token issued again is a new credential');
  assert.equal(await t.accounts.isActive(again.revision), true);
  assert.equal(await t.accounts.isActive(first.revision), false);
  assert.equal(again.record.past.length, 1, 'the revoked credential is remembered');

  await t.members.set('team.x', 'hank', 'owner');
  await t.members.set('team.x', 'ivy', 'member');
  await t.members.set('team', 'judy', 'member');
  await t.members.set('team.x', 'ivy', 'admin');
  assert.deepEqual([...(await t.members.members('team.x'))], [['hank', 'owner'], ['ivy', 'admin']]);
  assert.deepEqual([...(await t.members.members('team'))], [['judy', 'member']], 'a group name that prefixes another is its own group');
  await t.members.remove('team.x', 'ivy');
  assert.equal(await t.members.role('team.x', 'ivy'), undefined);
  assert.deepEqual([...(await t.members.members('team.x'))], [['hank', 'owner']]);
});

test('kill -9 of one node mid-way: sends are acked with 2 of 3, each stored once; a reader resumes from its cursor', { timeout: 240_000 }, async () => {
  const SENDERS = 6;
  const PER_SENDER = 30;
  const recipient = 'kim';
  const stats: RetryStats = { refusals: 0 };
  const verdicts = new Map<string, string>();
  const sendOne = async (s: number, i: number) => {
    const request = send(`sender${s}`, `k-${s}-${i}`, [recipient]);
    const verdict = await retrying(`send ${s}/${i}`, () => acceptSend(t.dedupe, t.log, request), stats);
    assert.notEqual(verdict.verdict, 'conflict');
    verdicts.set(request.clientMessageId, verdict.serverId);
  };
  const sendRange = (from: number, to: number) =>
    Promise.all(Array.from({ length: SENDERS }, async (_, s) => {
      for (let i = from; i < to; i++) await sendOne(s, i);
    }));

  await sendRange(0, 10);
  // The reader takes what is there and acks it.
  let cursor = 0;
  const seen: string[] = [];
  const readSome = async () => {
    const items = await retrying('read', () => t.log.readAfter(recipient, cursor, 25));
    seen.push(...ids(items));
    if (items.length) cursor = await retrying('ack', () => t.cursors.ackUpTo(recipient, 'tablet', items.at(-1)!.seq));
    return items.length;
  };
  await readSome();

  // Kill the deliveries stream's leader while the senders are mid-way.
  const leader = (await t.provisioned.jsm.streams.info(DELIVERIES_STREAM)).cluster?.leader;
  assert.ok(leader);
  const sending = sendRange(10, 20);
  await waitFor('the second range to be under way', () => (verdicts.size >= SENDERS * 12 ? true : undefined), 30_000, 5);
  await cluster.kill9(leader);
  await sending;
  // With the node still down: every send acknowledged (2 of 3 is a quorum).
  await sendRange(20, 25);
  await readSome();
  await cluster.restart(leader);
  await sendRange(25, PER_SENDER);

  // The reader resumes from its stored cursor, as a device reconnecting to another node would.
  const resumed = await openTables(cluster.urls, { name: 'reader-after-restart' });
  try {
    cursor = await resumed.cursors.get(recipient, 'tablet');
    for (let rounds = 0; rounds < 100 && (await readSome()) > 0; rounds++);
  } finally {
    await resumed.close();
  }
  assert.equal(verdicts.size, SENDERS * PER_SENDER, 'every send answered');
  assert.equal(seen.length, SENDERS * PER_SENDER, `every message once (got ${seen.length})`);
  assert.deepEqual(new Set(seen), new Set(verdicts.values()), 'exactly the accepted server ids');
  const stored = await t.log.readAfter(recipient, 0, 1000);
  assert.equal(stored.length, SENDERS * PER_SENDER, 'the stream holds each once');
  // The restarted node catches up on the stream.
  await waitFor('the restarted node to be current', async () => {
    const info = await t.provisioned.jsm.streams.info(DELIVERIES_STREAM);
    return info.cluster?.leader === leader || info.cluster?.replicas?.some((r) => r.name === leader && r.current) ? true : undefined;
  }, 30_000, 200);
  console.log(`kill -9 ${leader}: ${stats.refusals} retryable refusals while the stream elected a new leader`);
});

test('no quorum (2 of 3 down): the typed retryable error, bounded; the same send lands once after recovery', { timeout: 240_000 }, async () => {
  const [a, b] = cluster.nodes.map((n) => n.name);
  await cluster.kill9(a!);
  await cluster.kill9(b!);
  const request = send('lena', 'no-quorum', ['mona']);
  const started = Date.now();
  const error = await acceptSend(t.dedupe, t.log, request).then(
    () => assert.fail('accepted without quorum'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ClusterUnavailableError, `got ${String(error)}`);
  assert.equal(error.retryable, true);
  assert.equal(error.code, 'cluster_unavailable');
  assert.ok(Date.now() - started < 30_000, `bounded (${Date.now() - started} ms)`);
  await assert.rejects(t.log.append('nina', 'no quorum', 'nq-direct'), ClusterUnavailableError);
  await assert.rejects(t.cursors.ackUpTo('mona', 'd', 5), ClusterUnavailableError);

  await cluster.restart(a!, false);
  await cluster.restart(b!);
  const verdict = await retrying('send after recovery', () => acceptSend(t.dedupe, t.log, request));
  assert.equal(verdict.verdict, 'accepted');
  assert.deepEqual(ids(await retrying('read', () => t.log.readAfter('mona', 0, 10))), [request.serverId]);
  // A refused write is not known to be stored, which is not the same as not stored: a proposal
  // the surviving node had taken may commit once the quorum is back. The same write again
  // (same Nats-Msg-Id) settles it: stored exactly once either way.
  await retrying('append again', () => t.log.append('nina', 'no quorum', 'nq-direct'));
  assert.deepEqual((await t.log.readAfter('nina', 0, 10)).map((i) => i.item), ['no quorum']);
});

test('one node, one replica: the dedupe table outlives the stream\'s duplicate window', { timeout: 60_000 }, async () => {
  const single = await NatsCluster.start({ nodes: 1 });
  try {
    const one = await openTables(single.urls, { replicas: 1, duplicateWindowMs: 500 });
    try {
      assert.equal((await one.provisioned.jsm.streams.info(DELIVERIES_STREAM)).config.num_replicas, 1);
      const request = send('olga', 'late-resend', ['pat']);
      assert.equal((await acceptSend(one.dedupe, one.log, request)).verdict, 'accepted');
      // Past the stream's window a repeated Nats-Msg-Id would be stored again; the table still knows the send.
      await sleep(1500);
      assert.deepEqual(await acceptSend(one.dedupe, one.log, { ...request, serverId: 'later' }), { verdict: 'duplicate', serverId: request.serverId });
      assert.deepEqual(ids(await one.log.readAfter('pat', 0, 10)), [request.serverId]);
    } finally {
      await one.close();
    }
  } finally {
    await single.stop();
  }
});
