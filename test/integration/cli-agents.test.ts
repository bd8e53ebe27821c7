/**
 * Agent identities through the built CLI (issue 14): a real relay on 127.0.0.1, real homes,
 * a real core where it matters, `switchboard` as child processes. `agent create` makes the
 * account at the relay and a complete home for it; the agent sends as itself to a person and
 * to a group, and the person sees who owns it (inbox, read, --json `from_owner`); `agent list`
 * shows what it sent; `agent revoke` shuts it out (exit 1, `unauthorized`) and the owner goes
 * on; another user cannot create under your name; offline is a clear, bounded error; the same
 * answer delegated (a running core) as direct.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AgentCreateResult, AgentListResult, Conversation, Message, Peer } from '../../protocol/rpc';
import { openDirect } from '../../server/direct';
import { agentHome, homePaths } from '../../lib/node/paths';
import { ExitCode } from '../../lib/node/cli/errors';
import { Cleanups, ok, okJson, refusedWith, run, told } from '../support/cli';
import { killAllRelays, TestRelay } from '../support/relay';
import { RelayHomes } from '../support/relay-homes';
import { waitFor } from '../support/wait';

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});



describe('agent identities through the CLI', () => {
  const world = new RelayHomes(cleanups, 'sb-', ['alice', 'bob']);
  const { relay } = world;
  const { alice, bob } = world.home;
  let claude: string;

  before(() => world.start());

  test('create writes a complete home; the agent sends to a person and to a group; they see its owner', async () => {
    const out = await ok(alice, ['agent', 'create', 'claude']);
    claude = agentHome(alice, 'alice.claude');
    assert.equal(
      out,
      [
        'created agent alice.claude (owned by alice)',
        `home:  ${claude} (its token is in the home's token file, 0600)`,
        `use:   switchboard --home ${claude} send --to alice -m hi`,
        `       switchboard --home ${alice} mcp --agent alice.claude`,
        '',
      ].join('\n'),
    );
    const config = JSON.parse(readFileSync(`${claude}/config.json`, 'utf8')) as { relay: string; user: string; device: string };
    const owner = JSON.parse(readFileSync(`${alice}/config.json`, 'utf8')) as { relay: string; device: string };
    assert.equal(config.relay, owner.relay);
    assert.equal(config.user, 'alice.claude');
    assert.ok(config.device && config.device !== owner.device, 'its own device id');
    assert.equal(statSync(`${claude}/token`).mode & 0o777, 0o600);
    assert.match(readFileSync(`${claude}/token`, 'utf8'), /^sbr_\S+\n$/);

    assert.match(await ok(claude, ['send', '--to', 'bob', '-m', 'hello bob, I am claude']), /^sent \S+ to bob\n$/);
    assert.equal(await ok(alice, ['group', 'create', 'team', '--members', 'bob,alice.claude']), 'created #team: alice (owner), alice.claude (member, agent of alice), bob (member)\n');
    assert.match(await ok(claude, ['send', '--to', '#team', '-m', 'hello team']), /^sent \S+ to #team\n$/);

    assert.match(await ok(bob, ['group', 'show', 'team']), /^ {2}alice\.claude \(agent of alice\) {2}member$/m);
    const inbox = await ok(bob, ['inbox']);
    assert.match(inbox, /^\* \S+ {2}\S+ \S+ {2}alice\.claude \(agent of alice\): hello bob, I am claude$/m);
    assert.match(inbox, /^\* \S+ {2}\S+ \S+ {2}#team {2}alice\.claude \(agent of alice\): hello team$/m);
    const messages = (await okJson<{ messages: Message[] }>(bob, ['inbox'])).messages;
    assert.deepEqual(
      messages.map((m) => [m.from, m.from_owner, m.body]).sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
      [
        ['alice.claude', 'alice', 'hello bob, I am claude'],
        ['alice.claude', 'alice', 'hello team'],
      ],
    );
    const direct = messages.find((m) => m.group === null)!;
    assert.match(await ok(bob, ['read', direct.id]), /^from: {5}alice\.claude \(agent of alice\)$/m);
    const peers = (await okJson<{ peers: Peer[] }>(bob, ['peers'])).peers;
    assert.deepEqual(peers.find((p) => p.name === 'alice.claude')?.owner, 'alice');
    assert.match(await ok(bob, ['peers']), /^alice\.claude \(agent of alice\) {2}messages 1/m);
    // A person's message carries no owner.
    await ok(alice, ['send', '--to', 'bob', '-m', 'from a person']);
    const fromAlice = (await okJson<{ messages: Message[] }>(bob, ['inbox', '--from', 'alice'])).messages;
    assert.equal(fromAlice.length, 1);
    assert.equal('from_owner' in fromAlice[0]!, false);
    // Conversations (what the extension's Inbox shows) carry it too: asked in-process, as a client would.
    const opened = await openDirect(homePaths(bob), { sync: false });
    assert.ok(opened.ok);
    try {
      const { conversations } = await opened.core.call('conversation/list', {});
      assert.equal(conversations.find((c: Conversation) => c.peer === 'alice.claude')?.owner, 'alice');
      assert.equal(conversations.find((c: Conversation) => c.peer === 'alice')?.owner, undefined);
    } finally {
      await opened.core.close();
    }
  });

  test('agent list shows what each agent sent; --json has the documented fields', async () => {
    const table = await ok(alice, ['agent', 'list']);
    assert.match(table, /^name {10}created {11}revoked {2}sent {2}last sent {9}home$/m);
    assert.match(table, /^alice\.claude {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}no {7}2 {5}\d{4}-\d\d-\d\d \d\d:\d\d {2}yes$/m);
    const listed = await okJson<AgentListResult>(alice, ['agent', 'list']);
    assert.equal(listed.agents.length, 1);
    const [a] = listed.agents;
    assert.deepEqual(Object.keys(a!), ['name', 'owner', 'created_at', 'revoked', 'revoked_at', 'sent', 'last_sent_at', 'home', 'home_present']);
    assert.deepEqual([a!.name, a!.owner, a!.revoked, a!.sent, a!.home, a!.home_present], ['alice.claude', 'alice', false, 2, claude, true]);
  });

  test('another user cannot create an agent under your name: refused, nothing created', async () => {
    await refusedWith(bob, ['agent', 'create', 'alice.x'], 'not_owner', /^switchboard: agent create alice\.x refused by the relay \(not_owner\): "alice\.x" is under the name "alice", not yours \(bob\); name it bob\.<name>/);
    assert.deepEqual((await okJson<AgentListResult>(alice, ['agent', 'list'])).agents.map((a) => a.name), ['alice.claude']);
    assert.deepEqual((await okJson<AgentListResult>(bob, ['agent', 'list'])).agents, []);
    // An agent cannot create agents either.
    await refusedWith(claude, ['agent', 'create', 'sub'], 'forbidden', /\(forbidden\): alice\.claude is an agent of alice; only a person can create or manage agents/);
  });

  test('delegated (a running core) and direct give the same answers', async () => {
    const direct = await run(alice, ['agent', 'list']);
    const directRefusal = await run(alice, ['agent', 'revoke', 'nobody']);
    await world.startCore('alice');
    const delegated = await run(alice, ['agent', 'list']);
    const delegatedRefusal = await run(alice, ['agent', 'revoke', 'nobody']);
    assert.deepEqual(delegated, direct);
    assert.deepEqual(delegatedRefusal, directRefusal);
    assert.equal(directRefusal.code, ExitCode.Failed);
    assert.match(directRefusal.stderr, /^switchboard: agent revoke alice\.nobody refused by the relay \(unknown_agent\): you have no active agent named "alice\.nobody"; see your agents with `switchboard agent list`\n$/);
    // Created through the core: its home is written by the core, the same as direct.
    const made = await okJson<AgentCreateResult>(alice, ['agent', 'create', 'alice.review-bot']);
    assert.equal(made.agent.name, 'alice.review-bot');
    assert.equal(made.agent.home, agentHome(alice, 'alice.review-bot'));
    assert.equal(made.agent.home_present, true);
    assert.equal(readFileSync(`${made.agent.home}/token`, 'utf8'), `${made.token}\n`);
    await world.stopCore('alice');
  });

  test('revoke: the agent gets unauthorized (exit 1), its home stays; the owner still sends', async () => {
    assert.equal(await ok(alice, ['agent', 'revoke', 'claude']), `revoked agent alice.claude; its home stays at ${claude}, but is revoked: the relay refuses it\n`);
    const denied = await run(claude, ['send', '--to', 'bob', '-m', 'after revoke', '--no-queue']);
    assert.equal(denied.code, ExitCode.Failed, told(['send'], denied));
    assert.match(denied.stderr, /^switchboard: not sent: the relay refused the token for alice\.claude \(if alice\.claude is an agent identity, its owner revoked it or can create it again: `switchboard agent create alice\.claude` in the owner's home writes a new token here\)/);
    const machine = await run(claude, ['send', '--to', 'bob', '-m', 'after revoke', '--no-queue', '--json']);
    assert.equal(machine.code, ExitCode.Failed);
    assert.equal((JSON.parse(machine.stderr) as { error: { code: string } }).error.code, 'not_sent');
    assert.match(await ok(alice, ['send', '--to', 'bob', '-m', 'the owner goes on']), /^sent \S+ to bob\n$/);
    const listed = (await okJson<AgentListResult>(alice, ['agent', 'list'])).agents.find((a) => a.name === 'alice.claude');
    assert.equal(listed?.revoked, true);
    assert.equal(listed?.home_present, true);
    assert.match(await ok(alice, ['agent', 'list']), /^alice\.claude +\S+ \S+ {2}yes \S+ \S+ {2}2 /m);
  });

  test('the relay offline: a clear error with what to do, within a bounded wait', async () => {
    await relay.kill9();
    try {
      await refusedWith(alice, ['agent', 'list'], 'not_sent', /^switchboard: agent list: not sent: .*; agent identities live at the relay, so this needs it online \(check with `switchboard status`\); nothing was changed\n$/);
    } finally {
      await relay.start();
    }
    await waitFor('the relay back', async () => ((await run(alice, ['agent', 'list'])).code === 0 ? true : undefined));
    // A home with no relay at all: the same refusal, saying to configure one (and `claude` is not guessed into a name).
    const fresh = cleanups.home('sb-fresh-');
    await refusedWith(fresh, ['agent', 'create', 'claude'], 'not_sent', /^switchboard: agent create claude: not sent: no relay configured; run `switchboard init/);
  });

  test('at the relay\'s most agents per person: refused with the limit, and what to do said once', async () => {
    const small = new TestRelay({ extraArgs: ['--max-agents-per-owner', '1'] });
    cleanups.push(() => small.dispose());
    await small.start();
    const dave = cleanups.home('sb-dave-');
    await small.configureHome(dave, 'dave');
    await ok(dave, ['agent', 'create', 'a']);
    await refusedWith(
      dave,
      ['agent', 'create', 'b'],
      'limit',
      /^switchboard: agent create dave\.b refused by the relay \(limit\): you hold 1 agents, this relay's most per person \(1\); revoke one first; `switchboard agent revoke <name>` does it, or ask the relay operator to raise --max-agents-per-owner\n$/,
    );
  });
});
