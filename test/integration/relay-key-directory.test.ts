/**
 * The relay's key directory (protocol v5), against a real relay on 127.0.0.1 with raw
 * frame-level clients: a device publishes its signed record and any user fetches it; a record of
 * another user or device, or one whose signature does not verify, is refused; a device replaces
 * its own record; the per-user bound; key frames on a v4 connection are protocol errors.
 */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { MAX_DEVICES_PER_USER } from '../../protocol/e2e';
import { RELAY_PROTOCOL_V4, RELAY_PROTOCOL_V5, type KeysFrame, type KeysResultFrame } from '../../protocol/relay';
import { toB64 } from '../../lib/node/e2e/bytes';
import { signDeviceRecord, verifyDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { RelayStore } from '../../relay/store';
import { KeyDirectory } from '../../relay/key-directory';
import { RawRelayClient, RelayWorlds, type RelayWorld } from '../support/relay';

const worlds = new RelayWorlds();
const { world } = worlds;
afterEach(() => worlds.closeAll());
after(() => worlds.removeDirs());

function login(w: RelayWorld, user: string, device = `${user}-laptop`, version = RELAY_PROTOCOL_V5): Promise<RawRelayClient> {
  return worlds.login(w, user, device, 0, version);
}

let requests = 0;
type KeysRequest = KeysFrame extends infer F ? (F extends KeysFrame ? Omit<F, 'request_id'> : never) : never;
async function keys(client: RawRelayClient, frame: KeysRequest): Promise<KeysResultFrame> {
  const request_id = `k${++requests}`;
  client.send({ ...frame, request_id } as KeysFrame);
  const answer = await client.next('keys_result');
  assert.equal(answer.request_id, request_id);
  return answer;
}

function ok(answer: KeysResultFrame): Extract<KeysResultFrame, { result: 'ok' }> {
  assert.equal(answer.result, 'ok', JSON.stringify(answer));
  return answer as Extract<KeysResultFrame, { result: 'ok' }>;
}

function rejected(answer: KeysResultFrame, code: string): void {
  assert.equal(answer.result, 'rejected', JSON.stringify(answer));
  assert.equal(answer.result === 'rejected' && answer.code, code, JSON.stringify(answer));
}

test('a device publishes its signed keys; another user fetches them and they verify; a user with none has none', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const identity = generateIdentity();
  const record = signDeviceRecord(identity, 'alice', 'alice-laptop', Date.now());
  assert.deepEqual(ok(await keys(alice, { type: 'keys_publish', record })).records, [record]);
  const fetched = ok(await keys(bob, { type: 'keys_get', user: 'Alice' }));
  assert.equal(fetched.user, 'alice', 'names are canonical');
  assert.deepEqual(fetched.records, [record]);
  assert.deepEqual(verifyDeviceRecord(fetched.records[0]!).sign, identity.signPublic);
  assert.deepEqual(ok(await keys(alice, { type: 'keys_get', user: 'bob' })).records, []);
});

test('a record of another user or another device, or not signed by its own key, is refused; a device replaces its own', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const identity = generateIdentity();
  rejected(await keys(alice, { type: 'keys_publish', record: signDeviceRecord(identity, 'bob', 'alice-laptop', 1) }), 'bad_record');
  rejected(await keys(alice, { type: 'keys_publish', record: signDeviceRecord(identity, 'alice', 'alice-phone', 1) }), 'bad_record');
  const forged = { ...signDeviceRecord(identity, 'alice', 'alice-laptop', 1), dh: toB64(generateIdentity().dhPublic) };
  rejected(await keys(alice, { type: 'keys_publish', record: forged }), 'bad_record');
  assert.deepEqual(ok(await keys(alice, { type: 'keys_get', user: 'alice' })).records, [], 'nothing refused was stored');
  ok(await keys(alice, { type: 'keys_publish', record: signDeviceRecord(identity, 'alice', 'alice-laptop', 1) }));
  const fresh = signDeviceRecord(generateIdentity(), 'alice', 'alice-laptop', 2);
  assert.deepEqual(ok(await keys(alice, { type: 'keys_publish', record: fresh })).records, [fresh], 'replaced, not added');
});

test('a user holds at most MAX_DEVICES_PER_USER device records; a known device still replaces its own', async () => {
  const w = await world(['alice']);
  // Fill the directory below the socket (the limit is the relay's rule, not the wire's), then try one more over it.
  const store = RelayStore.open(w.dataDir);
  try {
    const directory = new KeyDirectory(store.db);
    for (let i = 0; i < MAX_DEVICES_PER_USER; i++) {
      const answer = directory.handle('alice', `d${i}`, { type: 'keys_publish', request_id: 'x', record: signDeviceRecord(generateIdentity(), 'alice', `d${i}`, 1) }, new Date());
      assert.equal(answer.result, 'ok');
    }
  } finally {
    store.close();
  }
  const extra = await login(w, 'alice', 'd-extra');
  rejected(await keys(extra, { type: 'keys_publish', record: signDeviceRecord(generateIdentity(), 'alice', 'd-extra', 1) }), 'limit');
  const known = await login(w, 'alice', 'd0');
  assert.equal(ok(await keys(known, { type: 'keys_publish', record: signDeviceRecord(generateIdentity(), 'alice', 'd0', 2) })).records.length, MAX_DEVICES_PER_USER);
});

test('key frames on a v4 connection are a protocol error; a malformed record is one on v5', async () => {
  const w = await world(['alice']);
  const old = await login(w, 'alice', 'old', RELAY_PROTOCOL_V4);
  old.send({ type: 'keys_get', request_id: 'r', user: 'alice' });
  assert.equal((await old.closed).code, 4002);
  const client = await login(w, 'alice');
  client.sendText(JSON.stringify({ type: 'keys_publish', request_id: 'r', record: { v: 1, user: 'alice', device: 'alice-laptop', sign: 'short', dh: 'x', created_at: 1, sig: 'y' } }));
  assert.equal((await client.closed).code, 4002);
});

test('a publish does not spend the send rate (a core publishes on every connect); a connection publishes at most 8 times', async () => {
  const w = await world(['alice', 'bob'], { ratePerSecond: 1 });
  const alice = await login(w, 'alice');
  const record = signDeviceRecord(generateIdentity(), 'alice', 'alice-laptop', 1);
  ok(await keys(alice, { type: 'keys_publish', record }));
  alice.sendMessage('bob', 'right after the publish', 'c1');
  assert.equal((await alice.next('verdict')).result, 'accepted', 'the first send still has its rate');
  for (let i = 0; i < 7; i++) ok(await keys(alice, { type: 'keys_publish', record }));
  rejected(await keys(alice, { type: 'keys_publish', record }), 'rate_limit');
});

test('a connection’s first 64 key lookups do not spend the send rate (a core looks up before a first send); later ones do', async () => {
  const w = await world(['alice', 'bob'], { ratePerSecond: 1 });
  const alice = await login(w, 'alice');
  ok(await keys(alice, { type: 'keys_get', user: 'bob' }));
  alice.sendMessage('bob', 'right after the lookup', 'c1');
  assert.equal((await alice.next('verdict')).result, 'accepted', 'the first send still has its rate');
  for (let i = 1; i < 64; i++) ok(await keys(alice, { type: 'keys_get', user: 'bob' }));
  // Past 64, lookups take from the rate (1/s here): of three in a row, at least one finds it spent.
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await keys(alice, { type: 'keys_get', user: 'bob' }));
  assert.ok(answers.some((a) => a.result === 'rejected' && a.code === 'rate_limit'), JSON.stringify(answers));
});
