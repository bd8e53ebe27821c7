/**
 * Relay protocol v6 (sealed direct messages, issue 18) and v5 before it, each side run from its
 * own sources at the last commit before v6 (extracted from git, run in this process):
 * - today's core against a v5 relay: the relay refuses hello v6, the core says hello again with
 *   v5 (keys are published and looked up as before), and a direct send is refused at once
 *   (NotSent: only sent encrypted, which needs a v6 relay); nothing is stored to leave later;
 * - a v5 core against today's relay: it publishes its keys but cannot open a sealed message, so
 *   the relay refuses today's core's send to it (`recipient_outdated`: failed, nothing delivered);
 *   its own plain message still reaches today's core.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ErrorCodes } from '../../protocol/rpc';
import { RELAY_PROTOCOL_V5, RELAY_PROTOCOL_V6 } from '../../protocol/relay';
import { Core } from '../../server/core';
import { OldVersions, TODAYS_RELAY, call, failure, type CoreClass } from '../support/old-versions';
import { waitFor } from '../support/wait';

/** The last commit whose relay and core speak protocol v5 at most. */
const old = new OldVersions('5ec5c79', 'v5');
after(() => old.dispose());

test("today's core against a v5 relay: hello again with v5, a direct send says to upgrade the relay, nothing stored", async () => {
  const relay = await old.startRelay(await old.oldRelay(old.sources()), ['alice', 'bob']);
  const alice = await old.startCore(Core as unknown as CoreClass, relay.url, 'alice', relay.tokens.alice!);
  const bob = await old.startCore(Core as unknown as CoreClass, relay.url, 'bob', relay.tokens.bob!);
  for (const core of [alice, bob]) await waitFor('online over v5', () => (core.sync.relayVersion() === RELAY_PROTOCOL_V5 ? true : undefined), 20_000);
  const refused = await failure(call(alice, 'message/send', { to: 'bob', body: 'over v5', wait_ms: 10_000 }));
  assert.equal(refused?.code, ErrorCodes.NotSent);
  assert.match(refused?.message ?? '', /^not sent: the relay speaks protocol v5, before end-to-end encrypted messages \(v6\)/);
  assert.equal((await call(alice, 'outbox/list', {})).items.length, 0, 'nothing stored to leave later');
  // The key directory still works over v5: safety numbers can be compared.
  await waitFor('bob’s keys through the v5 directory', async () => (await call(alice, 'trust/show', { user: 'bob' }).catch(() => undefined))?.devices === 1 || undefined, 20_000);
});

test("a v5 core against today's relay: a sealed send to it is refused (recipient_outdated); its plain message reaches today's core", async () => {
  const OldCore = await old.oldCore(old.sources());
  const relay = await old.startRelay(TODAYS_RELAY, ['alice', 'bob']);
  const oldBob = await old.startCore(OldCore, relay.url, 'bob', relay.tokens.bob!);
  const alice = await old.startCore(Core as unknown as CoreClass, relay.url, 'alice', relay.tokens.alice!);
  await waitFor('the v5 core online', () => (oldBob.sync.relayVersion() === RELAY_PROTOCOL_V5 ? true : undefined), 20_000);
  await waitFor('alice online over v6', () => (alice.sync.relayVersion() === RELAY_PROTOCOL_V6 ? true : undefined), 20_000);
  // The v5 core published its keys: the send seals for them, and the relay knows no device of bob's could open it.
  await waitFor('bob’s keys published', async () => (await call(alice, 'trust/show', { user: 'bob' }).catch(() => undefined))?.devices === 1 || undefined, 20_000);
  const sent = await call(alice, 'message/send', { to: 'bob', body: 'sealed for an old core', wait_ms: 10_000 });
  assert.equal(sent.status, 'failed');
  assert.match(sent.reason ?? '', /no device of "bob" runs a core that opens end-to-end encrypted messages/);
  const back = await call(oldBob, 'message/send', { to: 'alice', body: 'plain from a v5 core', wait_ms: 10_000 });
  assert.equal(back.status, 'sent', back.reason ?? '');
  await waitFor('alice has it', async () => (await call(alice, 'inbox/list', {})).messages.find((m) => m.body === 'plain from a v5 core'));
  assert.equal((await call(oldBob, 'inbox/list', {})).messages.length, 0, 'nothing reached the old core');
});
