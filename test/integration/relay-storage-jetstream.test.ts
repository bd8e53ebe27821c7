/**
 * The relay storage interface's JetStream side (relay/storage/jetstream/), so far its
 * AccountStorage, against a real three-node cluster: what `relay add-user|revoke` write and
 * hello checks, seen alike from two relay nodes, and a revocation on one node noticed by the
 * other's credential watch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsCluster } from '../support/nats-cluster';
import { openTables, type RelayTables } from '../support/jetstream-relay';
import { jetstreamAccounts } from '../../relay/storage/jetstream/accounts';
import { UserExistsError } from '../../relay/storage/errors';
import { generateToken, hashToken } from '../../relay/tokens';
import type { AccountStorage } from '../../relay/storage/types';
import { waitFor } from '../support/wait';

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
