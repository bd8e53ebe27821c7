/**
 * Relay protocol v4 (agent identities) and the versions before it, each side run from its own
 * sources at the last commit before v4 (extracted from git, run in this process):
 * - today's core against a v3 relay: the relay refuses hello v6, the core says hello again down
 *   to v3; a direct message is refused at once (NotSent: it is sent only end-to-end encrypted,
 *   which needs a v6 relay), never sent in plain text, and `agent/*` says the relay must be
 *   upgraded (NotSent, at once);
 * - a v3 core against today's relay: it logs in with v3 as before, and its message reaches an
 *   agent (the old core sends in plain text); the agent's message to it is refused (no_keys: a
 *   v3 core published no keys).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ErrorCodes } from '../../protocol/rpc';
import { RELAY_PROTOCOL_V3 } from '../../protocol/relay';
import { Core } from '../../server/core';
import { OldVersions, TODAYS_RELAY, call, failure, type CoreClass } from '../support/old-versions';
import { waitFor } from '../support/wait';

/** The last commit whose relay and core speak protocol v3 at most. */
const old = new OldVersions('19a3585', 'v3');
after(() => old.dispose());

test("today's core against a v3 relay: hello again with v3, direct messages and agent requests say to upgrade the relay", async () => {
  const relay = await old.startRelay(await old.oldRelay(old.sources()), ['alice', 'bob']);
  const alice = await old.startCore(Core as unknown as CoreClass, relay.url, 'alice', relay.tokens.alice!);
  const bob = await old.startCore(Core as unknown as CoreClass, relay.url, 'bob', relay.tokens.bob!);
  for (const core of [alice, bob]) await waitFor('online over v3', () => (core.sync.relayVersion() === RELAY_PROTOCOL_V3 ? true : undefined), 20_000);
  const refused = await failure(call(alice, 'message/send', { to: 'bob', body: 'over v3', wait_ms: 10_000 }));
  assert.equal(refused?.code, ErrorCodes.NotSent);
  assert.match(refused?.message ?? '', /^not sent: the relay speaks protocol v3, before end-to-end encrypted messages \(v6\), and direct messages are sent only encrypted; upgrade the relay$/);
  assert.equal((await call(alice, 'outbox/list', {})).items.length, 0, 'nothing stored to leave later');
  const error = await failure(call(alice, 'agent/list', {}));
  assert.equal(error?.code, ErrorCodes.NotSent);
  assert.match(error?.message ?? '', /^agent list: not sent: the relay speaks a protocol before v4; upgrade it for agent identities; nothing was changed$/);
});

test("a v3 core against today's relay: it logs in with v3, an agent gets its message, the agent's to it is refused (no keys)", async () => {
  const OldCore = await old.oldCore(old.sources());
  const relay = await old.startRelay(TODAYS_RELAY, ['alice', 'bob']);
  const oldBob = await old.startCore(OldCore, relay.url, 'bob', relay.tokens.bob!);
  const alice = await old.startCore(Core as unknown as CoreClass, relay.url, 'alice', relay.tokens.alice!);
  await waitFor('the v3 core online', () => (oldBob.sync.relayVersion() === RELAY_PROTOCOL_V3 ? true : undefined), 20_000);
  await waitFor('alice online over v6', () => (alice.sync.relayVersion() === 6 ? true : undefined), 20_000);
  const made = await call(alice, 'agent/create', { name: 'claude' });
  const claude = await old.startCore(Core as unknown as CoreClass, relay.url, made.agent.name, made.token);
  await waitFor('the agent online', () => (claude.sync.relayVersion() === 6 ? true : undefined), 20_000);
  const refused = await failure(call(claude, 'message/send', { to: 'bob', body: 'from an agent to an old core', wait_ms: 10_000 }));
  assert.equal(refused?.code, ErrorCodes.TrustRefused);
  assert.equal((refused?.data as { code?: string } | undefined)?.code, 'no_keys');
  assert.match(refused?.message ?? '', /^no device keys known for bob: bob has published none \(their core is older than end-to-end encryption/);
  const back = await call(oldBob, 'message/send', { to: 'alice.claude', body: 'hello agent', wait_ms: 10_000 });
  assert.equal(back.status, 'sent', back.reason ?? '');
  const reply = await waitFor('the agent has the reply', async () => (await call(claude, 'inbox/list', {})).messages.find((m) => m.body === 'hello agent'));
  assert.equal(reply.from_owner, undefined, 'bob is a person');
});
