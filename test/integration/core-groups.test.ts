/**
 * Groups end to end (#12, the core's side): one real relay process (kill -9'd and restarted
 * mid-stream), real cores (alice, bob, carol, dave, and alice's second device) each in its own
 * home, all on 127.0.0.1, driven over JSON-RPC. Fan-out exactly once, removal and late joining
 * at their commits, not_member, per-member receipts across the sender's kill -9, the second
 * device's whole thread, mentions, receipts off, renames, and the clear refusals.
 *
 * The tests share one relay and one set of cores and run in order: each leaves the group as
 * the next expects. Every wait is bounded; "nothing arrived" is proved by a marker sent after
 * it on the same path (a later delivery in the same sequence), never by sleeping.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes, PROTOCOL_VERSION, type Group, type GroupEvent, type Message } from '../../protocol/rpc';
import { DEFAULT_AUTO_DOWNLOAD_BYTES } from '../../protocol/files';
import { kill9, runOk } from '../support/cli';
import { CoreSides, type Side } from '../support/cores';
import { killAllRelays, TestRelay } from '../support/relay';
import { waitFor } from '../support/wait';
import { openDirect } from '../../server/direct';
import { SocketClient } from '../../server/cli/socket-client';
import { homePaths } from '../../lib/node/paths';

const relay = new TestRelay();
const cores = new CoreSides('groups', 'sb-g');
const { rpc, rpcError, start: startSide, stop: stopSide } = cores;

/** A home for `user` as device `name`: configured by the relay, or init'ed with `token` (a second device). */
async function makeSide(user: string, name = user, token?: string): Promise<Side> {
  return cores.make(user, name, async (home) => {
    if (token === undefined) await relay.configureHome(home, user);
    else await runOk(home, ['init', '--relay', relay.url, '--user', user, '--token', token]);
  });
}

async function thread(side: Side, peer: string): Promise<Message[]> {
  return (await rpc(side, 'conversation/messages', { peer, limit: 1000 })).messages;
}

/** Waits until `side`'s conversation `peer` holds a message that matches, and returns the whole thread. */
function waitThread(side: Side, peer: string, what: string, done: (messages: Message[]) => boolean, timeoutMs = 60_000): Promise<Message[]> {
  return waitFor(`${side.name}: ${peer} ${what}`, async () => {
    const messages = await thread(side, peer);
    return done(messages) ? messages : undefined;
  }, timeoutMs);
}

const bodies = (messages: Message[]) => messages.map((m) => m.body);
const hasBody = (body: string) => (messages: Message[]) => messages.some((m) => m.body === body);

async function send(side: Side, to: string, body: string) {
  const result = await rpc(side, 'message/send', { to, body, wait_ms: 10_000 });
  return result;
}

let alice: Side, bob: Side, carol: Side, dave: Side, alice2: Side;

before(async () => {
  await relay.start();
  alice = await makeSide('alice');
  bob = await makeSide('bob');
  carol = await makeSide('carol');
  dave = await makeSide('dave');
  // alice's second device: another home, the same user and token, its own device id.
  alice2 = await makeSide('alice', 'alice2', await readToken(alice));
  await Promise.all([alice, bob, carol, dave, alice2].map(startSide));
});

after(async () => {
  await cores.stopAll();
  await relay.dispose();
  await killAllRelays();
  cores.removeHomes();
});

/** The token `init` stored for a side (to give a second device of the same user). */
async function readToken(side: Side): Promise<string> {
  const { readToken: read } = await import('../../server/config');
  const token = read(homePaths(side.home));
  assert.ok(token, 'alice has a token');
  return token;
}

describe('groups through real cores and a real relay', () => {
  test('create over RPC, send to #team: every member gets each message exactly once, across a relay kill -9', async () => {
    const created = await rpc(alice, 'group/create', { name: 'team', members: ['bob', 'carol'] });
    assert.equal(created.name, 'team');
    assert.equal(created.role, 'owner');
    assert.deepEqual(created.members.map((m) => `${m.user}:${m.role}`), ['alice:owner', 'bob:member', 'carol:member']);
    // The members' cores learn the group from its membership event.
    for (const member of [bob, carol]) {
      await waitFor(`${member.name} knows #team`, async () => (await rpc(member, 'group/list', {})).groups.find((g) => g.name === 'team' && g.role === 'member'));
    }
    const first = await send(alice, '#team', 'fan-out 1');
    assert.equal(first.status, 'sent', first.reason ?? '');
    for (let i = 2; i <= 10; i++) await rpc(alice, 'message/send', { to: '#team', body: `fan-out ${i}` });
    await relay.kill9();
    for (let i = 11; i <= 20; i++) await rpc(alice, 'message/send', { to: '#team', body: `fan-out ${i}` });
    await relay.start();
    const expected = Array.from({ length: 20 }, (_, i) => `fan-out ${i + 1}`);
    for (const member of [bob, carol]) {
      const messages = await waitThread(member, '#team', 'has all 20', (ms) => ms.filter((m) => m.body.startsWith('fan-out')).length >= 20);
      const fanned = messages.filter((m) => m.body.startsWith('fan-out'));
      assert.deepEqual(bodies(fanned), expected, `${member.name} got each once, in order`);
      assert.equal(new Set(fanned.map((m) => m.id)).size, 20);
      for (const m of fanned) {
        assert.deepEqual([m.direction, m.from, m.conversation, m.to, m.group, m.state], ['in', 'alice', '#team', '#team', 'team', 'received']);
        assert.equal(m.mentions_me, false, 'a group message without @name is no mention');
      }
    }
    const mine = await waitThread(alice, '#team', 'delivered to both', (ms) => ms.filter((m) => m.receipts?.delivered === 2).length >= 20);
    assert.equal(mine.length, 20, 'the sender stores each once');
    assert.ok(mine.every((m) => m.direction === 'out' && m.receipts?.total === 2), JSON.stringify(mine.map((m) => m.receipts)));
    const list = await rpc(alice, 'conversation/list', {});
    const team = list.conversations.find((c) => c.peer === '#team');
    assert.deepEqual([team?.kind, team?.members], ['group', 3]);
  });

  test('mentions: only members are kept, the mentioned see it under --mentions, direct messages count', async () => {
    const sent = await send(alice, '#team', 'ping @Bob and @zed, and @carol.');
    assert.equal(sent.status, 'sent');
    const atBob = await waitThread(bob, '#team', 'has the mention', hasBody('ping @Bob and @zed, and @carol.'));
    const m = atBob.find((x) => x.body.startsWith('ping @Bob'))!;
    assert.deepEqual(m.mentions, ['bob', 'carol'], 'zed is no member: the relay drops the name');
    assert.equal(m.mentions_me, true);
    await send(carol, 'bob', 'a direct message is a mention');
    const mentions = await waitFor('bob: both mentions listed', async () => {
      const r = await rpc(bob, 'inbox/list', { mentions: true });
      return r.messages.length >= 2 ? r.messages : undefined;
    });
    assert.deepEqual(bodies(mentions), ['a direct message is a mention', 'ping @Bob and @zed, and @carol.']);
    const inTeam = await rpc(bob, 'inbox/list', { in: '#team', limit: 1 });
    assert.equal(inTeam.messages[0]?.body, 'ping @Bob and @zed, and @carol.');
    const conv = (await rpc(bob, 'conversation/list', {})).conversations.find((c) => c.peer === '#team')!;
    assert.equal(conv.unread_mentions, 1);
    assert.equal(conv.unread, 21);
  });

  test('per-member delivered and read receipts reach the sender and survive its core kill -9; with read receipts off none are sent', async () => {
    const sent = await send(alice, '#team', 'please read');
    assert.equal(sent.status, 'sent');
    await waitThread(bob, '#team', 'has it', hasBody('please read'));
    await waitThread(carol, '#team', 'has it', hasBody('please read'));
    assert.deepEqual(await rpc(carol, 'settings/set', { receipts_read: false }), { receipts_read: false, auto_download_bytes: DEFAULT_AUTO_DOWNLOAD_BYTES });
    // The sender's core is down while the receipts are made: they wait at the relay.
    await stopSide(alice);
    await rpc(carol, 'message/markRead', { conversation: '#team' });
    await rpc(bob, 'message/markRead', { conversation: '#team' });
    // After carol's mark-read, on her one link: any read receipt of hers would reach alice before this.
    await send(carol, 'alice', 'carol marked it read');
    await startSide(alice);
    await waitThread(alice, 'carol', 'has the marker', hasBody('carol marked it read'));
    const withReceipts = await waitThread(alice, '#team', 'read by bob', (ms) => ms.some((m) => m.body === 'please read' && m.receipts?.read === 1));
    const message = withReceipts.find((m) => m.body === 'please read')!;
    assert.deepEqual(message.receipts, { total: 2, delivered: 2, read: 1 });
    const receipts = await rpc(alice, 'message/receipts', { id: message.id });
    assert.deepEqual(receipts.receipts.map((r) => [r.user, r.delivered_at !== null, r.read_at !== null]), [
      ['bob', true, true],
      ['carol', true, false],
    ]);
    // And they were committed: the sender's core killed again keeps them.
    await stopSide(alice);
    await startSide(alice);
    assert.deepEqual((await rpc(alice, 'message/get', { id: message.id })).receipts, { total: 2, delivered: 2, read: 1 });
    // The setting survives a restart.
    await stopSide(carol);
    await startSide(carol);
    assert.deepEqual(await rpc(carol, 'settings/get', {}), { receipts_read: false, auto_download_bytes: DEFAULT_AUTO_DOWNLOAD_BYTES });
  });

  test("read receipts made while the reader is offline survive its core's kill -9 and go out on its next link", async () => {
    const sent = await send(alice, '#team', 'read me while the relay is down');
    assert.equal(sent.status, 'sent');
    const got = (await waitThread(bob, '#team', 'has it', hasBody('read me while the relay is down'))).find((m) => m.body === 'read me while the relay is down')!;
    await relay.kill9();
    await waitFor('bob offline', async () => ((await rpc(bob, 'status/get', {})).sync.state !== 'online' ? true : undefined));
    assert.equal((await rpc(bob, 'message/markRead', { ids: [got.id] })).updated, 1);
    await stopSide(bob);
    await relay.start();
    await startSide(bob);
    // Carol's delivery receipt may come after bob's read one (her ack too can wait for the relay's return): wait for both.
    const seen = await waitThread(alice, '#team', 'read by bob, delivered to both', (ms) => ms.some((m) => m.id === sent.id && m.receipts?.read === 1 && m.receipts.delivered === 2));
    assert.deepEqual(seen.find((m) => m.id === sent.id)!.receipts, { total: 2, delivered: 2, read: 1 });
    await waitFor('alice online again', async () => ((await rpc(alice, 'status/get', {})).sync.state === 'online' ? true : undefined));
    await waitFor('carol online again', async () => ((await rpc(carol, 'status/get', {})).sync.state === 'online' ? true : undefined));
  });

  test("a user's second device sees the thread whole, including what the first device sent, exactly once", async () => {
    // alice2 came after the membership events: it learns its groups from the relay's list.
    const groups = await rpc(alice2, 'group/list', {});
    const team = groups.groups.find((g) => g.name === 'team');
    assert.ok(team, JSON.stringify(groups));
    assert.deepEqual(team.members.map((m) => m.user), ['alice', 'bob', 'carol']);
    await send(alice, '#team', 'from device one');
    await send(alice, 'bob', 'direct from device one');
    const onTwo = await waitThread(alice2, '#team', 'has device one\'s message', hasBody('from device one'));
    const copy = onTwo.filter((m) => m.body === 'from device one');
    assert.equal(copy.length, 1);
    assert.deepEqual([copy[0]!.direction, copy[0]!.from, copy[0]!.group], ['out', 'alice', 'team']);
    // Sent, or already delivered: the members' receipts reach every device of the sender.
    assert.ok(['sent', 'delivered'].includes(copy[0]!.state), copy[0]!.state);
    const direct = await waitThread(alice2, 'bob', 'has the direct one', hasBody('direct from device one'));
    assert.equal(direct.filter((m) => m.body === 'direct from device one' && m.direction === 'out').length, 1);
    const fromTwo = await send(alice2, '#team', 'from device two');
    assert.equal(fromTwo.status, 'sent');
    const onOne = await waitThread(alice, '#team', 'has device two\'s message', hasBody('from device two'));
    assert.equal(onOne.filter((m) => m.body === 'from device two').length, 1);
    assert.equal(onOne.filter((m) => m.body === 'from device one').length, 1, 'no copy of its own message comes back to the sending device');
    await waitThread(bob, '#team', 'has device two\'s message', hasBody('from device two'));
  });

  test('a device whose store starts afresh (the relay resumes past the membership events) learns its groups from the relay', async () => {
    await stopSide(alice2);
    const store = homePaths(alice2.home).store;
    for (const suffix of ['', '-wal', '-shm']) rmSync(store + suffix, { force: true });
    await startSide(alice2);
    assert.deepEqual((await rpc(alice2, 'conversation/list', {})).conversations, [], 'a fresh store: nothing was sent again');
    const groups = await rpc(alice2, 'group/list', {});
    const team = groups.groups.find((g) => g.name === 'team');
    assert.ok(team, JSON.stringify(groups));
    assert.deepEqual([team.role, team.members.map((m) => m.user)], ['owner', ['alice', 'bob', 'carol']]);
  });

  test('a member removed mid-stream receives nothing sent after the removal; a late joiner nothing from before; a non-member is refused', async () => {
    await send(alice, '#team', 'before the removal');
    const removed = await rpc(alice, 'group/remove', { name: 'team', users: ['carol'] });
    assert.deepEqual(removed.members.map((m) => m.user), ['alice', 'bob']);
    await send(alice, '#team', 'after the removal');
    const added = await rpc(alice, 'group/add', { name: 'team', users: ['dave'] });
    assert.deepEqual(added.members.map((m) => m.user), ['alice', 'bob', 'dave']);
    await send(alice, '#team', 'after dave joined');
    // Markers on the same sequences, sent after: when they are there, anything before them is too.
    await send(alice, 'carol', 'marker for carol');
    await waitThread(carol, 'alice', 'has the marker', hasBody('marker for carol'));
    const carolTeam = await thread(carol, '#team');
    assert.ok(carolTeam.some((m) => m.body === 'before the removal'));
    assert.ok(!carolTeam.some((m) => m.body === 'after the removal' || m.body === 'after dave joined'), bodies(carolTeam).join(' | '));
    assert.equal((await rpc(carol, 'group/show', { name: 'team' })).role, null, 'carol knows she is out');
    const daveTeam = await waitThread(dave, '#team', 'has the message after joining', hasBody('after dave joined'));
    assert.deepEqual(bodies(daveTeam), ['after dave joined'], 'nothing from before the join');
    const refused = await send(carol, '#team', 'let me back in');
    assert.equal(refused.status, 'failed');
    assert.equal(refused.reason_code, 'rejected');
    assert.match(refused.reason ?? '', /not a member of #team/);
  });

  test('a rename moves the conversation on every member, and each core tells its subscribers group/changed', async () => {
    const listener = await SocketClient.connect(homePaths(bob.home).socket);
    const changes: Group[] = [];
    listener.onNotification((name, params) => {
      if (name === 'group/changed') changes.push((params as GroupEvent).group);
    });
    try {
      await listener.call('initialize', { client: { name: 'groups-events', version: '1' }, protocol: PROTOCOL_VERSION });
      await listener.call('events/subscribe', {});
      const renamed = await rpc(alice, 'group/rename', { name: 'team', new_name: 'crew' });
      assert.equal(renamed.name, 'crew');
      const change = await waitFor('bob: group/changed for the rename', () => changes.find((g) => g.name === 'crew'));
      assert.deepEqual([change.group_id, change.role, change.members.length], [renamed.group_id, 'member', 3]);
    } finally {
      listener.close();
    }
    const moved = await waitThread(bob, '#crew', 'has the history', (ms) => ms.some((m) => m.body === 'fan-out 1'));
    assert.ok(moved.every((m) => m.conversation === '#crew' && m.group === 'crew'));
    assert.deepEqual(await thread(bob, '#team'), []);
    const sent = await send(bob, '#crew', 'under the new name');
    assert.equal(sent.status, 'sent');
    await waitThread(alice, '#crew', 'has it', hasBody('under the new name'));
  });

  test('clear refusals through RPC: bad name, unknown member, removing the last owner, renaming onto an existing name', async () => {
    const bad = await rpcError(alice, 'group/create', { name: 'no spaces!' });
    assert.equal(bad.code, ErrorCodes.InvalidParams);
    assert.match(bad.message, /a group name may contain only letters/);
    const unknown = await rpcError(alice, 'group/add', { name: 'crew', users: ['nobody'] });
    assert.equal(unknown.code, ErrorCodes.GroupRefused);
    assert.deepEqual(unknown.data, { kind: 'group_refused', code: 'unknown_user', retryable: false });
    assert.match(unknown.message, /nobody/);
    const lastOwner = await rpcError(alice, 'group/leave', { name: 'crew' });
    assert.equal(lastOwner.code, ErrorCodes.GroupRefused);
    assert.equal(lastOwner.data?.code, 'last_owner');
    assert.match(lastOwner.message, /hand ownership over first: switchboard group role crew <user> owner/);
    await rpc(bob, 'group/create', { name: 'other' });
    const exists = await rpcError(alice, 'group/rename', { name: 'crew', new_name: 'other' });
    assert.equal(exists.code, ErrorCodes.GroupRefused);
    assert.equal(exists.data?.code, 'group_exists');
    const forbidden = await rpcError(dave, 'group/remove', { name: 'crew', users: ['bob'] });
    assert.equal(forbidden.data?.code, 'forbidden');
    assert.match(forbidden.message, /ask an owner or admin/);
  });

  test("the CLI's direct mode (no core running) serves the group methods through its own link", async () => {
    await stopSide(dave);
    const opened = await openDirect(homePaths(dave.home), { sync: true });
    assert.ok(opened.ok);
    try {
      const shown = await opened.core.call('group/show', { name: '#crew' });
      assert.deepEqual(shown.members.map((m) => m.user), ['alice', 'bob', 'dave']);
      const left = await opened.core.call('group/leave', { name: 'crew' });
      assert.equal(left.role, null);
      assert.deepEqual(left.members.map((m) => m.user), ['alice', 'bob']);
      const listed = await opened.core.call('group/list', {});
      assert.deepEqual(listed.groups.find((g) => g.group_id === left.group_id)?.role, null);
    } finally {
      await opened.core.close();
    }
    const seen = await waitFor('alice sees dave leave', async () => {
      const g = await rpc(alice, 'group/show', { name: 'crew' });
      return g.members.length === 2 ? g : undefined;
    });
    assert.deepEqual(seen.members.map((m) => m.user), ['alice', 'bob']);
  });
});
