/**
 * The core's store: search finds text written without spaces (trigram index, LIKE for one or
 * two characters), and a store written before names became case-insensitive is folded to one
 * spelling per name (migrations 5 and 6 on a real SQLite file).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, schemaVersion, type Db } from '../../server/store/db';
import { MIGRATIONS } from '../../server/store/migrations';
import { Repository, type NewMessage } from '../../server/store/repository';
import { planSearch, SHORT_TERM_WINDOW } from '../../server/store/search-query';
import { tempHome } from '../support/cli';
import { directStoreFields } from '../support/messages';

let home: ReturnType<typeof tempHome>;

beforeEach(() => {
  home = tempHome('sb-search-');
});

afterEach(() => {
  home.cleanup();
});

let counter = 0;
function message(body: string, peer = 'bob', direction: 'in' | 'out' = 'in'): NewMessage {
  counter++;
  return {
    id: `m${counter}`,
    client_message_id: `c${counter}`,
    server_id: direction === 'in' ? `s${counter}` : null,
    conversation: peer,
    direction,
    from: direction === 'in' ? peer : 'me',
    to: direction === 'in' ? 'me' : peer,
    body,
    reply_to: null,
    request_id: null,
    created_at: new Date(1_700_000_000_000 + counter * 1000).toISOString(),
    state: direction === 'in' ? 'received' : 'queued',
    read: false,
    ...directStoreFields(direction),
  };
}

function search(repo: Repository, query: string, limit = 50): string[] {
  return repo.search(planSearch(query)!, limit).map((m) => m.body);
}

describe('search', () => {
  let db: Db;
  let repo: Repository;
  beforeEach(() => {
    db = openStore(join(home.home, 'store.db'), home.home);
    repo = new Repository(db);
    for (const body of ['日本語テキスト', 'hello world', 'mixed 日本語 and words', 'ไทยภาษาไทย', '한국어를 배워요', 'snake_case 100%', 'Hello again']) repo.insertMessage(message(body));
    repo.indexForSearch();
  });
  afterEach(() => db.close());

  test('a term of three or more characters written without spaces is found inside longer text', () => {
    assert.deepEqual(search(repo, '日本語'), ['mixed 日本語 and words', '日本語テキスト']);
    assert.deepEqual(search(repo, 'テキスト'), ['日本語テキスト']);
    assert.deepEqual(search(repo, 'ภาษา'), ['ไทยภาษาไทย']);
    assert.deepEqual(search(repo, '한국어'), ['한국어를 배워요']);
  });

  test('one- and two-character terms written without spaces are found too', () => {
    assert.deepEqual(search(repo, '日本'), ['mixed 日本語 and words', '日本語テキスト']);
    assert.deepEqual(search(repo, '本'), ['mixed 日本語 and words', '日本語テキスト']);
    assert.deepEqual(search(repo, '語日'), []);
  });

  test('words still match whole words, in any case, and terms combine with AND', () => {
    assert.deepEqual(search(repo, 'HELLO'), ['Hello again', 'hello world']);
    assert.deepEqual(search(repo, 'hell'), [], 'a spaced word is not matched as a substring');
    assert.deepEqual(search(repo, 'words 日本語'), ['mixed 日本語 and words']);
    assert.deepEqual(search(repo, 'words 日本'), ['mixed 日本語 and words']);
    assert.deepEqual(search(repo, 'hello 日本語'), []);
  });

  test('LIKE and FTS syntax in a query are text, not operators', () => {
    assert.deepEqual(search(repo, '%'), []);
    assert.deepEqual(search(repo, '_'), []);
    assert.deepEqual(search(repo, '100%'), ['snake_case 100%']);
    assert.deepEqual(search(repo, '"日本語" OR'), []);
  });

  test('only bodies in those scripts go into the trigram index', () => {
    const rows = db.prepare("SELECT count(*) AS n FROM messages_trigram WHERE messages_trigram MATCH '\"ell\"'").get() as { n: number };
    assert.equal(rows.n, 0);
    assert.equal(search(repo, '日本語テキスト').length, 1);
  });

  test('a short term looks only at messages in those scripts, so spaced text does not push older hits out', () => {
    const insertMany = db.transaction(() => {
      for (let i = 0; i < 3000; i++) repo.insertMessage(message(`filler ${i}`));
    });
    insertMany();
    repo.indexForSearch();
    assert.ok(SHORT_TERM_WINDOW < 1_000_000);
    assert.deepEqual(search(repo, '日本'), ['mixed 日本語 and words', '日本語テキスト']);
    assert.deepEqual(search(repo, '日本', 1), ['mixed 日本語 and words']);
  });

  test('deleting an indexed message removes it from the trigram index', () => {
    db.prepare("DELETE FROM messages WHERE body = '日本語テキスト'").run();
    assert.deepEqual(search(repo, '日本語'), ['mixed 日本語 and words']);
    db.exec("INSERT INTO messages_trigram (messages_trigram) VALUES ('integrity-check')");
  });
});

/** A store at schema 4, as the last release wrote it. */
function oldStore(path: string): Database.Database {
  const old = new Database(path);
  for (const sql of MIGRATIONS.slice(0, 4)) old.exec(sql);
  old.pragma('user_version = 4');
  return old;
}

describe('migrations 5 and 6 on a store of the last release', () => {
  test('the trigram index is built for messages already indexed, and new ones join both indexes', () => {
    const path = join(home.home, 'store.db');
    const old = oldStore(path);
    // Written and indexed as the last release did (its Repository knew no trigram index).
    old.prepare('INSERT INTO messages (id, client_message_id, conversation, direction, sender, recipient, body, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run('a', 'ca', 'bob', 'in', 'bob', 'me', '日本語テキスト', '2026-01-01T00:00:00Z', 'received');
    old.prepare('INSERT INTO messages (id, client_message_id, conversation, direction, sender, recipient, body, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run('b', 'cb', 'bob', 'in', 'bob', 'me', 'plain words', '2026-01-01T00:00:01Z', 'received');
    old.exec("INSERT INTO messages_fts (rowid, body) SELECT seq, body FROM messages; INSERT INTO sync_state (key, value) VALUES ('fts_seq', '2')");
    old.close();

    const db = openStore(path, home.home);
    try {
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      const repo = new Repository(db);
      assert.deepEqual(search(repo, '日本語'), ['日本語テキスト']);
      repo.insertMessage(message('中文的句子'));
      repo.indexForSearch();
      assert.deepEqual(search(repo, '的句子'), ['中文的句子']);
      assert.deepEqual(search(repo, 'plain'), ['plain words']);
    } finally {
      db.close();
    }
  });

  test('names are folded to lower case; conversations and peers differing only in case become one', () => {
    const path = join(home.home, 'store.db');
    const old = oldStore(path);
    const insert = old.prepare(
      'INSERT INTO messages (id, client_message_id, conversation, direction, sender, recipient, body, created_at, state, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run('a', 'ca', 'Bob', 'in', 'Bob', 'Me', 'one', '2026-01-01T00:00:00Z', 'received', 0);
    insert.run('b', 'cb', 'bob', 'in', 'bob', 'me', 'two', '2026-01-01T00:00:01Z', 'received', 0);
    insert.run('c', 'cc', 'BOB', 'out', 'Me', 'BOB', 'three', '2026-01-01T00:00:02Z', 'sent', 1);
    insert.run('d', 'cd', 'carol', 'in', 'carol', 'me', 'four', '2026-01-01T00:00:03Z', 'received', 1);
    old.exec(`INSERT INTO peers (name, first_seen_at, last_seen_at) VALUES
      ('Bob', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'), ('bob', '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z'),
      ('BOB', '2026-01-01T00:00:02Z', '2026-01-01T00:00:02Z'), ('carol', '2026-01-01T00:00:03Z', '2026-01-01T00:00:03Z')`);
    old.close();

    const db = openStore(path, home.home);
    try {
      const repo = new Repository(db);
      const conversations = repo.conversations().map((c) => ({ peer: c.peer, unread: c.unread, total: c.total, last: c.last?.body }));
      assert.deepEqual(conversations, [
        { peer: 'carol', unread: 0, total: 1, last: 'four' },
        { peer: 'bob', unread: 2, total: 3, last: 'three' },
      ]);
      assert.deepEqual(
        repo.peers().map((p) => [p.name, p.messages, p.unread]),
        [
          ['carol', 1, 0],
          ['bob', 3, 2],
        ],
      );
      assert.deepEqual(repo.inbox({ unread: false, from: 'bob', limit: 10 }).map((m) => [m.from, m.to, m.body]), [
        ['bob', 'me', 'two'],
        ['bob', 'me', 'one'],
      ]);
      assert.equal(repo.message('c')!.to, 'bob');
      assert.equal(repo.unreadTotal(), 2);
    } finally {
      db.close();
    }
  });
});
