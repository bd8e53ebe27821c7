/**
 * The relay storage interface's JetStream side (relay/storage/jetstream/), so far its
 * AccountStorage and KeyDirectoryStorage, against a real three-node cluster, seen from two
 * relay nodes: what `relay add-user|revoke` write and hello checks, a revocation on one node
 * noticed by the other's credential watch, device key records bounded per user across
 * nodes, and the feed of committed deliveries one node reads of another's appends, through a
 * kill -9 of the stream's leader.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsCluster } from '../support/nats-cluster';
import { openTables, type RelayTables } from '../support/jetstream-relay';
import { jetstreamAccounts } from '../../relay/storage/jetstream/accounts';
import { jetstreamKeys } from '../../relay/storage/jetstream/keys';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import type { KeysResultFrame } from '../../protocol/relay';
import { UserExistsError } from '../../relay/storage/errors';
import { generateToken, hashToken } from '../../relay/tokens';
import type { AccountStorage } from '../../relay/storage/types';
import { waitFor } from '../support/wait';
import { retrying } from '../support/jetstream-relay';
import { watchCommittedDeliveries, type FedDelivery } from '../../relay/jetstream/feed';
import { DELIVERIES_STREAM } from '../../relay/jetstream/provision';

let cluster: NatsCluster;
let node1: RelayTables;
let node2: RelayTables;
let a1: AccountStorage;
let a2: AccountStorage;

before(async () => {
  cluster = await NatsCluster.start({ nodes: 3 });
  node1 = await openTables(cluster.urls, { name: 'relay-node-1' });
  node2 = await openTables(cluster.urls, { name: 'relay-node-2' });
  a1 = jetstreamAccounts(node1.accounts);
  a2 = jetstreamAccounts(node2.accounts);
});
after(async () => {
  await node1?.close().catch(() => undefined);
  await node2?.close().catch(() => undefined);
  await cluster?.stop();
});

test('a user added through one node is checked through the other; revoking makes its credential inactive on both', async () => {
  const token = generateToken();
  const now = new Date('2026-12-03T10:00:00Z');
  await a1.addUser('alice', hashToken(token), now);
  await assert.rejects(a2.addUser('alice', hashToken(generateToken()), now), UserExistsError);
  const credential = await a2.activeCredential('alice');
  assert.ok(credential);
  assert.equal(credential.name, 'alice');
  assert.equal(credential.kind, 'sha256');
  assert.deepEqual(credential.hash, hashToken(token).hash, 'the stored hash is the token\'s');
  assert.equal(credential.salt.length, 0);
  assert.equal(await a1.activeCredential('bob'), undefined);
  assert.deepEqual(await a1.inactiveCredentials([credential.id]), new Set());

  assert.equal(await a2.revokeUser('alice', new Date('2026-12-03T11:00:00Z')), true);
  assert.equal(await a1.revokeUser('alice', new Date()), false);
  assert.equal(await a1.activeCredential('alice'), undefined);
  assert.deepEqual(await a1.inactiveCredentials([credential.id, credential.id]), new Set([credential.id]));

  // Issued again: a new credential; the old one stays inactive.
  await a1.addUser('alice', hashToken(generateToken()), new Date('2026-12-03T12:00:00Z'));
  const reissued = await a2.activeCredential('alice');
  assert.ok(reissued && reissued.id !== credential.id);
  assert.deepEqual(await a2.inactiveCredentials([credential.id, reissued.id]), new Set([credential.id]));
  assert.deepEqual(
    (await a2.listUsers()).filter((u) => u.name === 'alice'),
    [
      { name: 'alice', created_at: '2026-12-03T10:00:00.000Z', revoked_at: '2026-12-03T11:00:00.000Z' },
      { name: 'alice', created_at: '2026-12-03T12:00:00.000Z', revoked_at: null },
    ],
  );
  assert.deepEqual(await a1.caseCollisions(), []);
});

test('a revocation on one node is noticed by the other node\'s credential watch', async () => {
  await a1.addUser('carol', hashToken(generateToken()), new Date());
  let calls = 0;
  const stop = a2.watchCredentials(() => calls++, 100);
  try {
    assert.equal(await a1.revokeUser('carol', new Date()), true);
    // The watch's baseline is read when it starts, asynchronously: should the revocation have
    // landed before it, each further probe makes one more change on node 1 (another user).
    let extra = 0;
    await waitFor('node 2\'s watch to notice a change made on node 1', async () => {
      if (calls > 0) return true;
      await a1.addUser(`watch-${extra++}`, hashToken(generateToken()), new Date());
      return undefined;
    }, 10_000, 300);
  } finally {
    stop();
  }
});

test('key directory: a device publishes its own signed record, read through the other node; others refused; the per-user bound holds across nodes', async () => {
  const k1 = jetstreamKeys(node1.provisioned.buckets.keys, 3);
  const k2 = jetstreamKeys(node2.provisioned.buckets.keys, 3);
  const now = new Date();
  const record = (device: string, user = 'dan') => signDeviceRecord(generateIdentity(), user, device, Date.now());
  const result = (answer: KeysResultFrame) => (answer.result === 'ok' ? 'ok' : answer.code);
  const laptop = record('dan-laptop');
  const published = await k1.publishKeys('dan', 'dan-laptop', { type: 'keys_publish', request_id: 'p1', record: laptop }, now);
  assert.deepEqual(published, { type: 'keys_result', request_id: 'p1', result: 'ok', user: 'dan', records: [laptop] });
  assert.deepEqual(await k2.getKeys({ type: 'keys_get', request_id: 'g1', user: 'dan' }), { type: 'keys_result', request_id: 'g1', result: 'ok', user: 'dan', records: [laptop] });
  assert.deepEqual((await k2.getKeys({ type: 'keys_get', request_id: 'g2', user: 'nobody' })).result === 'ok' && [], []);
  // Someone else's device, or a record not signed by its own key.
  assert.equal(result(await k1.publishKeys('dan', 'dan-phone', { type: 'keys_publish', request_id: 'p2', record: record('dan-laptop') }, now)), 'bad_record');
  const forged = { ...record('dan-phone'), sig: laptop.sig };
  assert.equal(result(await k1.publishKeys('dan', 'dan-phone', { type: 'keys_publish', request_id: 'p3', record: forged }, now)), 'bad_record');
  // Five new devices at once through two nodes, with room for two more: never more than two get
  // in (a race may refuse one that would have fit; it gets in when tried again alone).
  const devices = ['d1', 'd2', 'd3', 'd4', 'd5'];
  const answers = await Promise.all(devices.map((d, i) => (i % 2 ? k1 : k2).publishKeys('dan', d, { type: 'keys_publish', request_id: d, record: record(d) }, now)));
  const admitted = answers.filter((a) => a.result === 'ok').length;
  assert.ok(admitted <= 2, `${admitted} of 5 admitted with room for 2`);
  assert.ok(answers.every((a) => result(a) === 'ok' || result(a) === 'limit'));
  for (const d of devices.filter((_, i) => answers[i]!.result !== 'ok')) {
    await k1.publishKeys('dan', d, { type: 'keys_publish', request_id: d, record: record(d) }, now);
  }
  const stored = await k1.getKeys({ type: 'keys_get', request_id: 'g3', user: 'dan' });
  assert.equal(stored.result === 'ok' && stored.records.length, 3, 'full, and no more');
  // A device already there replaces its record even when the user is full.
  const newLaptop = record('dan-laptop');
  const replaced = await k2.publishKeys('dan', 'dan-laptop', { type: 'keys_publish', request_id: 'p4', record: newLaptop }, now);
  assert.equal(result(replaced), 'ok');
  assert.ok(replaced.result === 'ok' && replaced.records.some((r) => r.sig === newLaptop.sig) && !replaced.records.some((r) => r.sig === laptop.sig));
});

test('delivery feed: node 2 sees node 1\'s appends as they commit, in order, none twice, through a kill -9 of the stream leader', { timeout: 120_000 }, async () => {
  await node1.log.append('erin', 'before the feed', 'feed-before'); // not on a feed started later
  const fed: FedDelivery[] = [];
  const feed = await watchCommittedDeliveries(node2.provisioned.js, (d) => fed.push(d));
  try {
    const appended: number[] = [];
    const append = async (i: number) => {
      const r = await retrying(`append ${i}`, () => node1.log.append(i % 2 ? 'erin' : 'a.b', `item ${i}`, `feed-${i}`));
      appended.push(r.seq);
    };
    for (let i = 0; i < 20; i++) await append(i);
    await waitFor('the first 20 on the feed', () => (fed.length >= 20 ? true : undefined), 20_000, 20);
    const leader = (await node1.provisioned.jsm.streams.info(DELIVERIES_STREAM)).cluster?.leader;
    assert.ok(leader);
    await cluster.kill9(leader);
    for (let i = 20; i < 40; i++) await append(i);
    await cluster.restart(leader);
    for (let i = 40; i < 50; i++) await append(i);
    await waitFor('all 50 on the feed', () => (fed.length >= 50 ? true : undefined), 60_000, 50).catch((error: Error) => {
      throw new Error(`${error.message}: ${fed.length} fed, the last at seq ${fed.at(-1)?.seq}; appended up to ${appended.at(-1)}`);
    });
    assert.deepEqual(fed.map((d) => d.seq), appended, 'every committed append, in order, once');
    assert.deepEqual(fed.slice(0, 2).map((d) => [d.recipient, d.item]), [['a.b', 'item 0'], ['erin', 'item 1']]);
  } finally {
    await feed.stop();
  }
});
