/**
 * Agent identities on the relay (protocol v4), against a real relay on 127.0.0.1 with raw
 * frame-level clients: an owner creates, lists and revokes agents over its own session; the
 * agent logs in with the token it was given once, and every copy of what it sends names its
 * owner; another user (or an agent) cannot create under someone's name; the per-owner limit;
 * revocation closes the agent's live session at once and refuses its next hello, while the
 * owner goes on; malformed agent frames, and agent frames on a v3 connection, are protocol errors.
 */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { RELAY_PROTOCOL_V3, RELAY_PROTOCOL_V4, RelayCloseCodes, type AgentFrame, type AgentResultFrame, type DeliverFrameV4, type GroupVerdictFrame } from '../../protocol/relay';
import { RawRelayClient, RelayWorlds, type RelayWorld } from '../support/relay';
import { RelayStore } from '../../relay/store';
import { MAX_AGENTS_LISTED } from '../../relay/agents';

const worlds = new RelayWorlds();
const { clients, world } = worlds;
afterEach(() => worlds.closeAll());
after(() => worlds.removeDirs());

function login(w: RelayWorld, user: string, version = RELAY_PROTOCOL_V4): Promise<RawRelayClient> {
  return worlds.login(w, user, `${user}-laptop`, 0, version);
}

let requests = 0;
type AgentRequest = AgentFrame extends infer F ? (F extends AgentFrame ? Omit<F, 'request_id'> : never) : never;
async function agent(client: RawRelayClient, frame: AgentRequest): Promise<AgentResultFrame> {
  const request_id = `a${++requests}`;
  client.send({ ...frame, request_id } as AgentFrame);
  const answer = await client.next('agent_result');
  assert.equal(answer.request_id, request_id);
  return answer;
}

async function created(client: RawRelayClient, name: string): Promise<{ name: string; token: string }> {
  const answer = await agent(client, { type: 'agent_create', name });
  assert.equal(answer.result, 'ok', JSON.stringify(answer));
  assert.ok(answer.result === 'ok' && answer.token);
  return { name: answer.agents[0]!.name, token: answer.token! };
}

function rejected(answer: AgentResultFrame, code: string): void {
  assert.equal(answer.result, 'rejected', JSON.stringify(answer));
  assert.equal(answer.result === 'rejected' && answer.code, code, JSON.stringify(answer));
}

/** Takes delivers until a message arrives, acking each. */
async function nextMessage(client: RawRelayClient): Promise<Extract<DeliverFrameV4['item'], { kind: 'message' }>> {
  for (;;) {
    const frame = (await client.next('deliver')) as DeliverFrameV4;
    client.send({ type: 'ack', seq: frame.seq });
    if (frame.item.kind === 'message') return frame.item;
  }
}

test('an owner creates an agent; it logs in with its token, and what it sends to a person and to a group names its owner', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const made = await created(alice, 'Alice.Claude');
  assert.equal(made.name, 'alice.claude', 'canonical, like every user name');
  const stored = RelayStore.open(w.dataDir);
  try {
    // Stored hashed like every token: the clear token appears nowhere in the users table.
    const rows = stored.db.prepare('SELECT name, owner, hex(token_hash) AS h FROM users WHERE name = ?').all('alice.claude') as { owner: string; h: string }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.owner, 'alice');
    assert.ok(!rows[0]!.h.toLowerCase().includes(Buffer.from(made.token).toString('hex')));
  } finally {
    stored.close();
  }
  const claude = await RawRelayClient.login(w.url, 'alice.claude', made.token, 'agent-box', 0, RELAY_PROTOCOL_V4);
  clients.push(claude);

  claude.sendMessage('bob', 'hello from an agent', 'c1');
  assert.equal((await claude.next('verdict')).result, 'accepted');
  const direct = await nextMessage(bob);
  assert.equal(direct.message.from, 'alice.claude');
  assert.equal(direct.from_owner, 'alice');

  // A person's message carries no owner.
  alice.sendMessage('bob', 'hello from a person', 'p1');
  assert.equal((await alice.next('verdict')).result, 'accepted');
  const person = await nextMessage(bob);
  assert.equal(person.message.from, 'alice');
  assert.equal(person.from_owner, undefined);

  alice.send({ type: 'group_create', request_id: 'g1', group: 'team', members: ['bob', 'alice.claude'] });
  const group = (await alice.next('group_verdict')) as GroupVerdictFrame;
  assert.equal(group.result, 'ok');
  assert.deepEqual(group.result === 'ok' && group.members, [
    { user: 'alice', role: 'owner' },
    { user: 'alice.claude', role: 'member', owner: 'alice' },
    { user: 'bob', role: 'member' },
  ]);
  claude.sendMessage('#team', 'to the room', 'c2');
  assert.equal((await claude.next('verdict')).result, 'accepted');
  const inGroup = await nextMessage(bob);
  assert.equal(inGroup.message.body, 'to the room');
  assert.equal(inGroup.from_owner, 'alice');

  // The owner's list says what it sent: two messages, and when the last one was.
  const list = await agent(alice, { type: 'agent_list' });
  assert.equal(list.result, 'ok');
  const [info] = list.result === 'ok' ? list.agents : [];
  assert.equal(info?.name, 'alice.claude');
  assert.equal(info?.owner, 'alice');
  assert.equal(info?.revoked, false);
  assert.equal(info?.sent, 2);
  assert.ok(info?.last_sent_at);
  assert.equal(list.result === 'ok' && list.token, undefined, 'a list never carries a token');
});

test('another user cannot create agents under your name, nor can an agent create agents; nothing is created', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  rejected(await agent(bob, { type: 'agent_create', name: 'alice.x' }), 'not_owner');
  rejected(await agent(bob, { type: 'agent_create', name: 'bob' }), 'bad_name');
  rejected(await agent(bob, { type: 'agent_create', name: 'bob.' }), 'bad_name');
  rejected(await agent(bob, { type: 'agent_create', name: 'bob.#x' }), 'bad_name');
  rejected(await agent(bob, { type: 'agent_revoke', name: 'alice.x' }), 'not_owner');
  const list = await agent(alice, { type: 'agent_list' });
  assert.deepEqual(list.result === 'ok' && list.agents, []);
  const store = RelayStore.open(w.dataDir);
  try {
    assert.equal(store.isUserActive('alice.x'), false);
  } finally {
    store.close();
  }
  const made = await created(alice, 'alice.claude');
  rejected(await agent(alice, { type: 'agent_create', name: 'alice.claude' }), 'agent_exists');
  const claude = await RawRelayClient.login(w.url, made.name, made.token, 'agent-box', 0, RELAY_PROTOCOL_V4);
  clients.push(claude);
  rejected(await agent(claude, { type: 'agent_create', name: 'alice.claude.sub' }), 'forbidden');
  rejected(await agent(claude, { type: 'agent_list' }), 'forbidden');
});

test('the per-owner limit refuses one more agent, clearly, until one is revoked', async () => {
  const w = await world(['alice'], { maxAgentsPerOwner: 2 });
  const alice = await login(w, 'alice');
  await created(alice, 'alice.one');
  await created(alice, 'alice.two');
  const third = await agent(alice, { type: 'agent_create', name: 'alice.three' });
  rejected(third, 'limit');
  assert.match(third.result === 'rejected' ? third.reason : '', /2 agents.*most per person \(2\); revoke one first/);
  assert.equal(third.result === 'rejected' && third.retryable, true);
  assert.equal((await agent(alice, { type: 'agent_revoke', name: 'alice.one' })).result, 'ok');
  await created(alice, 'alice.three');
});

test('agent_list stays bounded: every active agent, then the newest revoked ones, at most MAX_AGENTS_LISTED', async () => {
  const w = await world(['alice'], { maxAgentsPerOwner: 1, ratePerSecond: 0 });
  const alice = await login(w, 'alice');
  for (let i = 0; i <= MAX_AGENTS_LISTED; i++) {
    await created(alice, `alice.gone${i}`);
    assert.equal((await agent(alice, { type: 'agent_revoke', name: `alice.gone${i}` })).result, 'ok');
  }
  await created(alice, 'alice.zz-active');
  const list = await agent(alice, { type: 'agent_list' });
  assert.ok(list.result === 'ok');
  assert.equal(list.agents.length, MAX_AGENTS_LISTED);
  const names = list.agents.map((a) => a.name);
  assert.ok(names.includes('alice.zz-active'), 'the active one is always listed');
  assert.ok(!names.includes('alice.gone0') && !names.includes('alice.gone1'), 'the oldest revoked drop off');
  assert.ok(names.includes(`alice.gone${MAX_AGENTS_LISTED}`));
  assert.deepEqual(names, [...names].sort(), 'by name');
});

test('revoking an agent closes its live session at once and refuses its next hello; the owner goes on', async () => {
  const w = await world(['alice', 'bob']);
  const alice = await login(w, 'alice');
  const bob = await login(w, 'bob');
  const made = await created(alice, 'alice.claude');
  const claude = await RawRelayClient.login(w.url, made.name, made.token, 'agent-box', 0, RELAY_PROTOCOL_V4);
  clients.push(claude);
  const revoked = await agent(alice, { type: 'agent_revoke', name: 'claude.x' });
  rejected(revoked, 'not_owner');
  const done = await agent(alice, { type: 'agent_revoke', name: 'alice.claude' });
  assert.equal(done.result, 'ok');
  assert.equal(done.result === 'ok' && done.agents[0]?.revoked, true);
  const error = await claude.next('error');
  assert.equal(error.code, 'unauthorized');
  assert.equal((await claude.closed).code, RelayCloseCodes.Unauthorized);

  const again = await RawRelayClient.open(w.url);
  clients.push(again);
  again.send({ type: 'hello', v: RELAY_PROTOCOL_V4, user: made.name, token: made.token, device: 'agent-box', cursor: 0 });
  assert.equal((await again.next('error')).code, 'unauthorized');
  assert.equal((await again.closed).code, RelayCloseCodes.Unauthorized);

  alice.sendMessage('bob', 'still here', 'a1');
  assert.equal((await alice.next('verdict')).result, 'accepted');
  assert.equal((await nextMessage(bob)).message.body, 'still here');
  rejected(await agent(alice, { type: 'agent_revoke', name: 'alice.claude' }), 'unknown_agent');
  const list = await agent(alice, { type: 'agent_list' });
  assert.equal(list.result === 'ok' && list.agents[0]?.revoked, true);
});

test('malformed agent frames, and agent frames on a v3 connection, are protocol errors', async () => {
  const w = await world(['alice']);
  for (const text of ['{"type":"agent_create","request_id":"r1"}', '{"type":"agent_list"}', '{"type":"agent_revoke","request_id":"r1","name":7}']) {
    const alice = await login(w, 'alice');
    alice.sendText(text);
    const error = await alice.next('error');
    assert.equal(error.code, 'protocol', text);
    assert.equal((await alice.closed).code, RelayCloseCodes.Protocol, text);
  }
  const old = await login(w, 'alice', RELAY_PROTOCOL_V3);
  old.send({ type: 'agent_list', request_id: 'r1' });
  assert.equal((await old.next('error')).code, 'protocol');
  assert.equal((await old.closed).code, RelayCloseCodes.Protocol);
});
