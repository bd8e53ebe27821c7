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
