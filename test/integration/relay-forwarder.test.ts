/** The storage-free bench baseline still speaks the protocol: hello by name, send → verdict + deliver. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startForwarder } from '../../bench/forwarder';
import { RawRelayClient } from '../support/relay';

test('forwarder: accepts any hello, forwards sends to the named user, answers pings', async () => {
  const forwarder = await startForwarder();
  try {
    assert.match(forwarder.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const alice = await RawRelayClient.login(forwarder.url, 'alice', 'ignored', 'a');
    const bob = await RawRelayClient.login(forwarder.url, 'bob', 'ignored', 'b');
    alice.sendMessage('bob', 'through', 'f-1');
    alice.sendMessage('bob', 'again', 'f-2');
    const verdicts = await alice.take('verdict', 2);
    assert.deepEqual(verdicts.map((v) => v.result === 'accepted' && v.seq), [1, 2]);
    const delivered = await bob.take('deliver', 2);
    assert.deepEqual(delivered.map((d) => d.item.kind === 'message' && `${d.item.message.from}:${d.item.message.body}`), ['alice:through', 'alice:again']);
    bob.send({ type: 'ping', t: 9 });
    assert.equal((await bob.next('pong')).t, 9);
    await Promise.all([alice.closeAndWait(), bob.closeAndWait()]);
  } finally {
    await forwarder.close();
  }
});

test('forwarder: a group (protocol v2) fans a send out to every other member, each with its own seq', async () => {
  const forwarder = await startForwarder();
  try {
    const [ann, bob, cat, dan] = await Promise.all(['ann', 'bob', 'cat', 'dan'].map((user) => RawRelayClient.login(forwarder.url, user, 'ignored', user, 0, 2)));
    // bob's sequence starts one ahead, so a shared seq would show.
    ann!.sendMessage('bob', 'direct first', 'd-1');
    assert.equal((await bob!.next('deliver')).seq, 1);
    ann!.send({ type: 'group_create', request_id: 'r1', group: 'team', members: ['bob', 'cat'] });
    const verdict = await ann!.next('group_verdict');
    assert.ok(verdict.result === 'ok');
    assert.deepEqual(verdict.members, [{ user: 'ann', role: 'owner' }, { user: 'bob', role: 'member' }, { user: 'cat', role: 'member' }]);
    for (const member of [ann!, bob!, cat!]) assert.equal((await member.next('deliver')).item.kind, 'group');
    ann!.sendMessage('#team', 'to the room', 'g-1');
    assert.equal((await ann!.take('verdict', 2)).at(-1)!.result, 'accepted');
    const [toBob, toCat] = await Promise.all([bob!.next('deliver'), cat!.next('deliver')]);
    assert.deepEqual([toBob.seq, toCat.seq], [3, 2]);
    for (const { item } of [toBob, toCat]) {
      assert.ok(item.kind === 'message');
      assert.deepEqual([item.message.from, item.message.to, item.message.body, item.group_id], ['ann', '#team', 'to the room', verdict.group_id]);
    }
    assert.equal(await ann!.quietFor('deliver', 200), true, 'the sender is not sent its own message');
    dan!.sendMessage('#team', 'let me in', 'x-1');
    const refused = await dan!.next('verdict');
    assert.ok(refused.result === 'rejected' && refused.code === 'not_member');
    assert.equal(await dan!.quietFor('deliver', 100), true);
    await Promise.all([ann!, bob!, cat!, dan!].map((c) => c.closeAndWait()));
  } finally {
    await forwarder.close();
  }
});
