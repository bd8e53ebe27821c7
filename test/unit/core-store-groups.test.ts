/**
 * The store for groups (#12): a v7 store migrates to v8 with its history intact, and the
 * repository's group, receipt and read-receipt rows behave as the sync engine relies on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, schemaVersion } from '../../server/store/db';
import { MIGRATIONS } from '../../server/store/migrations';
import { Repository } from '../../server/store/repository';
import { openTempStore, type TempStore } from '../support/store';

let store: TempStore;
beforeEach(() => (store = openTempStore('sb-store-groups-')));
afterEach(() => store.close());

/** A store at user_version 7, as the code before groups left it, with a little history. */
function v7Store(path: string): void {
  const old = new Database(path);
  for (const sql of MIGRATIONS.slice(0, 7)) old.exec(sql);
  old.pragma('user_version = 7');
  const insert = old.prepare(
    `INSERT INTO messages (id, client_message_id, server_id, conversation, direction, sender, recipient, body, created_at, state, read)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run('in1', 'c1', 's1', 'bob', 'in', 'bob', 'alice', 'hello alice', '2026-01-01T00:00:01Z', 'received', 0);
  insert.run('in2', 'c2', 's2', 'bob', 'in', 'bob', 'alice', 'read already', '2026-01-01T00:00:02Z', 'received', 1);
  insert.run('out1', 'c3', 's3', 'bob', 'out', 'alice', 'bob', 'delivered one', '2026-01-01T00:00:03Z', 'delivered', 1);
  insert.run('out2', 'c4', 's4', 'carol', 'out', 'alice', 'carol', 'only sent', '2026-01-01T00:00:04Z', 'sent', 1);
  old.prepare("INSERT INTO outbox (client_message_id, id, fingerprint, state, verdict, server_id, created_at, updated_at) VALUES ('c4', 'out2', 'f', 'done', 'sent', 's4', 'now', 'now')").run();
  const event = old.prepare("INSERT INTO events (type, ref, created_at) VALUES ('message/received', ?, '2026-01-01T00:00:00Z')");
  for (const ref of ['in1', 'in2', 'e3', 'e4', 'e5']) event.run(ref);
  // Pruned through cursor 5: no event is left, but the next cursor must still be 6.
  old.prepare('DELETE FROM events').run();
  old.prepare("INSERT INTO sync_state (key, value) VALUES ('events_pruned_through', '5'), ('relay_cursor', '42')").run();
  old.close();
}

describe('migration 8 (groups, mentions, receipts)', () => {
  test('a v7 store keeps its messages, counters, outbox, cursor and event numbering; old messages read as direct ones', () => {
    const path = join(store.home, 'v7.db');
    v7Store(path);
    const db = openStore(path, store.home);
    try {
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      assert.ok(MIGRATIONS.length >= 8);
      const repo = new Repository(db);
      const in1 = repo.message('in1')!;
      assert.equal(in1.body, 'hello alice');
      assert.deepEqual([in1.group, in1.mentions, in1.mentions_me, in1.receipts], [null, [], true, null], 'an inbound direct message counts as a mention');
      assert.deepEqual(repo.message('out1')!.receipts, { total: 1, delivered: 1, read: 0 });
      assert.deepEqual(repo.message('out2')!.receipts, { total: 1, delivered: 0, read: 0 });
      assert.deepEqual(repo.receipts('out1'), [{ user: 'bob', delivered_at: '2026-01-01T00:00:03Z', read_at: null, dropped: null }]);
      assert.deepEqual(repo.receipts('out2'), [{ user: 'carol', delivered_at: null, read_at: null, dropped: null }]);
      const bob = repo.conversations().find((c) => c.peer === 'bob')!;
      assert.deepEqual([bob.kind, bob.unread, bob.unread_mentions, bob.total, bob.members], ['user', 1, 1, 3, null]);
      assert.equal(repo.getState('relay_cursor'), '42');
      assert.equal(repo.outboxById('out2')?.state, 'done');
      assert.equal(repo.inbox({ unread: false, mentions: true, limit: 10 }).length, 2);
      // The rebuilt events table keeps the AUTOINCREMENT high-water mark: no cursor is handed out twice.
      repo.addEvent('group/changed', 'g1', 'now');
      assert.equal(repo.lastCursor(), 6);
      assert.equal(db.prepare('SELECT max(cursor) AS c FROM events').get() && (db.prepare('SELECT max(cursor) AS c FROM events').get() as { c: number }).c, 6);
      // Reading marks the counters down, mentions with them.
      assert.equal(repo.markRead({ conversation: 'bob' }).changed, 1);
      const after = repo.conversations().find((c) => c.peer === 'bob')!;
      assert.deepEqual([after.unread, after.unread_mentions], [0, 0]);
    } finally {
      db.close();
    }
  });
});

describe('groups in the store', () => {
  const members = [
    { user: 'alice', role: 'owner' as const },
    { user: 'bob', role: 'member' as const },
  ];

  test('a rename moves the conversation, its messages and counters to #new; an older position changes nothing', () => {
    const { repo } = store;
    repo.saveGroup({ group_id: 'g1', name: 'team', pos: 1, members, me: 'bob' }, 'now');
    repo.insertMessage({
      id: 'm1', client_message_id: 'c1', server_id: 's1', conversation: '#team', direction: 'in', from: 'alice', to: '#team', body: 'hi @bob',
      reply_to: null, request_id: null, created_at: 'now', state: 'received', read: false, group_id: 'g1', mentions: ['bob'], mentions_me: true,
    });
    repo.saveGroup({ group_id: 'g1', name: 'crew', pos: 3, members, me: 'bob' }, 'now');
    const m = repo.message('m1')!;
    assert.deepEqual([m.conversation, m.to, m.group], ['#crew', '#crew', 'crew']);
    const conversations = repo.conversations();
    assert.deepEqual(conversations.map((c) => [c.peer, c.kind, c.unread, c.unread_mentions, c.total, c.members]), [['#crew', 'group', 1, 1, 1, 2]]);
    repo.saveGroup({ group_id: 'g1', name: 'team', pos: 2, members: [], me: 'bob' }, 'now');
    assert.equal(repo.group('g1')?.name, 'crew', 'an event older than what is known is passed over');
    assert.equal(repo.group('g1')?.role, 'member');
    repo.saveGroup({ group_id: 'g1', name: 'crew', pos: 4, members: [members[0]!], me: 'bob' }, 'now');
    assert.equal(repo.group('g1')?.role, null, 'removed: no role, the history stays');
    assert.equal(repo.conversationPage('#crew', 10).messages.length, 1);
  });

  test('receipts per recipient: counted once each, a read implies delivered, an unknown member is added', () => {
    const { repo } = store;
    repo.insertMessage({
      id: 'o1', client_message_id: 'c1', server_id: 's1', conversation: '#team', direction: 'out', from: 'alice', to: '#team', body: 'hi',
      reply_to: null, request_id: null, created_at: 'now', state: 'sent', read: true, group_id: 'g1', mentions: [], mentions_me: false, receipts_total: 2,
    });
    repo.addRecipients('o1', ['bob', 'carol']);
    assert.equal(repo.recordReceipt('o1', 'bob', 'delivered', 't1'), true);
    assert.equal(repo.recordReceipt('o1', 'bob', 'delivered', 't2'), false, 'a second delivered receipt changes nothing');
    assert.equal(repo.recordReceipt('o1', 'carol', 'read', 't3'), true);
    assert.deepEqual(repo.message('o1')!.receipts, { total: 2, delivered: 2, read: 1 });
    assert.equal(repo.recordReceipt('o1', 'dave', 'delivered', 't4'), true);
    assert.deepEqual(repo.message('o1')!.receipts, { total: 3, delivered: 3, read: 1 });
    assert.deepEqual(repo.receipts('o1'), [
      { user: 'bob', delivered_at: 't1', read_at: null, dropped: null },
      { user: 'carol', delivered_at: 't3', read_at: 't3', dropped: null },
      { user: 'dave', delivered_at: 't4', read_at: null, dropped: null },
    ]);
    assert.equal(repo.recordDropped('o1', 'bob', 'retention'), false, 'a recipient who has it is not dropped');
    assert.equal(repo.recordDropped('o1', 'erin', 'quota'), true, 'a member passed over');
    assert.equal(repo.recordDropped('o1', 'erin', 'retention'), false, 'once');
    assert.equal(repo.receipts('o1').find((r) => r.user === 'erin')?.dropped, 'quota');
    assert.equal(repo.droppedForAll('o1'), false, 'the others still stand');
  });

  test('read receipts are queued once per server id and leave the queue in order', () => {
    const { repo } = store;
    repo.queueReadReceipts(['s1', 's2', 's1']);
    repo.queueReadReceipts(['s3']);
    const due = repo.readReceiptsDue(2);
    assert.deepEqual(due.map((r) => r.server_id), ['s1', 's2']);
    repo.readReceiptsSent(due[1]!.seq);
    assert.deepEqual(repo.readReceiptsDue(10).map((r) => r.server_id), ['s3']);
  });
});
