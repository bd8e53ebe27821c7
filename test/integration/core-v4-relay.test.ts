/**
 * Relay protocol v5 (the key directory, issue 18) and v4 before it, each side run from its own
 * sources at the last commit before v5 (extracted from git, run in this process):
 * - today's core against a v4 relay: the relay refuses hello v6 and v5, the core says hello
 *   again with v4; a direct message is refused (NotSent: only end-to-end encrypted, which needs
 *   a v6 relay), and `trust/show` answers at once from what is pinned (none: `no_keys`);
 * - a v4 core against today's relay: it logs in with v4 as before, its message reaches today's
 *   core (it sends in plain text), and today's core, finding no keys for it, refuses to send to
 *   it (`no_keys`, TrustRefused) rather than send in plain text.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ErrorCodes } from '../../protocol/rpc';
import { RELAY_PROTOCOL_V4, RELAY_PROTOCOL_V6 } from '../../protocol/relay';
import { Core } from '../../server/core';
import { OldVersions, TODAYS_RELAY, call, failure, type CoreClass } from '../support/old-versions';
import { waitFor } from '../support/wait';

/** The last commit whose relay and core speak protocol v4 at most. */
const old = new OldVersions('57fdabd', 'v4');
after(() => old.dispose());

test("today's core against a v4 relay: hello again with v4, a direct send says to upgrade the relay, trust answers from the pins", async () => {
  const relay = await old.startRelay(await old.oldRelay(old.sources()), ['alice', 'bob']);
  const alice = await old.startCore(Core as unknown as CoreClass, relay.url, 'alice', relay.tokens.alice!);
  const bob = await old.startCore(Core as unknown as CoreClass, relay.url, 'bob', relay.tokens.bob!);
  for (const core of [alice, bob]) await waitFor('online over v4', () => (core.sync.relayVersion() === RELAY_PROTOCOL_V4 ? true : undefined), 20_000);
  const refused = await failure(call(alice, 'message/send', { to: 'bob', body: 'over v4', wait_ms: 10_000 }));
  assert.equal(refused?.code, ErrorCodes.NotSent);
  assert.match(refused?.message ?? '', /^not sent: the relay speaks protocol v4, before end-to-end encrypted messages \(v6\)/);
  assert.equal((await call(alice, 'outbox/list', {})).items.length, 0, 'nothing stored to leave later');
  assert.equal((await call(bob, 'inbox/list', {})).messages.length, 0);
  const error = await failure(call(alice, 'trust/show', { user: 'bob' }));
  assert.equal(error?.code, ErrorCodes.TrustRefused);
  assert.match(error?.message ?? '', /^no device keys known for bob: the relay is not reachable \(or speaks a protocol before v5\) and none are pinned yet$/);
});

test("a v4 core against today's relay: it logs in with v4; its message reaches today's core, which refuses to send to it without keys", async () => {
  const OldCore = await old.oldCore(old.sources());
  const relay = await old.startRelay(TODAYS_RELAY, ['alice', 'bob']);
  const oldBob = await old.startCore(OldCore, relay.url, 'bob', relay.tokens.bob!);
  const alice = await old.startCore(Core as unknown as CoreClass, relay.url, 'alice', relay.tokens.alice!);
  await waitFor('the v4 core online', () => (oldBob.sync.relayVersion() === RELAY_PROTOCOL_V4 ? true : undefined), 20_000);
  await waitFor('alice online over v6', () => (alice.sync.relayVersion() === RELAY_PROTOCOL_V6 ? true : undefined), 20_000);
  const refused = await failure(call(alice, 'message/send', { to: 'bob', body: 'to an old core', wait_ms: 10_000 }));
  assert.equal(refused?.code, ErrorCodes.TrustRefused);
  assert.equal((refused?.data as { code?: string } | undefined)?.code, 'no_keys');
  assert.equal((await call(alice, 'outbox/list', {})).items.length, 0, 'nothing stored to leave in plain text');
  const back = await call(oldBob, 'message/send', { to: 'alice', body: 'from an old core', wait_ms: 10_000 });
  assert.equal(back.status, 'sent', back.reason ?? '');
  await waitFor('alice has the reply', async () => (await call(alice, 'inbox/list', {})).messages.find((m) => m.body === 'from an old core'));
  // The old core published nothing: alice knows no keys for bob, and says so.
  assert.equal((await failure(call(alice, 'trust/show', { user: 'bob' })))?.code, ErrorCodes.TrustRefused);
});
