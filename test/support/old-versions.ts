/**
 * Runs an earlier commit's relay or core beside today's, in this process: the sources of
 * `relay/`, `protocol/`, `lib/` and `server/` at that commit, extracted from git into a temp dir
 * (with this checkout's node_modules) and imported through tsx. For the relay protocol's
 * version-mix tests (core-v3-relay, core-v4-relay).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { homePaths } from '../../lib/node/paths';
import { silentLogger } from '../../lib/node/log';
import { addUser } from '../../relay/accounts';
import { RelayServer } from '../../relay/server';
import { RelayStore } from '../../relay/store';
import { sqliteAccounts } from '../../relay/storage/sqlite/storage';
import type { Method, ParamsOf, ResultOf, RpcErrorObject } from '../../protocol/rpc';
import { loadConfig, writeConfig } from '../../server/config';
import { ROOT, tempHome } from './cli';

/** A core of any version, as far as these tests use it. */
export interface AnyCore {
  dispatcher: { dispatch(method: string, params: unknown, session: unknown): Promise<unknown> };
  localSession(): unknown;
  sync: { relayVersion(): number | null };
  stop(): Promise<void>;
}

export interface CoreClass {
  start(paths: ReturnType<typeof homePaths>, options: object): Promise<AnyCore>;
}

/** How every version adds a user to an open store (earlier commits' `addUser` took the RelayStore itself). */
export type AddUserToStore = (store: RelayStore, name: string) => Promise<string>;

/** The relay modules a test needs, today's or a commit's. */
export interface RelayModules {
  RelayStore: typeof RelayStore;
  addUser: AddUserToStore;
  RelayServer: typeof RelayServer;
}

export const TODAYS_RELAY: RelayModules = { RelayStore, addUser: (store, name) => addUser(sqliteAccounts(store), name), RelayServer };

export class OldVersions {
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  /** `tag` names the temp dirs (e.g. `v4`). */
  constructor(private readonly commit: string, private readonly tag: string) {}

  /** The commit's sources, extracted once per call (each test its own copy). */
  sources(): string {
    const src = mkdtempSync(join(tmpdir(), `sb-${this.tag}-src-`));
    this.cleanups.push(() => rmSync(src, { recursive: true, force: true }));
    // The sources outgrew execFileSync's default 1 MiB buffer (v5's tree is larger than that).
    const archive = execFileSync('git', ['-C', ROOT, 'archive', this.commit, 'relay', 'protocol', 'lib', 'server'], { maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', src], { input: archive });
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    return src;
  }

  async oldRelay(src: string): Promise<RelayModules> {
    const load = async <T>(file: string) => (await import(join(src, 'relay', file))) as T;
    return {
      RelayStore: (await load<typeof import('../../relay/store')>('store.ts')).RelayStore,
      addUser: (await load<{ addUser: AddUserToStore }>('accounts.ts')).addUser,
      RelayServer: (await load<typeof import('../../relay/server')>('server.ts')).RelayServer,
    };
  }

  async oldCore(src: string): Promise<CoreClass> {
    return ((await import(join(src, 'server', 'core.ts'))) as { Core: CoreClass }).Core;
  }

  /** A relay of those modules on a fresh data dir with `users`, on 127.0.0.1; its tokens by user. */
  async startRelay(modules: RelayModules, users: string[]): Promise<{ url: string; tokens: Record<string, string> }> {
    const data = mkdtempSync(join(tmpdir(), `sb-${this.tag}-data-`));
    this.cleanups.push(() => rmSync(data, { recursive: true, force: true }));
    const store = modules.RelayStore.open(data);
    const tokens: Record<string, string> = {};
    try {
      for (const user of users) tokens[user] = await modules.addUser(store, user);
    } finally {
      store.close();
    }
    const relay = await modules.RelayServer.start({ dataDir: data, host: '127.0.0.1', port: 0 });
    this.cleanups.unshift(() => relay.close());
    return { url: relay.url, tokens };
  }

  /** A core of `Class` in a temp home configured for `user` at `url`, stopped before its home goes. */
  async startCore(Class: CoreClass, url: string, user: string, token: string): Promise<AnyCore> {
    const { home, cleanup } = tempHome(`sb-${this.tag}-${user}-`);
    this.cleanups.push(cleanup);
    const paths = homePaths(home);
    writeConfig(paths, { ...loadConfig(paths).config, relay: url, user, insecure: false }, token);
    const core = await Class.start(paths, { serve: false, log: silentLogger });
    this.cleanups.unshift(() => core.stop());
    return core;
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) await cleanup();
  }
}

export function call<M extends Method>(core: AnyCore, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return core.dispatcher.dispatch(method, params, core.localSession()) as Promise<ResultOf<M>>;
}

/** The JSON-RPC error a call ended with, or undefined when it answered. */
export async function failure(promise: Promise<unknown>): Promise<RpcErrorObject | undefined> {
  try {
    await promise;
  } catch (e) {
    return e as RpcErrorObject;
  }
  return undefined;
}
