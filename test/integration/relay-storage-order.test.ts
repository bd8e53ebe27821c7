/**
 * What the async storage interface (relay/storage/types.ts) must not change, against a real
 * relay on 127.0.0.1 with raw clients, on the storage the suites run on
 * (SWITCHBOARD_TEST_RELAY_STORAGE): one connection's frames still apply in the order they came,
 * however the storage interleaves its calls; and two connections racing on one
 * (sender, client_message_id) still get exactly one `accepted` and one `duplicate`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { RELAY_PROTOCOL_V5, type DeliverFrameV2, type GroupFrame, type GroupListFrame, type KeysFrame, type VerdictFrame } from '../../protocol/relay';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { RelayWorlds } from '../support/relay';

const worlds = new RelayWorlds();
const { world } = worlds;
afterEach(() => worlds.closeAll());
after(() => worlds.removeDirs());

const ROUNDS = 20;

test('one connection pipelining create, send, list and publish, get: each request sees every one before it', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await worlds.login(w, 'alice', 'alice-laptop', 0, RELAY_PROTOCOL_V5);
  const record = signDeviceRecord(generateIdentity(), 'alice', 'alice-laptop', Date.now());
  // Everything is written before any answer is read: the relay gets the frames back to back.
  for (let i = 0; i < ROUNDS; i++) {
    alice.send({ type: 'group_create', request_id: `c${i}`, group: `team${i}`, members: ['bob'] } satisfies GroupFrame);
    alice.sendMessage(`#team${i}`, `hello ${i}`, `m${i}`);
    alice.send({ type: 'group_list', request_id: `l${i}` } satisfies GroupListFrame);
  }
  alice.send({ type: 'keys_publish', request_id: 'k1', record } satisfies KeysFrame);
  alice.send({ type: 'keys_get', request_id: 'k2', user: 'alice' } satisfies KeysFrame);

  const created = await alice.take('group_verdict', ROUNDS);
  assert.deepEqual(
    created.map((v) => [v.request_id, v.result]),
    Array.from({ length: ROUNDS }, (_, i) => [`c${i}`, 'ok']),
  );
  const sent = await alice.take('verdict', ROUNDS);
  assert.deepEqual(
    sent.map((v) => [v.client_message_id, v.result]),
    Array.from({ length: ROUNDS }, (_, i) => [`m${i}`, 'accepted']),
    'a send right behind its group_create finds the group',
  );
  const lists = await alice.take('group_list_result', ROUNDS);
  for (const [i, list] of lists.entries()) {
    assert.equal(list.request_id, `l${i}`);
    assert.deepEqual(
      list.groups.map((g) => g.group).sort(),
      Array.from({ length: i + 1 }, (_, j) => `team${j}`).sort(),
      `list ${i} sees the ${i + 1} groups created before it on the connection, and none after`,
    );
  }
  const published = await alice.next('keys_result');
  assert.equal(published.request_id, 'k1');
  assert.equal(published.result, 'ok');
  const fetched = await alice.next('keys_result');
  assert.equal(fetched.request_id, 'k2');
  assert.deepEqual(fetched.result === 'ok' && fetched.records, [record], 'a lookup right behind a publish sees it');
});

test('two connections racing on the same client_message_ids: exactly one accepted and one duplicate each, delivered once', async () => {
  const w = await world(['alice', 'bob']);
  const laptop = await worlds.login(w, 'alice', 'alice-laptop', 0, RELAY_PROTOCOL_V5);
  const phone = await worlds.login(w, 'alice', 'alice-phone', 0, RELAY_PROTOCOL_V5);
  const ids = Array.from({ length: ROUNDS * 2 }, (_, i) => `race-${i}`);
  // The same message (same id, same content) from both devices, interleaved, with no wait between.
  for (const cmid of ids) {
    laptop.sendMessage('bob', `body of ${cmid}`, cmid, { id: `id-${cmid}` });
    phone.sendMessage('bob', `body of ${cmid}`, cmid, { id: `id-${cmid}` });
  }
  const verdicts = [...(await laptop.take('verdict', ids.length)), ...(await phone.take('verdict', ids.length))];
  const byId = new Map<string, VerdictFrame[]>();
  for (const verdict of verdicts) byId.set(verdict.client_message_id, [...(byId.get(verdict.client_message_id) ?? []), verdict]);
  for (const cmid of ids) {
    const pair = byId.get(cmid) ?? [];
    assert.deepEqual(pair.map((v) => v.result).sort(), ['accepted', 'duplicate'], `${cmid}: ${JSON.stringify(pair)}`);
    const accepted = pair.find((v) => v.result === 'accepted');
    const duplicate = pair.find((v) => v.result === 'duplicate');
    assert.equal(duplicate?.result === 'duplicate' && duplicate.server_id, accepted?.result === 'accepted' && accepted.server_id, 'the duplicate names the accepted message');
  }

  // A marker behind them all: once bob has it, every delivery before it is in (one sequence per recipient).
  laptop.sendMessage('bob', 'marker', 'marker');
  assert.equal((await laptop.next('verdict')).result, 'accepted');
  const bob = await worlds.login(w, 'bob', 'bob-laptop', 0, RELAY_PROTOCOL_V5);
  const received: string[] = [];
  while (!received.includes('marker')) {
    const frame: DeliverFrameV2 = await bob.next('deliver');
    if (frame.item.kind === 'message') received.push(frame.item.message.client_message_id);
  }
  assert.deepEqual(received.slice(0, -1).sort(), [...ids].sort(), 'each message reached bob exactly once');
});
