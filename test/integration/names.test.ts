/**
 * One user-name rule, case-insensitive, against a real relay and real cores: `add-user`
 * refuses what `init` and `send` would refuse, `Bob` and `bob` are one account end to end,
 * and a relay database from before the rule folds its names without merging accounts that
 * differed only in case.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { USER_NAME_RULE } from '../../protocol/names';
import { MIGRATIONS as RELAY_MIGRATIONS } from '../../relay/migrations';
import { generateToken, hashToken } from '../../relay/tokens';
import { prepareDataDir } from '../../relay/data-dir';
import { run, runOk, startCore, tempHome } from '../support/cli';
import { killAllRelays, RawRelayClient, runRelay, TestRelay, publishHomeKeys } from '../support/relay';
import { waitFor } from '../support/wait';
import { loadConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';

after(() => killAllRelays());

interface Listed {
  messages: { from: string; to: string; body: string; conversation: string }[];
}

async function inboxJson(home: string, args: string[] = []): Promise<Listed> {
  return JSON.parse(await runOk(home, ['inbox', '--json', ...args])) as Listed;
}

describe('relay add-user follows the one name rule', () => {
  it('refuses a name init and send would refuse, with the rule in the message', async () => {
    const relay = new TestRelay();
    try {
      const r = await runRelay(['add-user', 'alice@example.com', '--data', relay.dataDir]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes('invalid user name "alice@example.com"'), r.stderr);
      assert.ok(r.stderr.includes(USER_NAME_RULE), r.stderr);
      assert.equal(r.stdout, '', 'no token is issued');
      const { home, cleanup } = tempHome();
      try {
        const init = await run(home, ['init', '--relay', 'ws://127.0.0.1:1', '--user', 'alice@example.com', '--token', 't']);
        assert.equal(init.code, 2);
        assert.ok(init.stderr.includes(USER_NAME_RULE), init.stderr);
      } finally {
        cleanup();
      }
    } finally {
      await relay.dispose();
    }
  });

  it('creates the account in lower case and refuses another spelling of it', async () => {
    const relay = new TestRelay();
    try {
      const first = await runRelay(['add-user', 'Bob', '--data', relay.dataDir, '--json']);
      assert.equal(first.code, 0, first.stderr);
      assert.equal((JSON.parse(first.stdout) as { user: string }).user, 'bob');
      const again = await runRelay(['add-user', 'BOB', '--data', relay.dataDir]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /user "bob" already has an active token \("BOB" is the same account: names are case-insensitive\)/);
    } finally {
      await relay.dispose();
    }
  });
});

describe('Bob and bob are one account', () => {
  it('init, send, the relay and inbox --from all fold case', async () => {
    const relay = new TestRelay();
    const alice = tempHome('sb-alice-');
    const bob = tempHome('sb-bob-');
    try {
      await relay.start();
      const aliceToken = (JSON.parse((await runRelay(['add-user', 'alice', '--data', relay.dataDir, '--json'])).stdout) as { token: string }).token;
      const bobToken = (JSON.parse((await runRelay(['add-user', 'Bob', '--data', relay.dataDir, '--json'])).stdout) as { token: string }).token;
      // Each logs in under another spelling of its name.
      assert.equal((await runOk(alice.home, ['init', '--relay', relay.url, '--user', 'ALICE', '--token', aliceToken])).trim(), `configured alice on ${relay.url} in ${alice.home}\nconnected as alice to ${relay.url}`);
      await runOk(bob.home, ['init', '--relay', relay.url, '--user', 'bob', '--token', bobToken]);
      // Bob's device keys, as his core publishes them on its first connect (sends go only to published keys).
      await publishHomeKeys(relay.url, 'bob', bobToken, bob.home, loadConfig(homePaths(bob.home)).config.device);
      const sent = JSON.parse(await runOk(alice.home, ['send', '--to', 'BoB', '-m', 'hi bob', '--json'])) as { status: string; to: string };
      assert.deepEqual([sent.status, sent.to], ['sent', 'bob']);
      const core = await startCore(bob.home);
      try {
        const got = await waitFor('bob to receive the message', async () => {
          const list = await inboxJson(bob.home, ['--from', 'Alice']);
          return list.messages.length > 0 ? list : undefined;
        });
        assert.deepEqual(got.messages.map((m) => [m.from, m.to, m.conversation, m.body]), [['alice', 'bob', 'alice', 'hi bob']]);
      } finally {
        core.kill('SIGKILL');
      }
    } finally {
      alice.cleanup();
      bob.cleanup();
      await relay.dispose();
    }
  });
});

describe('the relay folds the names in hello and send frames', () => {
  it('a hello as BOB logs in to bob, and mail to Bob reaches him', async () => {
    const relay = new TestRelay();
    try {
      await relay.start();
      const aliceToken = await relay.addUser('alice');
      const bobToken = await relay.addUser('bob');
      const bob = await RawRelayClient.login(relay.url, 'BOB', bobToken, 'bob-device');
      const alice = await RawRelayClient.login(relay.url, 'Alice', aliceToken, 'alice-device');
      try {
        alice.sendMessage('Bob', 'case does not matter', 'c1');
        const verdict = await alice.next('verdict');
        assert.equal(verdict.result, 'accepted', JSON.stringify(verdict));
        const delivery = await bob.next('deliver');
        const item = delivery.item;
        assert.equal(item.kind, 'message');
        if (item.kind === 'message') assert.deepEqual([item.message.from, item.message.to, item.message.body], ['alice', 'bob', 'case does not matter']);
      } finally {
        await alice.closeAndWait();
        await bob.closeAndWait();
      }
    } finally {
      await relay.dispose();
    }
  });
});

describe('a relay database from before names were case-insensitive', () => {
  /** Writes users as the last release did (schema 3), case as given. */
  function oldRelayDb(dataDir: string, users: string[]): Map<string, string> {
    const db = new Database(prepareDataDir(dataDir));
    for (const sql of RELAY_MIGRATIONS.slice(0, 3)) db.exec(sql);
    db.pragma('user_version = 3');
    const tokens = new Map<string, string>();
    const insert = db.prepare("INSERT INTO users (name, token_hash, salt, hash_kind, created_at) VALUES (?, ?, ?, 'sha256', '2026-01-01T00:00:00Z')");
    for (const name of users) {
      const token = generateToken();
      const hash = hashToken(token);
      insert.run(name, hash.hash, hash.salt);
      tokens.set(name, token);
    }
    // Carol has mail waiting from Erin, both stored under their old spellings.
    db.prepare('INSERT INTO sequences (user, last_seq) VALUES (?, 1)').run('Carol');
    const item = JSON.stringify({ kind: 'message', server_id: 's1', message: { id: 'm1', client_message_id: 'c1', from: 'Erin', to: 'Carol', body: 'waiting for you', reply_to: null, request_id: null, created_at: '2026-01-01T00:00:00Z' } });
    db.prepare('INSERT INTO deliveries (user, seq, item, created_at) VALUES (?, 1, ?, 0)').run('Carol', item);
    db.prepare('INSERT INTO undelivered (user, messages, bytes) VALUES (?, 1, ?)').run('Carol', Buffer.byteLength(item));
    db.close();
    return tokens;
  }

  it('folds names with one spelling, leaves accounts differing only in case apart, and says so at startup', async () => {
    const relay = new TestRelay();
    const carol = tempHome('sb-carol-');
    const dave = tempHome('sb-dave-');
    const daveUpper = tempHome('sb-Dave-');
    try {
      const tokens = oldRelayDb(relay.dataDir, ['Carol', 'Erin', 'Dave', 'dave']);
      const proc = await relay.start();
      await waitFor('the startup report', () => (proc.stderr().includes('user "Dave" differs') ? true : undefined), 10_000);
      assert.match(proc.stderr(), /user "Dave" differs from another account only in case \(also stored: "dave"\); names are case-insensitive, so "Dave" cannot log in and nothing of it was merged: run "relay revoke Dave"/);
      assert.doesNotMatch(proc.stderr(), /"Carol" differs|"Erin" differs/);

      // Carol's account and the mail held for her were folded: she logs in as carol and gets it, from erin.
      await runOk(carol.home, ['init', '--relay', relay.url, '--user', 'carol', '--token', tokens.get('Carol')!]);
      const core = await startCore(carol.home);
      try {
        const got = await waitFor('carol to receive the held message', async () => {
          const list = await inboxJson(carol.home);
          return list.messages.length > 0 ? list : undefined;
        });
        assert.deepEqual(got.messages.map((m) => [m.from, m.to, m.body]), [['erin', 'carol', 'waiting for you']]);
      } finally {
        core.kill('SIGKILL');
      }

      // dave keeps working with his own token; Dave's token opens neither account.
      await runOk(dave.home, ['init', '--relay', relay.url, '--user', 'dave', '--token', tokens.get('dave')!]);
      const daveSent = JSON.parse(await runOk(dave.home, ['send', '--to', 'carol', '-m', 'from dave', '--json'])) as { status: string };
      assert.equal(daveSent.status, 'sent');
      // init's own hello already says so: the settings are saved, and refused.
      const init = await run(daveUpper.home, ['init', '--relay', relay.url, '--user', 'Dave', '--token', tokens.get('Dave')!]);
      assert.equal(init.code, 1);
      assert.match(init.stderr, /refused the token for dave/);
      const refused = await run(daveUpper.home, ['send', '--to', 'carol', '-m', 'from Dave', '--json', '--wait', '5']);
      assert.notEqual(JSON.parse(refused.stdout).status, 'sent', 'the token of "Dave" does not log in to "dave"');

      // The exact spelling revokes the account left apart, not the canonical one.
      const revoked = await runRelay(['revoke', 'Dave', '--data', relay.dataDir]);
      assert.equal(revoked.code, 0, revoked.stderr);
      const stillSends = JSON.parse(await runOk(dave.home, ['send', '--to', 'carol', '-m', 'still here', '--json'])) as { status: string };
      assert.equal(stillSends.status, 'sent');
      const restarted = await relay.restart();
      assert.doesNotMatch(restarted.stderr(), /differs from another account/);
    } finally {
      carol.cleanup();
      dave.cleanup();
      daveUpper.cleanup();
      await relay.dispose();
    }
  });

  it('a revoke by another spelling revokes the one account', async () => {
    const relay = new TestRelay();
    try {
      await relay.addUser('frank');
      const r = await runRelay(['revoke', 'FRANK', '--data', relay.dataDir]);
      assert.equal(r.code, 0, r.stderr);
      const db = new Database(join(relay.dataDir, 'relay.db'), { readonly: true });
      try {
        assert.deepEqual(db.prepare('SELECT name, revoked_at IS NOT NULL AS revoked FROM users').all(), [{ name: 'frank', revoked: 1 }]);
      } finally {
        db.close();
      }
    } finally {
      await relay.dispose();
    }
  });
});
