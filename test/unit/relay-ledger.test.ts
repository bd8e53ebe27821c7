import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS as RELAY_MIGRATIONS } from '../../relay/migrations';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { DeliveryItem, SendFrame } from '../../protocol/relay';
import { WriteBatcher } from '../../lib/node/write-batcher';
import { DEFAULT_LEDGER_LIMITS, RelayLedger, type LedgerLimits } from '../../relay/ledger';
import { RelayStore, UserExistsError } from '../../relay/store';
import { addUser, revokeUser } from '../../relay/accounts';
import { sqliteAccounts } from '../../relay/storage/sqlite/storage';
import { makeTempDir } from '../support/relay';
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
  await addUser(sqliteAccounts(store), 'alice');
  await addUser(sqliteAccounts(store), 'bob');
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
  const token = await addUser(sqliteAccounts(store), 'carol');
  const credential = store.activeCredential('carol');
  assert.ok(credential);
  assert.ok(!credential.hash.toString('latin1').includes(token));
  assert.equal(credential.kind, 'sha256');
  assert.equal(checkSha256Token(token, credential.hash), true);
  assert.equal(checkSha256Token(`${token}x`, credential.hash), false);
  assert.equal(checkSha256Token(token, undefined), false);
  await assert.rejects(addUser(sqliteAccounts(store), 'carol'), UserExistsError);
  assert.equal(await revokeUser(sqliteAccounts(store), 'carol'), true);
  assert.equal(store.activeCredential('carol'), undefined);
  assert.equal(await revokeUser(sqliteAccounts(store), 'carol'), false, 'nothing left to revoke');
  const reissued = await addUser(sqliteAccounts(store), 'carol');
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

  const sameKeyOtherUser = store.transaction(() => ledger.recordSend('bob', { ...message('c1', 'alice'), id: 'bob-id-c1' }, now));
  assert.equal(sameKeyOtherUser.verdict.result, 'accepted', 'idempotency is per sender');

  // A message id belongs to the first send that used it: another sender cannot take it over.
  const takeover = store.transaction(() => ledger.recordSend('bob', { ...message('c9', 'alice'), id: 'id-c1' }, now));
  assert.equal(takeover.verdict.result, 'rejected');
  if (takeover.verdict.result === 'rejected') {
    assert.equal(takeover.verdict.retryable, false);
    assert.equal(takeover.verdict.code, 'id_taken');
    assert.match(takeover.verdict.reason, /message id "id-c1" is already used by another message/);
  }
  const ownIdOtherKey = store.transaction(() => ledger.recordSend('alice', { ...message('c5'), id: 'id-c2' }, now));
  assert.equal(ownIdOtherKey.verdict.result === 'rejected' && ownIdOtherKey.verdict.code, 'id_taken', 'one sender cannot reuse its own id for another message either');

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
      store.appendDelivery('bob', '{"kind":"bogus"}', now);
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

// ---- quotas and retention (injected clock: every ledger call takes `now`) -------------------

function limitedLedger(limits: Partial<LedgerLimits>): RelayLedger {
  return new RelayLedger(store, 100_000, { ...DEFAULT_LEDGER_LIMITS, ...limits });
}

const at = (ms: number) => new Date(now.getTime() + ms);

test('quota: a recipient with its messages held is refused (retryable, code quota) until a device acks', () => {
  const limited = limitedLedger({ quotaMessages: 2 });
  store.transaction(() => limited.openDevice('bob', 'laptop', 0, now));
  assert.equal(store.transaction(() => limited.recordSend('alice', message('q1'), now)).verdict.result, 'accepted');
  assert.equal(store.transaction(() => limited.recordSend('alice', message('q2'), now)).verdict.result, 'accepted');
  const refused = store.transaction(() => limited.recordSend('alice', message('q3'), now)).verdict;
  assert.equal(refused.result, 'rejected');
  if (refused.result === 'rejected') {
    assert.equal(refused.code, 'quota');
    assert.equal(refused.retryable, true);
    assert.match(refused.reason, /^quota: "bob" already has 2 undelivered messages/);
  }
  assert.equal(store.lastSeq('bob'), 2, 'a refused send stores nothing');
  assert.equal(store.findDedupe('alice', 'q3'), undefined, 'nor remembers it: the retry is a fresh send');
  store.transaction(() => limited.recordAck('bob', 'laptop', 1, now));
  assert.deepEqual(store.undelivered('bob'), { messages: 1, bytes: store.deliveriesAfter('bob', 1, 10).reduce((n, d) => n + Buffer.byteLength(d.item), 0) });
  assert.equal(store.transaction(() => limited.recordSend('alice', message('q3'), now)).verdict.result, 'accepted', 'room again once bob has one');
});

test('quota: bytes count too; a message larger than the whole quota is never retryable', () => {
  const probe = store.transaction(() => ledger.recordSend('alice', message('b0', 'alice'), now));
  assert.equal(probe.verdict.result, 'accepted');
  const itemBytes = Buffer.byteLength(probe.deliveries[0]!.item);
  const limited = limitedLedger({ quotaBytes: itemBytes * 2 + 10 });
  assert.equal(store.transaction(() => limited.recordSend('alice', message('b1'), now)).verdict.result, 'accepted');
  assert.equal(store.transaction(() => limited.recordSend('alice', message('b2'), now)).verdict.result, 'accepted');
  const full = store.transaction(() => limited.recordSend('alice', message('b3'), now)).verdict;
  assert.equal(full.result === 'rejected' && full.retryable && full.code, 'quota');
  const huge = store.transaction(() => limited.recordSend('alice', message('b4', 'bob', 'x'.repeat(itemBytes * 3)), now)).verdict;
  assert.equal(huge.result === 'rejected' && huge.code, 'quota');
  assert.equal(huge.result === 'rejected' && huge.retryable, false);
});

test('retention: an undelivered message expires and its sender is told; delivered rows, dedupe rows and receipt markers are pruned', () => {
  const limited = limitedLedger({ retentionMs: 1000, dedupeWindowMs: 2000 });
  store.transaction(() => limited.openDevice('bob', 'laptop', 0, now));
  store.transaction(() => limited.openDevice('alice', 'desk', 0, now));
  const kept = store.transaction(() => limited.recordSend('alice', message('r1'), now));
  const delivered = store.transaction(() => limited.recordSend('alice', message('r2'), now));
  assert.equal(kept.verdict.result === 'accepted' && delivered.verdict.result === 'accepted', true);
  // bob's laptop acks r1 only after a second device appeared that never acks: r1 is delivered
  // (alice got a receipt) but kept for the other device; r2 no device ever acks.
  store.transaction(() => limited.openDevice('bob', 'old-phone', 0, now));
  const receipts = store.transaction(() => limited.recordAck('bob', 'laptop', 1, now));
  assert.equal(receipts.length, 1);

  const early = store.transaction(() => limited.prune(at(999)));
  assert.deepEqual([early.expired, early.deleted, early.notices.length], [0, 0, 0], 'nothing is old enough yet');

  const due = store.transaction(() => limited.prune(at(1500)));
  assert.equal(due.expired, 1, 'r2 expired undelivered');
  assert.equal(due.notices.length, 1);
  const notice = JSON.parse(due.notices[0]!.item) as DeliveryItem;
  assert.equal(due.notices[0]!.user, 'alice');
  assert.deepEqual(notice, { kind: 'expired', id: 'id-r2', server_id: delivered.verdict.result === 'accepted' ? delivered.verdict.server_id : '', to: 'bob', at: at(1500).toISOString() });
  assert.deepEqual(store.deliveriesAfter('bob', 0, 10), [], 'both of bob\'s deliveries are gone, the delivered one without a notice');
  assert.deepEqual(store.undelivered('bob'), { messages: 0, bytes: 0 });
  assert.equal(store.isReceipted(kept.verdict.result === 'accepted' ? kept.verdict.server_id : ''), false, 'its receipt marker went with it');
  assert.ok(due.deleted >= 3, `the receipt delivery to alice, r1 and its marker (deleted ${due.deleted})`);
  assert.ok(store.findDedupe('alice', 'r1'), 'dedupe rows stay for their own, longer window');
  assert.equal(store.transaction(() => limited.recordSend('alice', message('r1'), at(1500))).verdict.result, 'duplicate');

  const later = store.transaction(() => limited.prune(at(2500)));
  assert.ok(later.deleted >= 2, 'the dedupe rows of r1 and r2');
  assert.equal(store.findDedupe('alice', 'r1'), undefined);
  assert.equal(later.more, false);
});

test('migration 2: a version-1 relay keeps its rows, counts what is undelivered, and expires nothing at once', () => {
  const path = join(dir.path, 'v1', 'relay.db');
  const v1 = RelayStore.open(join(dir.path, 'v1')).db;
  v1.close();
  // Rebuild it as a version-1 database with rows, as an older relay left it.
  rmSync(path);
  const old = new Database(path);
  old.exec(RELAY_MIGRATIONS[0]!);
  old.pragma('user_version = 1');
  const item = (serverId: string, id: string) => JSON.stringify({ kind: 'message', server_id: serverId, message: { ...message(id), from: 'alice' } });
  old.prepare('INSERT INTO deliveries (user, seq, item) VALUES (?, ?, ?)').run('bob', 1, item('s1', 'm1'));
  old.prepare('INSERT INTO deliveries (user, seq, item) VALUES (?, ?, ?)').run('bob', 2, item('s2', 'm2'));
  old.prepare("INSERT INTO receipts_sent (server_id) VALUES ('s1')").run();
  old.prepare("INSERT INTO dedupe (sender, client_message_id, id, server_id, fingerprint) VALUES ('alice', 'm2', 'id-m2', 's2', 'f')").run();
  old.close();
  const migrated = RelayStore.open(join(dir.path, 'v1'));
  try {
    assert.deepEqual(migrated.undelivered('bob'), { messages: 1, bytes: Buffer.byteLength(item('s2', 'm2')) }, 'only the message no device took counts');
    assert.deepEqual(migrated.idOwner('id-m2'), { sender: 'alice', client_message_id: 'm2' });
    const limited = new RelayLedger(migrated, 100_000, { ...DEFAULT_LEDGER_LIMITS, retentionMs: 60_000 });
    const outcome = migrated.transaction(() => limited.prune(new Date()));
    assert.deepEqual([outcome.expired, outcome.deleted], [0, 0], 'old rows count as stored at the upgrade');
    assert.equal(migrated.deliveriesAfter('bob', 0, 10).length, 2);
  } finally {
    migrated.close();
  }
});

test('migration 5 (groups): a version-4 relay keeps its history, served to v1 and v2 devices alike', () => {
  const sub = join(dir.path, 'v4');
  const path = join(sub, 'relay.db');
  RelayStore.open(sub).close();
  rmSync(path);
  // Rebuild it as a version-4 database with a delivered and an undelivered message.
  const old = new Database(path);
  for (const sql of RELAY_MIGRATIONS.slice(0, 4)) old.exec(sql);
  old.pragma('user_version = 4');
  const item = (serverId: string, id: string) => JSON.stringify({ kind: 'message', server_id: serverId, message: { ...message(id), from: 'alice' } });
  old.prepare('INSERT INTO deliveries (user, seq, item, created_at) VALUES (?, ?, ?, 0)').run('bob', 1, item('s1', 'm1'));
  old.prepare('INSERT INTO deliveries (user, seq, item, created_at) VALUES (?, ?, ?, 0)').run('bob', 2, item('s2', 'm2'));
  old.prepare("INSERT INTO sequences (user, last_seq) VALUES ('bob', 2)").run();
  old.close();
  const migrated = RelayStore.open(sub);
  try {
    assert.equal(migrated.db.pragma('user_version', { simple: true }), RELAY_MIGRATIONS.length);
    const expected = [
      { seq: 1, item: item('s1', 'm1') },
      { seq: 2, item: item('s2', 'm2') },
    ];
    assert.deepEqual(migrated.visibleDeliveriesAfter('bob', 0, 10, { version: 1, device: 'old-core' }), expected, 'a v1 core is sent every old row');
    assert.deepEqual(migrated.visibleDeliveriesAfter('bob', 0, 10, { version: 2, device: 'new-core' }), expected, 'and so is a v2 core');
    assert.equal(migrated.lastVisibleDeliveryAfter('bob', 0, { version: 1, device: 'old-core' }), 2);
  } finally {
    migrated.close();
  }
});

test('a group message is stored once: each member row references the one timeline entry', async () => {
  await addUser(sqliteAccounts(store), 'carol');
  const ledger = new RelayLedger(store, 100_000);
  store.transaction(() => {
    ledger.groups.handle('alice', { type: 'group_create', request_id: 'r1', group: 'team', members: ['bob', 'carol'] }, now);
    ledger.recordSend('alice', { ...message('g1', '#team'), body: 'x'.repeat(1000) }, now, 'laptop');
  });
  const stored = store.db.prepare("SELECT count(*) AS n, sum(length(item)) AS bytes FROM deliveries WHERE ref_group IS NOT NULL").get() as { n: number; bytes: number };
  assert.deepEqual(stored, { n: 6, bytes: 0 }, 'two timeline entries fanned out to three members, no copies');
  const bodies = store.visibleDeliveriesAfter('bob', 0, 10, { version: 2, device: 'phone' }).map((d) => (JSON.parse(d.item) as { kind: string }).kind);
  assert.deepEqual(bodies, ['group', 'message'], 'the member reads the entries through its rows');
  assert.deepEqual(store.visibleDeliveriesAfter('bob', 0, 10, { version: 1, device: 'phone' }), [], 'a v1 core is sent none of it');
  assert.equal(store.visibleDeliveriesAfter('alice', 0, 10, { version: 2, device: 'laptop' }).length, 1, 'the sending device gets the event, not its own message');
  assert.equal(store.undelivered('alice').messages, 0, 'the sender\'s copy counts against no quota');
  assert.equal(store.undelivered('bob').messages, 1);
});

test('retention drops a group timeline entry once no member row references it, and not before', async () => {
  await addUser(sqliteAccounts(store), 'carol');
  const limited = new RelayLedger(store, 100_000, { ...DEFAULT_LEDGER_LIMITS, retentionMs: 1000 });
  for (const [user, device] of [['alice', 'laptop'], ['bob', 'laptop'], ['carol', 'laptop']] as const) store.transaction(() => limited.openDevice(user, device, 0, now));
  store.transaction(() => {
    limited.groups.handle('alice', { type: 'group_create', request_id: 'r1', group: 'team', members: ['bob', 'carol'] }, now);
    limited.recordSend('alice', message('t1', '#team'), now, 'laptop');
  });
  const entries = () => (store.db.prepare('SELECT count(*) AS n FROM group_timeline').get() as { n: number }).n;
  assert.equal(entries(), 2, 'the creation event and the message');
  // Everyone takes everything, so their rows are pruned through their cursors at once.
  for (const user of ['alice', 'bob', 'carol']) store.transaction(() => limited.recordAck(user, 'laptop', store.lastSeq(user), now));
  assert.equal(store.transaction(() => limited.prune(at(999))).deleted, 0, 'younger than retention: kept');
  assert.equal(entries(), 2);
  // A new entry that carol has not taken is still referenced by her row: it stays.
  store.transaction(() => limited.recordSend('alice', message('t2', '#team'), at(10), 'laptop'));
  store.transaction(() => limited.recordAck('bob', 'laptop', store.lastSeq('bob'), at(10)));
  store.transaction(() => limited.prune(at(1005)));
  assert.equal(entries(), 1, 'the two old entries, referenced by no row, are gone');
  const expired = store.transaction(() => limited.prune(at(1100)));
  assert.equal(expired.expired, 1, "t2 expired for carol, who never took it");
  assert.equal(entries(), 0, 'and its entry went in the same step as its last row');
});
