/**
 * The relay's store (relay/store.ts) on a real SQLite file: every read and write it offers,
 * the settings it opens with, and what it says about a damaged database.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { RelayStore, UserExistsError } from '../../relay/store';
import { makeTempDir } from '../support/relay';
import { hashToken, type StoredToken } from '../../relay/tokens';

let dir: ReturnType<typeof makeTempDir>;
let store: RelayStore;
const dataDir = () => join(dir.path, 'data');

beforeEach(() => {
  dir = makeTempDir();
  store = RelayStore.open(dataDir());
});

afterEach(() => {
  store.close();
  dir.remove();
});

const legacy: StoredToken = { kind: 'scrypt', hash: Buffer.alloc(32, 1), salt: Buffer.alloc(16, 2) };
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

describe('opening', () => {
  test('WAL, a full fsync per commit, a 5 s busy wait for the CLI, foreign keys on; close twice is fine', () => {
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('synchronous', { simple: true }), 2);
    assert.equal(store.db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    store.close();
    store.close();
  });

  test('a damaged database is named, with what to do', () => {
    store.close();
    const broken = join(dir.path, 'broken');
    RelayStore.open(broken).close();
    writeFileSync(join(broken, 'relay.db'), 'this is not a database, only text long enough to be read as a header '.repeat(20));
    assert.throws(
      () => RelayStore.open(broken),
      (err: Error) =>
        err.message.startsWith(`the relay database ${join(broken, 'relay.db')} is damaged (SQLite: `) &&
        err.message.includes(`mv ${join(broken, 'relay.db')} ${join(broken, 'relay.db')}.damaged`) &&
        err.message.includes('relay add-user'),
    );
    store = RelayStore.open(dataDir());
  });

  test('a commit by another connection changes the data version', () => {
    const before = store.dataVersion();
    assert.equal(typeof before, 'number');
    const other = RelayStore.open(dataDir());
    try {
      other.insertUser('olga', hashToken('t'), 'now');
    } finally {
      other.close();
    }
    assert.notEqual(store.dataVersion(), before);
  });
});

describe('users', () => {
  test('insert, look up, list, revoke; one active credential per name', () => {
    store.insertUser('bob', hashToken('b'), '2026-01-01');
    store.insertUser('alice', legacy, '2026-01-02');
    assert.throws(() => store.insertUser('bob', hashToken('b2'), '2026-01-03'), (err: Error) => err instanceof UserExistsError && err.message === 'user "bob" already exists; revoke it first to issue a new token');
    const alice = store.activeCredential('alice');
    assert.deepEqual(alice && { ...alice, id: 0 }, { id: 0, name: 'alice', kind: 'scrypt', hash: legacy.hash, salt: legacy.salt });
    assert.equal(store.activeCredential('nobody'), undefined);
    assert.equal(store.isUserActive('bob'), true);
    assert.equal(store.isUserActive('nobody'), false);
    assert.equal(store.isCredentialActive(alice!.id), true);
    assert.equal(store.revokeUser('bob', '2026-02-01'), true);
    assert.equal(store.revokeUser('bob', '2026-02-02'), false, 'nothing active left to revoke');
    assert.equal(store.isUserActive('bob'), false);
    store.insertUser('bob', hashToken('b3'), '2026-03-01');
    assert.deepEqual(store.listUsers(), [
      { name: 'alice', created_at: '2026-01-02', revoked_at: null },
      { name: 'bob', created_at: '2026-01-01', revoked_at: '2026-02-01' },
      { name: 'bob', created_at: '2026-03-01', revoked_at: null },
    ]);
  });

  test('other insert errors are not mistaken for a duplicate', () => {
    assert.throws(() => store.insertUser('x', { kind: 'sha256', hash: null as unknown as Buffer, salt: Buffer.alloc(0) }, 'now'), (err: Error) => !(err instanceof UserExistsError));
  });

  test('an older scrypt row is upgraded once, an active one only', () => {
    store.insertUser('olga', legacy, 'now');
    const id = store.activeCredential('olga')!.id;
    const fresh = hashToken('new');
    assert.equal(store.upgradeToken(id, fresh), true);
    assert.deepEqual(store.activeCredential('olga'), { id, name: 'olga', kind: 'sha256', hash: fresh.hash, salt: fresh.salt });
    assert.equal(store.upgradeToken(id, hashToken('again')), false, 'already SHA-256');
    store.insertUser('pete', legacy, 'now');
    const pete = store.activeCredential('pete')!.id;
    store.revokeUser('pete', 'later');
    assert.equal(store.upgradeToken(pete, fresh), false, 'revoked');
    assert.equal(store.isCredentialActive(pete), false);
  });
});

describe('devices', () => {
  test('first sight starts the cursor where asked; later sights keep the stored one', () => {
    assert.equal(store.touchDevice('bob', 'd1', 5, 't1'), 5);
    store.setDeviceAcked('bob', 'd1', 9);
    assert.equal(store.touchDevice('bob', 'd1', 0, 't2'), 9);
    assert.equal(store.deviceAcked('bob', 'd1'), 9);
    assert.equal(store.deviceAcked('bob', 'other'), undefined);
    const seen = store.db.prepare('SELECT first_seen_at, last_seen_at FROM devices WHERE user = ? AND device = ?').get('bob', 'd1');
    assert.deepEqual(seen, { first_seen_at: 't1', last_seen_at: 't2' });
  });

  test('the lowest cursor among the user\'s devices, 0 for none', () => {
    assert.equal(store.minAcked('bob'), 0);
    store.touchDevice('bob', 'd1', 7, 't');
    store.touchDevice('bob', 'd2', 3, 't');
    store.touchDevice('carol', 'd1', 1, 't');
    assert.equal(store.minAcked('bob'), 3);
  });
});

describe('deliveries', () => {
  test('each user has their own sequence; reads by range, by limit and by age', () => {
    assert.equal(store.lastSeq('bob'), 0);
    const seqs = store.transaction(() => [store.appendDelivery('bob', '"a"', at(3)), store.appendDelivery('bob', '"b"', at(1)), store.appendDelivery('carol', '"c"', at(2)), store.appendDelivery('bob', '"d"', at(4))]);
    assert.deepEqual(seqs, [1, 2, 1, 3]);
    assert.equal(store.lastSeq('bob'), 3);
    assert.deepEqual(store.deliveriesAfter('bob', 1, 10), [
      { seq: 2, item: '"b"' },
      { seq: 3, item: '"d"' },
    ]);
    assert.deepEqual(store.deliveriesAfter('bob', 0, 1), [{ seq: 1, item: '"a"' }]);
    assert.deepEqual(store.deliveriesBetween('bob', 1, 2), [{ seq: 2, item: '"b"' }]);
    assert.deepEqual(store.deliveriesOlderThan(at(4), 10), [
      { user: 'bob', seq: 2, item: '"b"' },
      { user: 'carol', seq: 1, item: '"c"' },
      { user: 'bob', seq: 1, item: '"a"' },
    ]);
    assert.deepEqual(store.deliveriesOlderThan(at(4), 1), [{ user: 'bob', seq: 2, item: '"b"' }]);
    store.deleteDelivery('bob', 2);
    assert.equal(store.pruneDeliveries('bob', 2), 1, 'seq 1 left; 2 was deleted');
    assert.deepEqual(store.deliveriesAfter('bob', 0, 10), [{ seq: 3, item: '"d"' }]);
    assert.deepEqual(store.deliveriesAfter('carol', 0, 10), [{ seq: 1, item: '"c"' }]);
    assert.equal(store.appendDelivery('bob', '"e"', at(5)), 4, 'a sequence never goes back');
  });
});

describe('idempotency and receipts', () => {
  test('dedupe rows by sender and client id, the owner of each id, and pruning by age in bounded batches', () => {
    store.insertDedupe('alice', 'c1', { id: 'id1', server_id: 's1', fingerprint: 'f1' }, at(1));
    store.insertDedupe('alice', 'c2', { id: 'id2', server_id: 's2', fingerprint: 'f2' }, at(2));
    store.insertDedupe('bob', 'c1', { id: 'id3', server_id: 's3', fingerprint: 'f3' }, at(3));
    assert.deepEqual(store.findDedupe('alice', 'c1'), { id: 'id1', server_id: 's1', fingerprint: 'f1' });
    assert.deepEqual(store.findDedupe('bob', 'c1'), { id: 'id3', server_id: 's3', fingerprint: 'f3' });
    assert.equal(store.findDedupe('bob', 'c2'), undefined);
    assert.deepEqual(store.idOwner('id2'), { sender: 'alice', client_message_id: 'c2' });
    assert.equal(store.idOwner('nope'), undefined);
    assert.equal(store.pruneDedupe(at(3), 1), 1, 'at most the limit');
    assert.equal(store.findDedupe('alice', 'c1'), undefined, 'oldest first');
    assert.equal(store.pruneDedupe(at(3), 10), 1, 'only those before the cutoff');
    assert.ok(store.findDedupe('bob', 'c1'));
  });

  test('a receipt is owed the first time only; markers are pruned by age', () => {
    assert.equal(store.markReceipted('s1', at(1)), true);
    assert.equal(store.markReceipted('s1', at(2)), false);
    assert.equal(store.markReceipted('s2', at(2)), true);
    assert.equal(store.markReceipted('s3', at(5)), true);
    assert.equal(store.isReceipted('s1'), true);
    assert.equal(store.isReceipted('s9'), false);
    assert.equal(store.pruneReceipts(at(5), 1), 1);
    assert.equal(store.isReceipted('s1'), false, 'oldest first');
    assert.equal(store.pruneReceipts(at(5), 10), 1);
    assert.equal(store.isReceipted('s3'), true);
  });
});

describe('quotas', () => {
  test('undelivered counts add up, and come down with negative numbers', () => {
    assert.deepEqual(store.undelivered('bob'), { messages: 0, bytes: 0 });
    store.addUndelivered('bob', 1, 100);
    store.addUndelivered('bob', 2, 50);
    store.addUndelivered('carol', 1, 1);
    assert.deepEqual(store.undelivered('bob'), { messages: 3, bytes: 150 });
    store.addUndelivered('bob', -1, -100);
    assert.deepEqual(store.undelivered('bob'), { messages: 2, bytes: 50 });
  });

  test('a transaction that throws stores nothing', () => {
    assert.throws(() =>
      store.transaction(() => {
        store.addUndelivered('bob', 1, 1);
        throw new Error('boom');
      }),
    );
    assert.deepEqual(store.undelivered('bob'), { messages: 0, bytes: 0 });
  });
});
