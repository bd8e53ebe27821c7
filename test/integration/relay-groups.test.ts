/**
 * Groups on the relay (protocol v2), against a real relay on 127.0.0.1 with raw frame-level
 * clients: fan-out exactly once to every member (also across a kill -9 of a relay process),
 * removal and late joining at their commits, the membership check, own-device copies,
 * per-member receipts, the clear refusals, and what a v1 core is sent.
 */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { RELAY_MAX_FRAME_BYTES, RELAY_PROTOCOL_V1, RELAY_PROTOCOL_V2, RELAY_SUPPORTED_VERSIONS, type DeliverFrameV2, type SendFrameV2, type GroupFrame, type GroupVerdictFrame } from '../../protocol/relay';
import { makeTempDir, RawRelayClient, RelayWorlds, runRelay, spawnRelay, type RelayWorld } from '../support/relay';

const worlds = new RelayWorlds();
const { dirs, clients, world } = worlds;
afterEach(() => worlds.closeAll());
after(() => worlds.removeDirs());

function login(w: RelayWorld, user: string, device = `${user}-laptop`, version = RELAY_PROTOCOL_V2, cursor = 0): Promise<RawRelayClient> {
  return worlds.login(w, user, device, cursor, version);
}

let requests = 0;
type GroupRequest = GroupFrame extends infer F ? (F extends GroupFrame ? Omit<F, 'request_id'> : never) : never;
async function request(client: RawRelayClient, frame: GroupRequest): Promise<GroupVerdictFrame> {
  client.send({ ...frame, request_id: `r${++requests}` } as GroupFrame);
  return client.next('group_verdict');
}

/** Takes delivers until one matches, acking each (a core commits, then acks). */
async function nextDelivery(client: RawRelayClient, match: (frame: DeliverFrameV2) => boolean = () => true): Promise<DeliverFrameV2> {
  for (;;) {
    const frame = await client.next('deliver');
    client.send({ type: 'ack', seq: frame.seq });
    if (match(frame)) return frame;
  }
}

const isMessage = (body?: string) => (frame: DeliverFrameV2) => frame.item.kind === 'message' && (body === undefined || frame.item.message.body === body);

/** Bodies of every message delivered to `client` until `quiet` ms pass without one; acks them. */
async function drainBodies(client: RawRelayClient, quiet = 400): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    let frame: DeliverFrameV2;
    try {
      frame = await client.next('deliver', quiet);
    } catch {
      return bodies;
    }
    client.send({ type: 'ack', seq: frame.seq });
    if (frame.item.kind === 'message') bodies.push(frame.item.message.body);
  }
}

test('a group message reaches every member once, the sender gets per-member delivered and read receipts', async () => {
  const w = await world(['alice', 'bob', 'carol']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const carol = await login(w, 'carol');
  const created = await request(alice, { type: 'group_create', group: 'Team', members: ['bob', 'Carol'] });
  assert.equal(created.result, 'ok');
  assert.equal(created.result === 'ok' && created.group, 'team', 'group names are canonical like user names');
  assert.deepEqual(created.result === 'ok' && created.members, [
    { user: 'alice', role: 'owner' },
    { user: 'bob', role: 'member' },
    { user: 'carol', role: 'member' },
  ]);
  for (const member of [alice, bob, carol]) {
    const event = await nextDelivery(member);
    assert.equal(event.item.kind, 'group');
    assert.equal(event.item.kind === 'group' && event.item.event, 'created');
  }

  alice.sendMessage('#team', 'hello team', 'c1', { mentions: ['bob', 'mallory'] });
  const verdict = await alice.next('verdict');
  assert.equal(verdict.result, 'accepted');
  for (const member of [bob, carol]) {
    const got = await nextDelivery(member, isMessage());
    assert.equal(got.item.kind === 'message' && got.item.message.to, '#team');
    assert.equal(got.item.kind === 'message' && got.item.message.from, 'alice');
    assert.deepEqual(got.item.kind === 'message' && got.item.message.mentions, ['bob'], 'only members stay mentioned');
    assert.deepEqual(await drainBodies(member), [], 'exactly once');
  }
  const receipts = [await nextDelivery(alice), await nextDelivery(alice)];
  assert.deepEqual(receipts.map((r) => r.item.kind === 'receipt' && `${r.item.by}:${r.item.status}`).sort(), ['bob:delivered', 'carol:delivered']);

  assert.equal(verdict.result === 'accepted' && typeof verdict.server_id, 'string');
  const serverId = verdict.result === 'accepted' ? verdict.server_id : '';
  bob.send({ type: 'read', server_ids: [serverId] });
  bob.send({ type: 'read', server_ids: [serverId] });
  const read = await nextDelivery(alice);
  assert.equal(read.item.kind === 'receipt' && `${read.item.by}:${read.item.status}`, 'bob:read');
  assert.equal(await alice.quietFor('deliver', 400), true, 'one read receipt per reader');
});

test('a non-member is refused not_member; an unknown group unknown_group', async () => {
  const w = await world(['alice', 'bob', 'mallory']);
  const alice = await login(w, 'alice');
  const mallory = await login(w, 'mallory');
  await request(alice, { type: 'group_create', group: 'team', members: ['bob'] });
  mallory.sendMessage('#team', 'let me in', 'm1');
  const verdict = await mallory.next('verdict');
  assert.equal(verdict.result, 'rejected');
  assert.equal(verdict.result === 'rejected' && verdict.code, 'not_member');
  assert.equal(verdict.result === 'rejected' && verdict.retryable, false);
  mallory.sendMessage('#nosuch', 'hello?', 'm2');
  const unknown = await mallory.next('verdict');
  assert.equal(unknown.result === 'rejected' && unknown.code, 'unknown_group');
  const add = await request(mallory, { type: 'group_add', group: 'team', users: ['mallory'] });
  assert.equal(add.result === 'rejected' && add.code, 'not_member', 'a non-member cannot add itself');
});

test('a removed member receives nothing sent after the removal; a late joiner nothing from before', async () => {
  const w = await world(['alice', 'bob', 'carol', 'dave']);
  const alice = await login(w, 'alice');
  await request(alice, { type: 'group_create', group: 'team', members: ['bob', 'carol'] });
  alice.sendMessage('#team', 'before', 'c1');
  await alice.next('verdict');
  const removed = await request(alice, { type: 'group_remove', group: 'team', users: ['carol'] });
  assert.equal(removed.result, 'ok');
  const added = await request(alice, { type: 'group_add', group: 'team', users: ['dave'] });
  assert.equal(added.result === 'ok' && added.members.map((m) => m.user).join(), 'alice,bob,dave');
  alice.sendMessage('#team', 'after', 'c2');
  await alice.next('verdict');

  const carol = await login(w, 'carol');
  const carolEvents: string[] = [];
  for (let i = 0; i < 2; i++) {
    const frame = await nextDelivery(carol, (f) => f.item.kind === 'group');
    if (frame.item.kind === 'group') carolEvents.push(frame.item.event);
  }
  assert.deepEqual(carolEvents, ['created', 'removed'], 'carol learns she was removed');
  const dave = await login(w, 'dave');
  const joined = await nextDelivery(dave);
  assert.equal(joined.item.kind === 'group' && joined.item.event, 'added');
  assert.deepEqual(await drainBodies(dave), ['after'], 'the late joiner sees from its joining on');
  const bob = await login(w, 'bob');
  assert.deepEqual(await drainBodies(bob), ['before', 'after']);
  assert.deepEqual(await drainBodies(carol), [], 'nothing after the removal reached carol');
});

test("the sender's own other devices receive what it sent, direct and group; the sending device does not", async () => {
  const w = await world(['alice', 'bob']);
  const laptop = await login(w, 'alice', 'laptop');
  const phone = await login(w, 'alice', 'phone');
  await request(laptop, { type: 'group_create', group: 'team', members: ['bob'] });
  await nextDelivery(laptop);
  await nextDelivery(phone);
  laptop.sendMessage('bob', 'direct', 'c1');
  laptop.sendMessage('#team', 'group', 'c2');
  await laptop.take('verdict', 2);
  const copies = [await nextDelivery(phone, isMessage()), await nextDelivery(phone, isMessage())];
  assert.deepEqual(copies.map((c) => c.item.kind === 'message' && `${c.item.message.from}>${c.item.message.to}:${c.item.message.body}`), ['alice>bob:direct', 'alice>#team:group']);
  assert.equal(await laptop.quietFor('deliver', 400), true, 'the sending device is not sent its own message back');
  // The same from the stored backlog: a device that comes later gets the copies; the sender, reconnecting, does not.
  const tablet = await login(w, 'alice', 'tablet');
  const later = (await drainDeliveries(tablet)).filter(isMessage()).map((c) => c.item.kind === 'message' && c.item.message.body);
  assert.deepEqual(later, ['direct', 'group']);
  await laptop.closeAndWait();
  const laptopAgain = await login(w, 'alice', 'laptop');
  assert.deepEqual((await drainDeliveries(laptopAgain)).filter(isMessage()), [], 'not from the backlog either');
});

test("a read on one of the reader's devices reaches its other devices, not the one that said it", async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const laptop = await login(w, 'bob', 'laptop');
  const desktop = await login(w, 'bob', 'desktop');
  alice.sendMessage('bob', 'read me', 'r1');
  const verdict = await alice.next('verdict');
  const serverId = verdict.result === 'accepted' ? verdict.server_id : '';
  await nextDelivery(laptop, isMessage('read me'));
  await nextDelivery(desktop, isMessage('read me'));
  laptop.send({ type: 'read', server_ids: [serverId] });
  const mirrored = await nextDelivery(desktop, (frame) => frame.item.kind === 'receipt');
  assert.equal(mirrored.item.kind === 'receipt' && `${mirrored.item.by}:${mirrored.item.status}:${mirrored.item.server_id}`, `bob:read:${serverId}`);
  assert.equal(await laptop.quietFor('deliver', 400), true, 'the device that read it is not told');
  laptop.send({ type: 'read', server_ids: [serverId] });
  assert.equal(await desktop.quietFor('deliver', 400), true, 'once per reader, like the sender\'s receipt');
});

test('bad names, unknown members, the last owner and renaming onto a taken name are each a clear refusal', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const codeOf = (v: GroupVerdictFrame) => (v.result === 'rejected' ? v.code : 'ok');
  assert.equal(codeOf(await request(alice, { type: 'group_create', group: 'bad name!', members: [] })), 'bad_name');
  assert.equal(codeOf(await request(alice, { type: 'group_create', group: 'team', members: ['nobody'] })), 'unknown_user');
  assert.equal(codeOf(await request(alice, { type: 'group_create', group: 'team', members: ['bob'] })), 'ok', 'the refused create wrote nothing');
  assert.equal(codeOf(await request(alice, { type: 'group_create', group: 'other', members: [] })), 'ok');
  assert.equal(codeOf(await request(alice, { type: 'group_create', group: 'TEAM', members: [] })), 'group_exists');
  assert.equal(codeOf(await request(alice, { type: 'group_rename', group: 'team', new_name: 'Other' })), 'group_exists');
  assert.equal(codeOf(await request(alice, { type: 'group_rename', group: 'team', new_name: '#x y' })), 'bad_name');
  assert.equal(codeOf(await request(alice, { type: 'group_remove', group: 'team', users: ['alice'] })), 'last_owner');
  assert.equal(codeOf(await request(alice, { type: 'group_leave', group: 'team' })), 'last_owner');
  assert.equal(codeOf(await request(alice, { type: 'group_role', group: 'team', user: 'alice', role: 'member' })), 'last_owner');
  assert.equal(codeOf(await request(bob, { type: 'group_remove', group: 'team', users: ['alice'] })), 'forbidden');
  assert.equal(codeOf(await request(alice, { type: 'group_remove', group: 'team', users: ['nobody'] })), 'not_member');
  // Handing over first makes leaving possible.
  assert.equal(codeOf(await request(alice, { type: 'group_role', group: 'team', user: 'bob', role: 'owner' })), 'ok');
  assert.equal(codeOf(await request(alice, { type: 'group_leave', group: 'team' })), 'ok');
  const renamed = await request(bob, { type: 'group_rename', group: 'team', new_name: 'crew' });
  assert.equal(renamed.result === 'ok' && renamed.group, 'crew');
});

test('a device that came after the events learns its groups with group_list and group_show', async () => {
  const w = await world(['alice', 'bob', 'mallory']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  await request(alice, { type: 'group_create', group: 'team', members: ['bob'] });
  await request(alice, { type: 'group_create', group: 'alpha', members: [] });
  assert.equal((await nextDelivery(bob)).item.kind, 'group');
  // bob's only device took the event, so it is pruned: a new device is not sent it.
  const newBob = await login(w, 'bob', 'bob-new-phone');
  assert.deepEqual(await drainDeliveries(newBob), []);
  newBob.send({ type: 'group_list', request_id: 'l1' });
  const list = await newBob.next('group_list_result');
  assert.deepEqual(list.groups.map((g) => `${g.group}:${g.role}:${g.member_count}`), ['team:member:2']);
  alice.send({ type: 'group_list', request_id: 'l2' });
  assert.deepEqual((await alice.next('group_list_result')).groups.map((g) => g.group), ['alpha', 'team'], 'by name');
  const shown = await request(newBob, { type: 'group_show', group: '#team' });
  assert.deepEqual(shown.result === 'ok' && shown.members, [
    { user: 'alice', role: 'owner' },
    { user: 'bob', role: 'member' },
  ]);
  const mallory = await login(w, 'mallory');
  const refused = await request(mallory, { type: 'group_show', group: 'team' });
  assert.equal(refused.result === 'rejected' && refused.code, 'not_member', 'the members of a group are for its members');
});

test('the caps on members per group and groups per user refuse with limit', async () => {
  const w = await world(['alice', 'bob', 'carol'], { maxGroupMembers: 2, maxGroupsPerUser: 1 });
  const alice = await login(w, 'alice');
  const three = await request(alice, { type: 'group_create', group: 'big', members: ['bob', 'carol'] });
  assert.equal(three.result === 'rejected' && three.code, 'limit', 'three members in a group of at most two');
  assert.equal((await request(alice, { type: 'group_create', group: 'one', members: ['bob'] })).result, 'ok');
  const second = await request(alice, { type: 'group_create', group: 'two', members: [] });
  assert.equal(second.result === 'rejected' && second.code, 'limit', 'alice is in as many groups as she may be');
  const full = await request(alice, { type: 'group_add', group: 'one', users: ['carol'] });
  assert.equal(full.result === 'rejected' && `${full.code}:${full.retryable}`, 'limit:false');
});

test('a member whose quota is full is passed over and named to the sender; the others still get the message', async () => {
  const w = await world(['alice', 'bob', 'carol'], { quotaMessages: 1 });
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  await request(alice, { type: 'group_create', group: 'team', members: ['bob', 'carol'] });
  // carol never connects: her one undelivered message fills her quota.
  for (const body of ['first', 'second']) {
    alice.sendMessage('#team', body, `q-${body}`);
    const verdict = await alice.next('verdict');
    assert.equal(verdict.result, 'accepted', `a full member does not stop the group (${body})`);
    // bob takes each one at once, so his own quota of one never fills.
    assert.deepEqual(await drainBodies(bob), [body]);
  }
  const notice = await nextDelivery(alice, (frame) => frame.item.kind === 'expired');
  assert.equal(notice.item.kind === 'expired' && `${notice.item.to}:${notice.item.reason}:${notice.item.id}`, 'carol:quota:id-q-second');
  const carol = await login(w, 'carol');
  assert.deepEqual(await drainBodies(carol), ['first'], 'carol has what fitted, and nothing twice');
});

test('a group message whose delivery would not fit in a frame is refused, not stored undeliverable', async () => {
  const w = await world(['alice', 'bob'], { maxBodyBytes: RELAY_MAX_FRAME_BYTES });
  const alice = await login(w, 'alice');
  await request(alice, { type: 'group_create', group: 'team', members: ['bob'] });
  const frame = (body: string): SendFrameV2 => ({
    type: 'send',
    message: { id: 'big-1', client_message_id: 'big-1', to: '#team', body, reply_to: null, request_id: null, created_at: new Date().toISOString() },
  });
  // The send frame fits; the deliver item adds from, server_id, group_id and pos to it.
  const body = 'x'.repeat(RELAY_MAX_FRAME_BYTES - 20 - Buffer.byteLength(JSON.stringify(frame(''))));
  assert.ok(Buffer.byteLength(JSON.stringify(frame(body))) <= RELAY_MAX_FRAME_BYTES);
  alice.send(frame(body));
  const verdict = await alice.next('verdict');
  assert.equal(verdict.result === 'rejected' && `${verdict.retryable}:${verdict.reason}`, 'false:message is too large to deliver once encoded');
});

test('a v1 core keeps its direct messages and is sent nothing of groups, own copies or read receipts', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const oldBob = await login(w, 'bob', 'old-core', RELAY_PROTOCOL_V1);
  await request(alice, { type: 'group_create', group: 'team', members: ['bob'] });
  alice.sendMessage('#team', 'group', 'c1');
  alice.sendMessage('bob', 'direct', 'c2');
  await alice.take('verdict', 2);
  // The same from the stored backlog, for a v1 device that logs in now (before any device acked).
  const lateOld = await login(w, 'bob', 'old-core-2', RELAY_PROTOCOL_V1);
  assert.deepEqual((await drainDeliveries(lateOld)).map((f) => f.item.kind === 'message' && f.item.message.body), ['direct']);
  const direct = await oldBob.next('deliver');
  assert.equal(direct.item.kind === 'message' && direct.item.message.body, 'direct', 'the first thing a v1 core is sent is the direct message');
  oldBob.send({ type: 'ack', seq: direct.seq });
  assert.equal(await oldBob.quietFor('deliver', 400), true);
  // Its ack passed over the group message, which it never had: no delivered receipt for it.
  const receipts = await drainDeliveries(alice);
  assert.deepEqual(receipts.filter((r) => r.item.kind === 'receipt').map((r) => r.item.kind === 'receipt' && r.item.status), [undefined], 'only the direct message was delivered');
  // A v1 connection is held to v1 frames: a group request is a protocol error.
  oldBob.sendText(JSON.stringify({ type: 'group_leave', request_id: 'r', group: 'team' }));
  assert.equal((await oldBob.closed).code, 4002);
  // A version this relay does not speak is refused with what to upgrade.
  const future = await RawRelayClient.open(w.url);
  clients.push(future);
  const newest = Math.max(...RELAY_SUPPORTED_VERSIONS);
  future.send({ type: 'hello', v: newest + 1, user: 'bob', token: w.tokens.bob!, device: 'd', cursor: 0 });
  const error = await future.next('error');
  const spoken = `${RELAY_SUPPORTED_VERSIONS.slice(0, -1).join(', ')} and ${newest}`;
  assert.ok(error.message.includes(`this relay speaks ${spoken}: upgrade the relay`), error.message);
});

async function drainDeliveries(client: RawRelayClient, quiet = 400): Promise<DeliverFrameV2[]> {
  const out: DeliverFrameV2[] = [];
  for (;;) {
    try {
      const frame = await client.next('deliver', quiet);
      client.send({ type: 'ack', seq: frame.seq });
      out.push(frame);
    } catch {
      return out;
    }
  }
}

test('fan-out is exactly once to every member across a kill -9 of the relay process', async () => {
  const dir = makeTempDir();
  dirs.push(dir);
  const tokens: Record<string, string> = {};
  for (const user of ['alice', 'bob', 'carol']) {
    const r = await runRelay(['add-user', user, '--data', dir.path, '--json'], { entry: 'source' });
    assert.equal(r.code, 0, r.stderr);
    tokens[user] = (JSON.parse(r.stdout) as { token: string }).token;
  }
  let proc = await spawnRelay(['--data', dir.path], { entry: 'source' });
  const w: RelayWorld = { url: proc.url, tokens, dataDir: dir.path };
  const alice = await login(w, 'alice');
  await request(alice, { type: 'group_create', group: 'team', members: ['bob', 'carol'] });
  const total = 20;
  for (let i = 0; i < total; i++) alice.sendMessage('#team', `m${i}`, `c${i}`);
  const verdicts = await alice.take('verdict', total);
  assert.ok(verdicts.every((v) => v.result === 'accepted'));
  // bob takes part of the stream, then the relay dies mid-stream.
  const bob = await login(w, 'bob');
  const bobBodies: string[] = [];
  let cursor = 0;
  while (bobBodies.length < 5) {
    const frame = await bob.next('deliver');
    cursor = frame.seq;
    bob.send({ type: 'ack', seq: frame.seq });
    if (frame.item.kind === 'message') bobBodies.push(frame.item.message.body);
  }
  proc.kill('SIGKILL');
  await proc.exited;
  proc = await spawnRelay(['--data', dir.path], { entry: 'source', port: proc.port });
  // bob resumes from what it committed (its acks may or may not have reached the dead relay).
  const bobAgain = await login(w, 'bob', 'bob-laptop', RELAY_PROTOCOL_V2, cursor);
  bobBodies.push(...(await drainBodies(bobAgain, 800)));
  const carol = await login(w, 'carol');
  const carolBodies = await drainBodies(carol, 800);
  const expected = Array.from({ length: total }, (_, i) => `m${i}`);
  assert.deepEqual(bobBodies, expected, 'bob: every message once, in order');
  assert.deepEqual(carolBodies, expected, 'carol: every message once, in order');
});
