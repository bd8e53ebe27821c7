/**
 * What the relay will not deliver, and reads across devices, through real cores and a real
 * relay process on 127.0.0.1: a member whose quota is full is passed over and shown as such
 * to the sender while the message stands for the others, and a read on one device of a user
 * reaches that user's other device.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { Method, ParamsOf, ResultOf } from '../../protocol/rpc';
import { kill9, runOk, startCore, tempHome } from '../support/cli';
import { killAllRelays, TestRelay } from '../support/relay';
import { waitFor, withClient } from '../support/wait';
import { readToken } from '../../server/config';
import { homePaths } from '../../lib/node/paths';

// One undelivered message per recipient: carol, who never connects, is full after the first.
const relay = new TestRelay({ extraArgs: ['--quota-messages', '1'] });
const cleanups: (() => void)[] = [];
const cores: ChildProcess[] = [];
const homes: Record<string, string> = {};

function rpc<M extends Method>(who: string, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return withClient(homes[who]!, `drops-${who}`, (c) => c.call(method, params) as Promise<ResultOf<M>>);
}

async function home(name: string, user = name, token?: string): Promise<void> {
  const { home: dir, cleanup } = tempHome(`sb-drop-${name}-`);
  cleanups.push(cleanup);
  if (token === undefined) await relay.configureHome(dir, user);
  else await runOk(dir, ['init', '--relay', relay.url, '--user', user, '--token', token]);
  homes[name] = dir;
}

async function online(name: string): Promise<void> {
  cores.push(await startCore(homes[name]!));
  await waitFor(`${name} online`, async () => ((await rpc(name, 'status/get', {})).sync.state === 'online' ? true : undefined), 30_000);
}

before(async () => {
  await relay.start();
  for (const name of ['alice', 'bob', 'carol']) await home(name);
  // bob's second device: another home, the same user and token.
  const token = readToken(homePaths(homes.bob!));
  assert.ok(token);
  await home('bob2', 'bob', token);
  for (const name of ['alice', 'bob', 'bob2']) await online(name);
});

after(async () => {
  for (const core of cores) await kill9(core);
  await relay.dispose();
  await killAllRelays();
  for (const cleanup of cleanups) cleanup();
});

test('a member whose relay quota is full is passed over: the sender sees who will not get it, the message stands for the others', async () => {
  await rpc('alice', 'group/create', { name: 'team', members: ['bob', 'carol'] });
  const first = await rpc('alice', 'message/send', { to: '#team', body: 'fits', wait_ms: 10_000 });
  await waitFor('bob has the first', async () => ((await rpc('alice', 'message/get', { id: first.id })).receipts?.delivered === 1 ? true : undefined));
  const second = await rpc('alice', 'message/send', { to: '#team', body: 'carol is full', wait_ms: 10_000 });
  assert.equal(second.status, 'sent', 'a full member does not refuse the group send');
  const receipts = await waitFor('carol marked as passed over', async () => {
    const r = await rpc('alice', 'message/receipts', { id: second.id });
    return r.receipts.some((x) => x.user === 'carol' && x.dropped !== null) && r.delivered === 1 ? r : undefined;
  });
  assert.deepEqual(
    receipts.receipts.map((x) => [x.user, x.delivered_at !== null, x.dropped]),
    [
      ['bob', true, null],
      ['carol', false, 'quota'],
    ],
  );
  const message = await rpc('alice', 'message/get', { id: second.id });
  assert.equal(message.state, 'delivered', 'not failed: bob has it');
  const firstReceipts = await rpc('alice', 'message/receipts', { id: first.id });
  assert.deepEqual(firstReceipts.receipts.map((x) => [x.user, x.dropped]), [['bob', null], ['carol', null]], 'the first still waits for carol');
  const outbox = await rpc('alice', 'outbox/list', {});
  assert.equal(outbox.items.find((i) => i.id === second.id)?.state ?? 'done', 'done', 'the outbox row is not expired');
});

test("a read on one of bob's devices marks the message read on his other device", async () => {
  const sent = await rpc('alice', 'message/send', { to: 'bob', body: 'read me anywhere', wait_ms: 10_000 });
  for (const device of ['bob', 'bob2']) {
    await waitFor(`${device} has it`, async () => ((await rpc(device, 'inbox/list', { unread: true })).messages.some((m) => m.id === sent.id) ? true : undefined));
  }
  await rpc('bob', 'message/markRead', { ids: [sent.id] });
  await waitFor('read on bob2 too', async () => ((await rpc('bob2', 'message/get', { id: sent.id })).read ? true : undefined));
  // alice hears of the read once, from the device that read it.
  await waitFor('alice sees it read', async () => ((await rpc('alice', 'message/get', { id: sent.id })).receipts?.read === 1 ? true : undefined));
  const unread = await rpc('bob2', 'conversation/list', {});
  assert.equal(unread.conversations.find((c) => c.peer === 'alice')?.unread, 0, "bob2's counters follow");
});
