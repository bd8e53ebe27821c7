/**
 * Relay protocol v4 (agent identities) and the versions before it, each side run from its own
 * sources at the last commit before v4 (extracted from git, run in this process):
 * - today's core against a v3 relay: the relay refuses hello v4, the core says hello again with
 *   v3, messages flow, and `agent/*` says the relay must be upgraded (NotSent, at once);
 * - a v3 core against today's relay: it logs in with v3 as before, and a message from an agent
 *   (whose delivery carries `from_owner`, which it does not know) reaches it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCodes, type Method, type ParamsOf, type ResultOf, type RpcErrorObject } from '../../protocol/rpc';
import { RELAY_PROTOCOL_V3 } from '../../protocol/relay';
import { Core } from '../../server/core';
import { writeConfig, loadConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';
import { silentLogger } from '../../lib/node/log';
import { RelayStore } from '../../relay/store';
import { addUser } from '../../relay/accounts';
import { RelayServer } from '../../relay/server';
import { ROOT, tempHome } from '../support/cli';
import { waitFor } from '../support/wait';

/** The last commit whose relay and core speak protocol v3 at most. */
const V3_COMMIT = '19a3585';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The v3 sources (relay, core and what they import), extracted from git. */
function v3Sources(): string {
  const src = mkdtempSync(join(tmpdir(), 'sb-v3-src-'));
  cleanups.push(() => rmSync(src, { recursive: true, force: true }));
  const archive = execFileSync('git', ['-C', ROOT, 'archive', V3_COMMIT, 'relay', 'protocol', 'lib', 'server']);
  execFileSync('tar', ['-x', '-C', src], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  return src;
}

function dataDir(): string {
  const data = mkdtempSync(join(tmpdir(), 'sb-v3-data-'));
  cleanups.push(() => rmSync(data, { recursive: true, force: true }));
  return data;
}

interface AnyCore {
  dispatcher: { dispatch(method: string, params: unknown, session: unknown): Promise<unknown> };
  localSession(): unknown;
  sync: { relayVersion(): number | null };
  stop(): Promise<void>;
}

async function startCore(CoreClass: { start(paths: ReturnType<typeof homePaths>, options: object): Promise<AnyCore> }, url: string, user: string, token: string): Promise<AnyCore> {
  const { home, cleanup } = tempHome(`sb-v3-${user}-`);
  cleanups.push(cleanup);
  const paths = homePaths(home);
  writeConfig(paths, { ...loadConfig(paths).config, relay: url, user, insecure: false }, token);
  const core = await CoreClass.start(paths, { serve: false, log: silentLogger });
  cleanups.unshift(() => core.stop());
  return core;
}

function call<M extends Method>(core: AnyCore, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return core.dispatcher.dispatch(method, params, core.localSession()) as Promise<ResultOf<M>>;
}

test("today's core against a v3 relay: hello again with v3, messages flow, agent requests say to upgrade the relay", async () => {
  const src = v3Sources();
  const data = dataDir();
  const OldStore = ((await import(join(src, 'relay', 'store.ts'))) as typeof import('../../relay/store')).RelayStore;
  const oldAddUser = ((await import(join(src, 'relay', 'accounts.ts'))) as typeof import('../../relay/accounts')).addUser;
  const OldServer = ((await import(join(src, 'relay', 'server.ts'))) as typeof import('../../relay/server')).RelayServer;
  const store = OldStore.open(data);
  const tokens: Record<string, string> = {};
  try {
    for (const user of ['alice', 'bob']) tokens[user] = await oldAddUser(store, user);
  } finally {
    store.close();
  }
  const relay = await OldServer.start({ dataDir: data, host: '127.0.0.1', port: 0 });
  cleanups.push(() => relay.close());
  const alice = await startCore(Core as never, relay.url, 'alice', tokens.alice!);
  const bob = await startCore(Core as never, relay.url, 'bob', tokens.bob!);
  for (const core of [alice, bob]) await waitFor('online over v3', () => (core.sync.relayVersion() === RELAY_PROTOCOL_V3 ? true : undefined), 20_000);
  const sent = await call(alice, 'message/send', { to: 'bob', body: 'over v3', wait_ms: 10_000 });
  assert.equal(sent.status, 'sent', sent.reason ?? '');
  await waitFor('bob has it', async () => (await call(bob, 'inbox/list', {})).messages.find((m) => m.body === 'over v3'));
  let error: RpcErrorObject | undefined;
  try {
    await call(alice, 'agent/list', {});
  } catch (e) {
    error = e as RpcErrorObject;
  }
  assert.equal(error?.code, ErrorCodes.NotSent);
  assert.match(error?.message ?? '', /^agent list: not sent: the relay speaks a protocol before v4; upgrade it for agent identities; nothing was changed$/);
});

test("a v3 core against today's relay: it logs in with v3 and gets an agent's message", async () => {
  const src = v3Sources();
  const data = dataDir();
  const store = RelayStore.open(data);
  const tokens: Record<string, string> = {};
  try {
    for (const user of ['alice', 'bob']) tokens[user] = await addUser(store, user);
  } finally {
    store.close();
  }
  const relay = await RelayServer.start({ dataDir: data, host: '127.0.0.1', port: 0 });
  cleanups.push(() => relay.close());
  const OldCore = ((await import(join(src, 'server', 'core.ts'))) as { Core: { start(paths: unknown, options: object): Promise<AnyCore> } }).Core;
  const oldBob = await startCore(OldCore, relay.url, 'bob', tokens.bob!);
  const alice = await startCore(Core as never, relay.url, 'alice', tokens.alice!);
  await waitFor('the v3 core online', () => (oldBob.sync.relayVersion() === RELAY_PROTOCOL_V3 ? true : undefined), 20_000);
  await waitFor('alice online over v5', () => (alice.sync.relayVersion() === 5 ? true : undefined), 20_000);
  const made = await call(alice, 'agent/create', { name: 'claude' });
  const claude = await startCore(Core as never, relay.url, made.agent.name, made.token);
  await waitFor('the agent online', () => (claude.sync.relayVersion() === 5 ? true : undefined), 20_000);
  const sent = await call(claude, 'message/send', { to: 'bob', body: 'from an agent to an old core', wait_ms: 10_000 });
  assert.equal(sent.status, 'sent', sent.reason ?? '');
  const got = await waitFor('the v3 core has it', async () => (await call(oldBob, 'inbox/list', {})).messages.find((m) => m.body === 'from an agent to an old core'));
  assert.equal(got.from, 'alice.claude');
  const back = await call(oldBob, 'message/send', { to: 'alice.claude', body: 'hello agent', wait_ms: 10_000 });
  assert.equal(back.status, 'sent', back.reason ?? '');
  const reply = await waitFor('the agent has the reply', async () => (await call(claude, 'inbox/list', {})).messages.find((m) => m.body === 'hello agent'));
  assert.equal(reply.from_owner, undefined, 'bob is a person');
});
