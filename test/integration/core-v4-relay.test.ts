/**
 * Relay protocol v5 (the key directory, issue 18) and v4 before it, each side run from its own
 * sources at the last commit before v5 (extracted from git, run in this process):
 * - today's core against a v4 relay: the relay refuses hello v5, the core says hello again with
 *   v4, messages flow, and `trust/show` answers at once from what is pinned (none: `no_keys`);
 * - a v4 core against today's relay: it logs in with v4 as before, messages flow both ways, and
 *   today's core, finding no keys for it, still sends to it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCodes, type Method, type ParamsOf, type ResultOf, type RpcErrorObject } from '../../protocol/rpc';
import { RELAY_PROTOCOL_V4, RELAY_PROTOCOL_V5 } from '../../protocol/relay';
import { Core } from '../../server/core';
import { writeConfig, loadConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';
import { silentLogger } from '../../lib/node/log';
import { RelayStore } from '../../relay/store';
import { addUser } from '../../relay/accounts';
import { RelayServer } from '../../relay/server';
import { ROOT, tempHome } from '../support/cli';
import { waitFor } from '../support/wait';

/** The last commit whose relay and core speak protocol v4 at most. */
const V4_COMMIT = '57fdabd';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function v4Sources(): string {
  const src = mkdtempSync(join(tmpdir(), 'sb-v4-src-'));
  cleanups.push(() => rmSync(src, { recursive: true, force: true }));
  const archive = execFileSync('git', ['-C', ROOT, 'archive', V4_COMMIT, 'relay', 'protocol', 'lib', 'server']);
  execFileSync('tar', ['-x', '-C', src], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  return src;
}

function dataDir(): string {
  const data = mkdtempSync(join(tmpdir(), 'sb-v4-data-'));
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
  const { home, cleanup } = tempHome(`sb-v4-${user}-`);
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

async function failure(promise: Promise<unknown>): Promise<RpcErrorObject | undefined> {
  try {
    await promise;
  } catch (e) {
    return e as RpcErrorObject;
  }
  return undefined;
}

test("today's core against a v4 relay: hello again with v4, messages flow, trust answers from the pins", async () => {
  const src = v4Sources();
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
  for (const core of [alice, bob]) await waitFor('online over v4', () => (core.sync.relayVersion() === RELAY_PROTOCOL_V4 ? true : undefined), 20_000);
  const sent = await call(alice, 'message/send', { to: 'bob', body: 'over v4', wait_ms: 10_000 });
  assert.equal(sent.status, 'sent', sent.reason ?? '');
  await waitFor('bob has it', async () => (await call(bob, 'inbox/list', {})).messages.find((m) => m.body === 'over v4'));
  const error = await failure(call(alice, 'trust/show', { user: 'bob' }));
  assert.equal(error?.code, ErrorCodes.TrustRefused);
  assert.match(error?.message ?? '', /^no device keys known for bob: the relay is not reachable \(or speaks a protocol before v5\) and none are pinned yet$/);
});

test("a v4 core against today's relay: it logs in with v4; messages flow both ways with today's core", async () => {
  const src = v4Sources();
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
  await waitFor('the v4 core online', () => (oldBob.sync.relayVersion() === RELAY_PROTOCOL_V4 ? true : undefined), 20_000);
  await waitFor('alice online over v5', () => (alice.sync.relayVersion() === RELAY_PROTOCOL_V5 ? true : undefined), 20_000);
  const sent = await call(alice, 'message/send', { to: 'bob', body: 'to an old core', wait_ms: 10_000 });
  assert.equal(sent.status, 'sent', sent.reason ?? '');
  await waitFor('the v4 core has it', async () => (await call(oldBob, 'inbox/list', {})).messages.find((m) => m.body === 'to an old core'));
  const back = await call(oldBob, 'message/send', { to: 'alice', body: 'from an old core', wait_ms: 10_000 });
  assert.equal(back.status, 'sent', back.reason ?? '');
  await waitFor('alice has the reply', async () => (await call(alice, 'inbox/list', {})).messages.find((m) => m.body === 'from an old core'));
  // The old core published nothing: alice knows no keys for bob, and says so.
  assert.equal((await failure(call(alice, 'trust/show', { user: 'bob' })))?.code, ErrorCodes.TrustRefused);
});
