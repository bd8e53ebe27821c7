/**
 * A core against a relay from before groups (protocol v1 only, the relay at be8c981, run from
 * its own sources): the relay refuses hello v2 with `error {protocol}` and 4002, so the core
 * says hello again with v1; a direct message is refused at once (it is sent only end-to-end
 * encrypted, which needs a v6 relay), never sent in plain text; a group request or a group send
 * is refused with what to upgrade, and the link stays up (a `#team` on a v1 link would get it
 * dropped).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, type Method, type ParamsOf, type ResultOf, type RpcErrorObject } from '../../protocol/rpc';
import { Core } from '../../server/core';
import { writeConfig, loadConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';
import { silentLogger } from '../../lib/node/log';
import { ROOT, tempHome } from '../support/cli';
import { waitFor } from '../support/wait';
import type { AddUserToStore } from '../support/old-versions';

/** The last commit whose relay speaks v1 only. */
const V1_RELAY_COMMIT = 'be8c981';

interface OldRelay {
  url: string;
  close(): Promise<void>;
}

const cleanups: (() => void | Promise<void>)[] = [];
let relay: OldRelay;
let tokens: Record<string, string>;
const cores: Record<string, Core> = {};

/** The v1 relay's own sources, extracted from git, run in this process with its own store. */
async function startOldRelay(users: string[]): Promise<{ relay: OldRelay; tokens: Record<string, string> }> {
  const src = mkdtempSync(join(tmpdir(), 'sb-v1relay-src-'));
  const data = mkdtempSync(join(tmpdir(), 'sb-v1relay-data-'));
  cleanups.push(() => rmSync(src, { recursive: true, force: true }), () => rmSync(data, { recursive: true, force: true }));
  const archive = execFileSync('git', ['-C', ROOT, 'archive', V1_RELAY_COMMIT, 'relay', 'protocol', 'lib']);
  execFileSync('tar', ['-x', '-C', src], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const { RelayStore } = (await import(join(src, 'relay', 'store.ts'))) as typeof import('../../relay/store');
  const { addUser } = (await import(join(src, 'relay', 'accounts.ts'))) as { addUser: AddUserToStore };
  const { RelayServer } = (await import(join(src, 'relay', 'server.ts'))) as typeof import('../../relay/server');
  const store = RelayStore.open(data);
  const tokens: Record<string, string> = {};
  try {
    for (const user of users) tokens[user] = await addUser(store, user);
  } finally {
    store.close();
  }
  const server = await RelayServer.start({ dataDir: data, host: '127.0.0.1', port: 0 });
  return { relay: { url: server.url, close: () => server.close() }, tokens };
}

async function startCore(user: string): Promise<Core> {
  const { home, cleanup } = tempHome(`sb-v1-${user}-`);
  cleanups.push(cleanup);
  const paths = homePaths(home);
  writeConfig(paths, { ...loadConfig(paths).config, relay: relay.url, user, insecure: false }, tokens[user]);
  const core = await Core.start(paths, { serve: false, log: silentLogger });
  cleanups.unshift(() => core.stop());
  return core;
}

function call<M extends Method>(core: Core, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return core.dispatcher.dispatch(method, params, core.localSession());
}

before(async () => {
  ({ relay, tokens } = await startOldRelay(['alice', 'bob']));
  cores.alice = await startCore('alice');
  cores.bob = await startCore('bob');
  for (const core of Object.values(cores)) await waitFor('online over v1', () => (core.sync.relayVersion() === 1 ? true : undefined), 20_000);
});

after(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await relay?.close();
});

async function refusedDirect(body: string): Promise<void> {
  let error: RpcErrorObject | undefined;
  try {
    await call(cores.alice!, 'message/send', { to: 'bob', body, wait_ms: 10_000 });
  } catch (e) {
    error = e as RpcErrorObject;
  }
  assert.equal(error?.code, ErrorCodes.NotSent);
  assert.match(error?.message ?? '', /^not sent: the relay speaks protocol v1, before end-to-end encrypted messages \(v6\)/);
}

test('the core falls back to v1: a direct message is refused, naming the relay upgrade, and nothing is stored', async () => {
  await refusedDirect('over v1');
  assert.equal((await call(cores.alice!, 'outbox/list', {})).items.length, 0);
  assert.equal((await call(cores.bob!, 'inbox/list', {})).messages.length, 0);
});

test('a group request says the relay must be upgraded; a group send fails with the same words and the link stays up', async () => {
  let error: RpcErrorObject | undefined;
  try {
    await call(cores.alice!, 'group/create', { name: 'team', members: ['bob'] });
  } catch (e) {
    error = e as RpcErrorObject;
  }
  assert.equal(error?.code, ErrorCodes.NotSent);
  assert.match(error?.message ?? '', /the relay speaks protocol v1; upgrade it for groups/);
  const linkedSince = cores.alice!.sync.status().connected_since;
  assert.ok(linkedSince);
  const group = await call(cores.alice!, 'message/send', { to: '#team', body: 'to a group', wait_ms: 10_000 });
  assert.equal(group.status, 'failed');
  assert.match(group.reason ?? '', /the relay speaks protocol v1; upgrade it for groups/);
  // The link was never dropped for it: the next direct message is refused on the same link, for its own reason.
  assert.equal(cores.alice!.sync.relayVersion(), 1);
  await refusedDirect('still here');
  assert.equal(cores.alice!.sync.status().connected_since, linkedSince, 'the same link: never dropped');
});
