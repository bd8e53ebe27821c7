import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { DeliveryItem, SendFrame } from '../../protocol/relay';
import { WriteBatcher } from '../../server/store/write-batcher';
import { RelayLedger } from '../../relay/ledger';
import { RelayStore, UserExistsError } from '../../relay/store';
import { addUser, revokeUser } from '../../relay/accounts';
import { makeTempDir } from '../../relay/testing/harness';
import { checkSha256Token } from '../../relay/tokens';

let dir: ReturnType<typeof makeTempDir>;
let store: RelayStore;
let ledger: RelayLedger;
const now = new Date('2025-06-01T12:00:00Z');

function message(cmid: string, to = 'bob', body = 'hello'): SendFrame['message'] {
  return { id: `id-${cmid}`, client_message_id: cmid, to, body, reply_to: null, request_id: null, created_at: now.toISOString() };
}

beforeEach(async () => {
  dir = makeTempDir();
  store = RelayStore.open(join(dir.path, 'data'));
  await addUser(store, 'alice');
  await addUser(store, 'bob');
  ledger = new RelayLedger(store, 100);
});

afterEach(() => {
  store.close();
  dir.remove();
});

test('store files are private: directory 0700, database 0600', { skip: process.platform === 'win32' }, () => {
  assert.equal(statSync(join(dir.path, 'data')).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir.path, 'data', 'relay.db')).mode & 0o777, 0o600);
});

test('tokens are stored hashed and verify only with the right secret', async () => {
  const token = await addUser(store, 'carol');
  const credential = store.activeCredential('carol');
  assert.ok(credential);
  assert.ok(!credential.hash.toString('latin1').includes(token));
  assert.equal(credential.kind, 'sha256');
  assert.equal(checkSha256Token(token, credential.hash), true);
  assert.equal(checkSha256Token(`${token}x`, credential.hash), false);
  assert.equal(checkSha256Token(token, undefined), false);
  await assert.rejects(addUser(store, 'carol'), UserExistsError);
  assert.equal(revokeUser(store, 'carol'), true);
  assert.equal(store.activeCredential('carol'), undefined);
  assert.equal(revokeUser(store, 'carol'), false, 'nothing left to revoke');
  const reissued = await addUser(store, 'carol');
  assert.notEqual(reissued, token);
});

test('sends: accepted with per-recipient seq, duplicate, conflict, unknown recipient, oversize', () => {
  const first = store.transaction(() => ledger.recordSend('alice', message('c1'), now));
  assert.equal(first.verdict.result, 'accepted');
  assert.equal(first.verdict.result === 'accepted' && first.verdict.seq, 1);
  assert.equal(first.deliveries.length, 1);
  const second = store.transaction(() => ledger.recordSend('alice', message('c2'), now));
  assert.equal(second.verdict.result === 'accepted' && second.verdict.seq, 2);

  const again = store.transaction(() => ledger.recordSend('alice', { ...message('c1'), id: 'another-id' }, now));
  assert.equal(again.verdict.result, 'duplicate');
  if (again.verdict.result === 'duplicate' && first.verdict.result === 'accepted') {
    assert.equal(again.verdict.original_id, 'id-c1');
    assert.equal(again.verdict.id, 'another-id');
    assert.equal(again.verdict.server_id, first.verdict.server_id);
  }
  assert.equal(again.deliveries.length, 0);
  assert.equal(store.lastSeq('bob'), 2, 'a duplicate stores nothing');

  const sameIdOtherUser = store.transaction(() => ledger.recordSend('bob', message('c1', 'alice'), now));
  assert.equal(sameIdOtherUser.verdict.result, 'accepted', 'idempotency is per sender');

  const conflict = store.transaction(() => ledger.recordSend('alice', message('c1', 'bob', 'different'), now));
  assert.equal(conflict.verdict.result, 'rejected');
  assert.equal(conflict.verdict.result === 'rejected' && conflict.verdict.retryable, false);

  const unknown = store.transaction(() => ledger.recordSend('alice', message('c3', 'nobody'), now));
  assert.match(unknown.verdict.result === 'rejected' ? unknown.verdict.reason : '', /unknown recipient/);

  const big = store.transaction(() => ledger.recordSend('alice', message('c4', 'bob', 'é'.repeat(51)), now));
  assert.match(big.verdict.result === 'rejected' ? big.verdict.reason : '', /102 bytes.*at most 100/);
});

test('acks: receipts once per message on the first device ack, pruning waits for every device', () => {
  for (const cmid of ['a', 'b', 'c']) store.transaction(() => ledger.recordSend('alice', message(cmid), now));
  assert.equal(store.transaction(() => ledger.openDevice('bob', 'laptop', 0, now)).acked, 0);
  assert.equal(store.transaction(() => ledger.openDevice('bob', 'desktop', 0, now)).acked, 0);

  const receipts = store.transaction(() => ledger.recordAck('bob', 'laptop', 2, now));
  assert.equal(receipts.length, 2);
  const items = receipts.map((r) => JSON.parse(r.item) as DeliveryItem);
  assert.deepEqual(
    items.map((item) => item.kind === 'receipt' && [item.id, item.by]),
    [
      ['id-a', 'bob'],
      ['id-b', 'bob'],
    ],
  );
  assert.deepEqual(receipts.map((r) => [r.user, r.seq]), [['alice', 1], ['alice', 2]]);
  assert.equal(store.deliveriesAfter('bob', 0, 10).length, 3, 'desktop has not acked: nothing pruned');

  assert.equal(store.transaction(() => ledger.recordAck('bob', 'desktop', 3, now)).length, 1, 'only message c is new');
  assert.deepEqual(store.deliveriesAfter('bob', 0, 10).map((d) => d.seq), [3], 'pruned through the lowest cursor (2)');
  assert.equal(store.transaction(() => ledger.recordAck('bob', 'laptop', 3, now)).length, 0, 'no second receipt');
  assert.equal(store.deliveriesAfter('bob', 0, 10).length, 0);
  assert.equal(store.transaction(() => ledger.recordAck('bob', 'laptop', 1, now)).length, 0, 'going backwards is ignored');
  assert.equal(store.deviceAcked('bob', 'laptop'), 3);
});

test('hello cursor counts as an ack and is clamped to the last assigned seq', () => {
  store.transaction(() => ledger.recordSend('alice', message('x'), now));
  const opened = store.transaction(() => ledger.openDevice('bob', 'phone', 99, now));
  assert.equal(opened.acked, 1);
  assert.equal(opened.receipts.length, 1);
  store.transaction(() => ledger.recordSend('alice', message('y'), now));
  assert.deepEqual(store.deliveriesAfter('bob', opened.acked, 10).map((d) => d.seq), [2], 'the next delivery is not hidden by the bogus cursor');
});

test('group commit: writes in one turn share a transaction; a failing write does not undo its neighbours', async () => {
  const queue = new WriteBatcher(store.db, { grouped: true });
  const inTransaction: boolean[] = [];
  const results = await Promise.allSettled([
    queue.run(() => {
      inTransaction.push(store.db.inTransaction);
      return ledger.recordSend('alice', message('g1'), now);
    }),
    queue.run(() => {
      store.appendDelivery('bob', '{"kind":"bogus"}');
      throw new Error('boom');
    }),
    queue.run(() => ledger.recordSend('alice', message('g2'), now)),
  ]);
  assert.deepEqual(inTransaction, [true]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  const seqs = store.deliveriesAfter('bob', 0, 10).map((d) => d.seq);
  assert.deepEqual(seqs, [1, 2], 'the failed write rolled back to its savepoint, including its seq');
  await queue.idle();
});
