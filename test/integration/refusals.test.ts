/**
 * Clear refusals instead of internal errors or silent risks: a damaged store (core, direct CLI,
 * relay), NUL in a search (direct and delegated), and a `ws://` relay on another machine
 * (init, config/set, the core's connect).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, PROTOCOL_VERSION, type CoreStatus } from '../../protocol/rpc';
import { cleartextRelayProblem, isLoopbackHost } from '../../protocol/relay-url';
import { CliError, ExitCode } from '../../lib/node/cli/errors';
import { fromRpcError, isRpcError } from '../../server/cli/rpc-errors';
import { SocketClient } from '../../server/cli/socket-client';
import { tryDelegate } from '../../server/cli/transport';
import type * as Direct from '../../server/direct';
import { homePaths } from '../../lib/node/paths';
import { DAEMON, ROOT, kill9, run, runDaemon, startCore, tempHome } from '../support/cli';
import { runRelay } from '../support/relay';
import { spawn } from 'node:child_process';

const GARBAGE = 'this is not a database, just bytes someone wrote here\n'.repeat(100);

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line of error, got: ${stderr}`);
  return lines[0]!;
}

async function rpc(home: string): Promise<SocketClient> {
  const client = await SocketClient.connect(homePaths(home).socket);
  await client.call('initialize', { client: { name: 'test', version: '1' }, protocol: PROTOCOL_VERSION });
  return client;
}

function loadDirect(): typeof Direct {
  return require(join(ROOT, 'dist', 'direct.js')) as typeof Direct;
}

describe('a damaged store', () => {
  const damaged = (text: string, path: string) => {
    assert.ok(text.includes(path), `names the file: ${text}`);
    assert.match(text, /is damaged \(SQLite: file is not a database\)/);
    assert.ok(text.includes(`mv ${path} ${path}.damaged`), `says how to move it aside: ${text}`);
  };

  it('the core names the file and what to do', async () => {
    const { home, cleanup } = tempHome();
    try {
      writeFileSync(join(home, 'store.db'), GARBAGE);
      const r = await runDaemon(home);
      assert.equal(r.code, 1);
      const line = oneLine(r.stderr);
      damaged(line, join(home, 'store.db'));
      assert.match(line, /the relay sends again only messages this device had not yet acknowledged/);
    } finally {
      cleanup();
    }
  });

  it('a CLI verb run directly names the file and what to do', async () => {
    const { home, cleanup } = tempHome();
    try {
      writeFileSync(join(home, 'store.db'), GARBAGE);
      const r = await run(home, ['inbox']);
      assert.equal(r.code, 1);
      damaged(oneLine(r.stderr), join(home, 'store.db'));
    } finally {
      cleanup();
    }
  });

  it('`doctor` reports it as a failed check and goes on checking', async () => {
    const { home, cleanup } = tempHome();
    try {
      writeFileSync(join(home, 'store.db'), GARBAGE);
      const r = await run(home, ['doctor']);
      assert.equal(r.code, 1, r.stderr);
      const line = r.stdout.split('\n').find((l) => l.startsWith('fail  store: '));
      assert.ok(line, r.stdout);
      damaged(line, join(home, 'store.db'));
      assert.match(r.stdout, /relay config: no relay configured/);
    } finally {
      cleanup();
    }
  });

  it('the relay (serve and add-user) names the file and what to do', async () => {
    const { home: data, cleanup } = tempHome('sb-relay-');
    try {
      const db = join(data, 'relay.db');
      writeFileSync(db, GARBAGE, { mode: 0o600 });
      for (const args of [['add-user', 'bob', '--data', data], ['serve', '--host', '127.0.0.1', '--port', '0', '--data', data]]) {
        const r = await runRelay(args);
        assert.equal(r.code, 1, args.join(' '));
        const line = oneLine(r.stderr);
        damaged(line, db);
        assert.match(line, /restore the latest backup/);
      }
    } finally {
      cleanup();
    }
  });
});

describe('NUL in a search query', () => {
  const query = 'hello\u0000world';

  it('is a usage error when the CLI runs directly (invalid params, exit 2)', async () => {
    const { home, cleanup } = tempHome();
    try {
      const opened = await loadDirect().openDirect(homePaths(home), { sync: false });
      assert.ok(opened.ok);
      try {
        const error = await opened.core.call('search', { query }).then(
          () => assert.fail('the search succeeded'),
          (e: unknown) => e,
        );
        assert.ok(isRpcError(error), String(error));
        assert.equal(error.code, ErrorCodes.InvalidParams);
        assert.match(error.message, /query: must not contain NUL characters/);
        assert.equal(fromRpcError(error).exitCode, ExitCode.Usage);
      } finally {
        await opened.core.close();
      }
    } finally {
      cleanup();
    }
  });

  it('is an invalid-params error from the core, and exit 2 for a delegated CLI', async () => {
    const { home, cleanup } = tempHome();
    const core = await startCore(home);
    try {
      const client = await rpc(home);
      try {
        await assert.rejects(client.call('search', { query }), (e: unknown) => isRpcError(e) && e.code === ErrorCodes.InvalidParams && /NUL/.test(e.message));
      } finally {
        client.close();
      }
      const delegated = await tryDelegate(homePaths(home));
      assert.ok(delegated?.delegated);
      try {
        await assert.rejects(delegated.call('search', { query }), (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.Usage && /NUL/.test(e.message));
      } finally {
        await delegated.close();
      }
      // The core is still fine.
      assert.equal((await run(home, ['search', 'hello'])).code, 0);
    } finally {
      await kill9(core);
      cleanup();
    }
  });
});

describe('a ws:// relay on another machine', () => {
  it('loopback is 127.0.0.0/8, ::1 and localhost, nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'app.localhost', '[::1]', '::1', 'localhost.']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['128.0.0.1', '10.0.0.1', '0.0.0.0', 'localhost.example.com', '127.0.0.1.example.com', 'example.com', '[::2]', '::ffff:10.0.0.1']) assert.ok(!isLoopbackHost(host), host);
    assert.equal(cleartextRelayProblem('wss://relay.example.com'), undefined);
    assert.equal(cleartextRelayProblem('ws://127.0.0.1:8787'), undefined);
    assert.equal(cleartextRelayProblem('ws://relay.example.com', true), undefined);
    assert.match(cleartextRelayProblem('ws://relay.example.com:8787') ?? '', /unencrypted to relay\.example\.com; use wss:\/\/.*--insecure/);
  });

  it('`init` refuses it without --insecure (exit 2, nothing written) and stores the opt-in with it', async () => {
    const { home, cleanup } = tempHome();
    try {
      const paths = homePaths(home);
      const refused = await run(home, ['init', '--relay', 'ws://relay.example.com:8787', '--user', 'alice', '--token', 'secret']);
      assert.equal(refused.code, ExitCode.Usage);
      assert.match(oneLine(refused.stderr), /^switchboard: ws:\/\/relay\.example\.com:8787 would send the relay token .* use wss:\/\/.*`switchboard init --insecure`/);
      assert.throws(() => readFileSync(paths.token), /ENOENT/);
      for (const relay of ['ws://127.0.0.1:9', 'ws://localhost:9', 'ws://[::1]:9', 'wss://relay.example.com']) {
        assert.equal((await run(home, ['init', '--relay', relay, '--user', 'alice', '--token', 'secret'])).code, 0, relay);
      }
      assert.equal((await run(home, ['init', '--relay', 'ws://0.0.0.0:9', '--user', 'alice', '--token', 'secret', '--insecure'])).code, 0);
      const config = JSON.parse(readFileSync(paths.config, 'utf8')) as { relay: string; insecure: boolean };
      assert.deepEqual([config.relay, config.insecure], ['ws://0.0.0.0:9', true]);
    } finally {
      cleanup();
    }
  });

  it('`config/set` refuses it unless `insecure` is true; the core refuses to connect to it from a hand-edited config', async () => {
    const { home, cleanup } = tempHome();
    const paths = homePaths(home);
    // Written by hand: a non-loopback ws:// relay without the opt-in. 0.0.0.0 stays on this machine.
    mkdirSync(home, { recursive: true });
    writeFileSync(paths.config, JSON.stringify({ relay: 'ws://0.0.0.0:9', user: 'alice', device: 'dev-1' }), { mode: 0o600 });
    writeFileSync(paths.token, 'secret\n', { mode: 0o600 });
    const core = await startCore(home);
    try {
      const client = await rpc(home);
      try {
        const status = (await client.call('status/get', {})) as CoreStatus;
        assert.equal(status.sync.state, 'error');
        assert.match(status.sync.last_error ?? '', /^refusing to connect: ws:\/\/0\.0\.0\.0:9 would send the relay token/);
        await assert.rejects(
          client.call('config/set', { relay: 'ws://0.0.0.0:9', user: 'alice', token: 'secret' }),
          (e: unknown) => isRpcError(e) && e.code === ErrorCodes.InvalidParams && /relay: ws:\/\/0\.0\.0\.0:9 would send the relay token/.test(e.message),
        );
        await client.call('config/set', { relay: 'ws://0.0.0.0:9', user: 'alice', token: 'secret', insecure: true });
        const config = JSON.parse(readFileSync(paths.config, 'utf8')) as { insecure: boolean };
        assert.equal(config.insecure, true);
        const after = (await client.call('status/get', {})) as CoreStatus;
        assert.doesNotMatch(after.sync.last_error ?? '', /refusing to connect/);
      } finally {
        client.close();
      }
      // Through the CLI's delegated init too.
      const refused = await run(home, ['init', '--relay', 'ws://relay.example.com', '--user', 'alice', '--token', 'secret']);
      assert.equal(refused.code, ExitCode.Usage);
    } finally {
      await kill9(core);
      cleanup();
    }
  });
});
