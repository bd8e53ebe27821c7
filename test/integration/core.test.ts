/**
 * The core and the CLI as real processes on real sockets over real SQLite files.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes, PROTOCOL_VERSION, type SendResult } from '../../protocol/rpc';
import { SocketClient } from '../../server/cli/socket-client';
import { homePaths, MAX_SOCKET_PATH_BYTES } from '../../lib/node/paths';
import { socketAnswers } from '../../server/socket-probe';
import { readHolder } from '../../server/holder';
import { isLocked, StoreLock } from '../../server/lock';
import { CLI, DAEMON, exited, kill9, run, runOk, startCore, tempHome } from '../support/cli';
import { reapWithThisProcess } from '../support/reap';
import { waitFor } from '../support/wait';

async function client(home: string): Promise<SocketClient> {
  const c = await SocketClient.connect(homePaths(home).socket);
  await c.call('initialize', { client: { name: 'test', version: '1' }, protocol: PROTOCOL_VERSION });
  return c;
}

/** Writes raw bytes to the core and collects what comes back until `until` matches or the socket closes. */
function rawExchange(socketPath: string, payload: string | Buffer, until: RegExp, timeoutMs = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer matching ${until} (got ${JSON.stringify(text)})`));
    }, timeoutMs);
    s.on('data', (d) => {
      text += d.toString();
      if (until.test(text)) {
        clearTimeout(timer);
        s.destroy();
        resolve({ text, closed: false });
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    s.on('error', () => {});
    s.write(payload);
  });
}

const frame = (obj: unknown) => {
  const json = typeof obj === 'string' ? obj : JSON.stringify(obj);
  return `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
};

describe('core with CLI clients', () => {
  const { home, cleanup } = tempHome();
  let core: Awaited<ReturnType<typeof startCore>>;
  before(async () => {
    core = await startCore(home);
  });
  after(async () => {
    await kill9(core);
    cleanup();
  });

  test('50 parallel CLI sends are each accepted exactly once', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => run(home, ['send', '--to', 'bob', '-m', `parallel ${i}`, '--client-id', `par-${i}`, '--json'])),
    );
    for (const r of results) {
      assert.equal(r.code, 3, r.stderr);
      const verdict = JSON.parse(r.stdout) as SendResult & { delegated: boolean };
      assert.equal(verdict.status, 'queued');
      assert.equal(verdict.delegated, true);
    }
    const outbox = JSON.parse(await runOk(home, ['outbox', 'list', '--json'])) as { items: { client_message_id: string }[] };
    const ids = outbox.items.map((i) => i.client_message_id).filter((id) => id.startsWith('par-'));
    assert.equal(ids.length, 50);
    assert.equal(new Set(ids).size, 50);
    // Retrying the same sends answers the earlier verdicts and stores nothing new.
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => run(home, ['send', '--to', 'bob', '-m', `parallel ${i}`, '--client-id', `par-${i}`, '--json'])));
    for (const r of again) assert.equal(JSON.parse(r.stdout).status, 'queued');
    const after = JSON.parse(await runOk(home, ['outbox', 'list', '--json'])) as { items: unknown[] };
    assert.equal(after.items.length, outbox.items.length);
  });

  test('a delegated send loads dist/cli.js alone, and none of the node modules only other verbs need', async () => {
    // Recorded at exit by a preloaded script: every file required, and every node built-in loaded.
    const hook = join(home, 'record-loads.js');
    const record = join(home, 'loads.json');
    writeFileSync(
      hook,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ files: Object.keys(require.cache).filter((f) => f !== __filename), builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)) })));\n`,
    );
    const r = await run(home, ['send', '--to', 'bob', '-m', 'lean', '--json'], { env: { NODE_OPTIONS: `--require=${hook}` } });
    assert.equal(r.code, 3, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { delegated: boolean }).delegated, true);
    const loads = JSON.parse(readFileSync(record, 'utf8')) as { files: string[]; builtins: string[] };
    assert.deepEqual(loads.files, [CLI], 'no other bundle (direct.js, the verbs\' own bundles) is required');
    // Each of these costs every call milliseconds of start (loading node:crypto alone was about a tenth of a delegated send).
    const heavy = ['crypto', 'child_process', 'fs/promises', 'readline', 'dgram', 'zlib', 'http', 'https', 'tls', 'worker_threads'];
    assert.deepEqual(loads.builtins.filter((m) => heavy.includes(m)), []);
  });

  test('the same client id with different content is a conflict (exit 5)', async () => {
    await run(home, ['send', '--to', 'bob', '-m', 'first', '--client-id', 'conf-1']);
    const r = await run(home, ['send', '--to', 'bob', '-m', 'second', '--client-id', 'conf-1']);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /already used for different content/);
  });

  test('socket, store, lock and home permissions', () => {
    const paths = homePaths(home);
    assert.equal(statSync(paths.home).mode & 0o777, 0o700);
    assert.ok(lstatSync(paths.socket).isSocket());
    assert.equal(lstatSync(paths.socket).mode & 0o777, 0o600);
    for (const file of [paths.store, paths.lock, paths.holder, paths.config]) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  });

  test('malformed JSON, oversized frames, unknown methods, bad params and old protocols get clear errors; the core stays up', async () => {
    const socket = homePaths(home).socket;
    const parse = await rawExchange(socket, frame('{"jsonrpc":"2.0","id":1,'), /"error"/);
    assert.match(parse.text, new RegExp(`"code":${ErrorCodes.ParseError}`));

    const big = await rawExchange(socket, `Content-Length: ${10 * 1024 * 1024}\r\n\r\n{`, /exceeds/);
    assert.match(big.text, /frame of 10485760 bytes exceeds/);

    const noHeader = await rawExchange(socket, 'garbage without a header\r\n\r\n', /Content-Length/);
    assert.match(noHeader.text, /no valid Content-Length/);

    const notInit = await rawExchange(socket, frame({ jsonrpc: '2.0', id: 1, method: 'inbox/list', params: {} }), /"error"/);
    assert.match(notInit.text, /send \\"initialize\\" before/);

    const old = await rawExchange(socket, frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocol: 0 } }), /"error"/);
    assert.match(old.text, /no longer serves/);

    const newer = await rawExchange(socket, frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocol: PROTOCOL_VERSION + 1 } }), /"error"/);
    assert.match(newer.text, /switchboard daemon restart/);

    const c = await client(home);
    try {
      await assert.rejects(c.call('no/such', {}), (e: { code: number; message: string }) => e.code === ErrorCodes.MethodNotFound && /unknown method "no\/such"/.test(e.message));
      await assert.rejects(c.call('message/send', { to: 'bob' }), (e: { code: number; message: string }) => e.code === ErrorCodes.InvalidParams && /body/.test(e.message));
      await assert.rejects(c.call('message/send', { to: 'bad name!', body: 'x' }), (e: { code: number }) => e.code === ErrorCodes.InvalidParams);
      await assert.rejects(c.call('message/send', { to: 'bob', body: 'x', extra: 1 }), (e: { message: string }) => /unknown field "extra"/.test(e.message));
      await assert.rejects(c.call('message/get', { id: 'nope' }), (e: { code: number }) => e.code === ErrorCodes.NotFound);
      const status = (await c.call('status/get', {})) as { pid: number };
      assert.equal(status.pid, core.pid);
    } finally {
      c.close();
    }
  });

  test('a stalled client does not block another client', async () => {
    const socket = homePaths(home).socket;
    // One connects and says nothing; one sends half a frame; one pipelines requests but never reads.
    const silent = connect(socket);
    const half = connect(socket);
    half.write('Content-Length: 100\r\n\r\n{"jsonrpc":');
    const deaf = connect(socket);
    deaf.pause();
    const init = frame({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocol: PROTOCOL_VERSION } });
    deaf.write(init + Array.from({ length: 200 }, (_, i) => frame({ jsonrpc: '2.0', id: i + 1, method: 'inbox/list', params: { limit: 1000 } })).join(''));
    try {
      const r = await run(home, ['send', '--to', 'carol', '-m', 'still flowing', '--json']);
      assert.equal(JSON.parse(r.stdout).status, 'queued');
    } finally {
      silent.destroy();
      half.destroy();
      deaf.destroy();
    }
  });

  test('events resume from a cursor with no gaps and no repeats', async () => {
    const c = await client(home);
    let cursor: number;
    try {
      cursor = ((await c.call('events/subscribe', {})) as { cursor: number }).cursor;
    } finally {
      c.close();
    }
    await runOk(home, ['send', '--to', 'dave', '-m', 'e1'], 3);
    await runOk(home, ['send', '--to', 'dave', '-m', 'e2'], 3);
    const seen: { cursor: number; body?: string }[] = [];
    const d = await client(home);
    try {
      d.onNotification((method, params) => {
        const p = params as { cursor: number; message?: { body: string } };
        if (method === 'message/updated') seen.push({ cursor: p.cursor, body: p.message?.body });
      });
      await d.call('events/subscribe', { since: cursor });
      await waitFor('the replay of e1 and e2', () => (seen.length >= 2 ? true : undefined), 10_000, 20);
      // A live event after the replay: a repeat of e1 or e2 would come before it.
      await runOk(home, ['send', '--to', 'dave', '-m', 'e3'], 3);
      await waitFor('e3, live', () => (seen.some((s) => s.body === 'e3') ? true : undefined), 10_000, 20);
    } finally {
      d.close();
    }
    assert.deepEqual(
      seen.map((s) => s.body),
      ['e1', 'e2', 'e3'],
    );
    assert.ok(seen.every((s) => s.cursor > cursor));
  });
});

describe('direct and delegated runs print the same', () => {
  test('every read-only verb, and send, print identically', async () => {
    const { home, cleanup } = tempHome();
    try {
      const seeded = JSON.parse((await run(home, ['send', '--to', 'erin', '-m', 'hello \u001b[31mred\u001b[0m world', '--client-id', 'same-1', '--json'])).stdout) as SendResult;
      const verbs = [['inbox'], ['outbox'], ['outbox', 'list', '--json'], ['search', 'hello'], ['search', 'hello', '--json'], ['peers'], ['read', seeded.id], ['inbox', '--json']];
      const direct = await Promise.all(verbs.map((v) => run(home, v)));
      const directSend = await run(home, ['send', '--to', 'erin', '-m', 'hello \u001b[31mred\u001b[0m world', '--client-id', 'same-1']);
      const core = await startCore(home);
      try {
        const delegated = await Promise.all(verbs.map((v) => run(home, v)));
        for (let i = 0; i < verbs.length; i++) {
          assert.equal(delegated[i]!.stdout, direct[i]!.stdout, `switchboard ${verbs[i]!.join(' ')}`);
          assert.equal(delegated[i]!.code, direct[i]!.code);
        }
        const delegatedSend = await run(home, ['send', '--to', 'erin', '-m', 'hello \u001b[31mred\u001b[0m world', '--client-id', 'same-1']);
        assert.equal(delegatedSend.stdout, directSend.stdout);
        assert.equal(delegatedSend.code, 3);
        // Peer text never reaches the terminal raw.
        const read = delegated[verbs.findIndex((v) => v[0] === 'read')]!.stdout;
        assert.ok(!read.includes('\u001b'));
        assert.match(read, /hello <U\+001B>\[31mred<U\+001B>\[0m world/);
      } finally {
        await kill9(core);
      }
    } finally {
      cleanup();
    }
  });

  test('--file is resolved by the CLI before delegation; a missing file is a usage error', async () => {
    const { home, cleanup } = tempHome();
    const core = await startCore(home);
    try {
      const dir = join(home, 'work');
      mkdirSync(dir);
      writeFileSync(join(dir, 'note.txt'), 'from a file');
      const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli.js'), 'send', '--to', 'frank', '--file', 'note.txt', '--json'], {
          cwd: dir,
          env: { ...process.env, SWITCHBOARD_HOME: home },
        });
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.on('close', (code) => resolve({ code, stdout }));
      });
      assert.equal(r.code, 3);
      const id = JSON.parse(r.stdout).id as string;
      assert.match(await runOk(home, ['read', id]), /from a file/);
      const missing = await run(home, ['send', '--to', 'frank', '--file', join(dir, 'absent.txt')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /absent\.txt: no such file/);
    } finally {
      await kill9(core);
      cleanup();
    }
  });
});

describe('lock and socket lifecycle', () => {
  test('two cores started at the same instant: exactly one wins, the other names the holder', async () => {
    const { home, cleanup } = tempHome();
    const spawnCore = () => reapWithThisProcess(spawn(process.execPath, [DAEMON, '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const a = spawnCore();
    const b = spawnCore();
    const stderr = new Map<number, string>();
    for (const c of [a, b]) c.stderr!.on('data', (d) => stderr.set(c.pid!, (stderr.get(c.pid!) ?? '') + d));
    try {
      const loser = await Promise.race([exited(a).then(() => a), exited(b).then(() => b)]);
      const winner = loser === a ? b : a;
      assert.equal(loser.exitCode, 4);
      assert.match(stderr.get(loser.pid!) ?? '', new RegExp(`held by a core \\(pid ${winner.pid}`));
      await waitFor("the winner's socket answers", async () => ((await socketAnswers(homePaths(home).socket)) ? true : undefined), 10_000, 25);
      assert.equal(winner.exitCode, null);
      const status = JSON.parse(await runOk(home, ['status', '--json'])) as { pid: number };
      assert.equal(status.pid, winner.pid);
    } finally {
      await kill9(a);
      await kill9(b);
      cleanup();
    }
  });

  test('SIGTERM while the core starts (lock taken, not yet serving): it stops cleanly, exit 0, lock and socket released; a new core starts', async () => {
    const { home, cleanup } = tempHome();
    const paths = homePaths(home);
    // config.json as a FIFO: the core reads it after taking the lock and before binding its
    // socket, and that read waits for a writer, so the start is held right there until this test
    // writes the config: the signal lands mid-start on every run, with no timing involved.
    execFileSync('mkfifo', ['-m', '600', paths.config]);
    const core = reapWithThisProcess(spawn(process.execPath, [DAEMON, '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    core.stderr!.on('data', (d) => (stderr += d));
    const gone = exited(core);
    try {
      // core.json names the holder once the lock is taken.
      await waitFor('the starting core to take the lock', () => (readHolder(paths)?.pid === core.pid ? true : undefined), 20_000, 25);
      core.kill('SIGTERM');
      // Let the start go on: the config is written once the core opens the FIFO to read it (ENXIO until then).
      await waitFor('the core to read its config, or to be gone', () => {
        if (core.exitCode !== null || core.signalCode !== null) return true;
        let fd: number;
        try {
          fd = openSync(paths.config, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENXIO') return undefined;
          throw error;
        }
        writeSync(fd, '{}');
        closeSync(fd);
        return true;
      }, 20_000, 25);
      // Bounded: a core that forgot the signal would serve on.
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([gone, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the core still runs 20 s after a SIGTERM during its start; stderr: ${stderr}`)), 20_000)))]).finally(() => clearTimeout(timer));
      assert.equal(core.signalCode, null, `the signal ended the process mid-start instead of stopping it; stderr: ${stderr}`);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /SIGTERM: stopping/);
      assert.equal(existsSync(paths.socket), false, 'the socket file is removed');
      assert.equal(isLocked(paths), false, 'the lock is released');
      const next = await startCore(home);
      const status = JSON.parse(await runOk(home, ['status', '--json'])) as { pid: number };
      assert.equal(status.pid, next.pid);
      await kill9(next);
    } finally {
      await kill9(core);
      cleanup();
    }
  });

  test('SIGTERM while the core waits for a CLI verb that holds the store: it stops waiting and exits 0 without taking the lock', async () => {
    const { home, cleanup } = tempHome();
    const paths = homePaths(home);
    // This process holds the lock as a CLI verb running directly would; a starting core waits up to 15 s for such a holder.
    const held = StoreLock.acquire(paths, { kind: 'cli', socket: null });
    const core = reapWithThisProcess(spawn(process.execPath, [DAEMON, '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    core.stderr!.on('data', (d) => (stderr += d));
    const gone = exited(core);
    try {
      await waitFor('the core to say it waits for the store', () => (/waiting up to 15 s/.test(stderr) ? true : undefined), 20_000, 25);
      core.kill('SIGTERM');
      // Still held here: a core that kept waiting would give up only at its deadline, with exit 4.
      const code = await gone;
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /cannot start a core/);
      assert.equal(existsSync(paths.socket), false, 'no socket was bound');
    } finally {
      held.release();
      await kill9(core);
    }
    try {
      const next = await startCore(home);
      await kill9(next);
    } finally {
      cleanup();
    }
  });

  test('a core killed with kill -9 leaves its socket; the next core starts at once; the CLI meanwhile works directly', async () => {
    const { home, cleanup } = tempHome();
    try {
      const first = await startCore(home);
      await kill9(first);
      assert.ok(existsSync(homePaths(home).socket), 'socket file left behind');
      // With the holder dead the lock is free: verbs run directly.
      const direct = JSON.parse(await runOk(home, ['status', '--json'])) as { core_running: boolean };
      assert.equal(direct.core_running, false);
      const second = await startCore(home);
      const status = JSON.parse(await runOk(home, ['status', '--json'])) as { pid: number };
      assert.equal(status.pid, second.pid);
      await kill9(second);
    } finally {
      cleanup();
    }
  });

  test('lock held but socket silent: exit 4 naming the holder', async () => {
    const { home, cleanup } = tempHome();
    // A process that holds the lock and serves nothing: a core that we stop (SIGSTOP) after it starts, with its socket removed.
    const core = await startCore(home);
    try {
      process.kill(core.pid!, 'SIGSTOP');
      const { rmSync } = await import('node:fs');
      rmSync(homePaths(home).socket);
      const r = await run(home, ['inbox']);
      assert.equal(r.code, 4);
      assert.match(r.stderr, new RegExp(`locked by pid ${core.pid}.*no core answers`));
    } finally {
      process.kill(core.pid!, 'SIGCONT');
      await kill9(core);
      cleanup();
    }
  });

  test('kill -9 in the middle of a burst: every answered send is present exactly once after restart', async () => {
    const { home, cleanup } = tempHome();
    let core: Awaited<ReturnType<typeof startCore>> | undefined;
    const clients: SocketClient[] = [];
    try {
      core = await startCore(home);
      const answered = new Map<string, string>();
      for (let i = 0; i < 8; i++) clients.push(await client(home));
      let n = 0;
      const burst = clients.map(async (c, ci) => {
        for (;;) {
          const cid = `burst-${ci}-${n++}`;
          try {
            const r = (await c.call('message/send', { to: 'gina', body: `burst ${cid}`, client_message_id: cid })) as SendResult;
            answered.set(cid, r.id);
          } catch {
            return;
          }
        }
      });
      const burstDeadline = Date.now() + 60_000;
      while (answered.size < 200) {
        if (Date.now() > burstDeadline) throw new Error(`timed out waiting for 200 answered sends (${answered.size} so far)`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await kill9(core);
      await Promise.all(burst);
      const restarted = await startCore(home);
      try {
        const c = await client(home);
        let items: { client_message_id: string; id: string }[];
        try {
          items = ((await c.call('outbox/list', {})) as { items: { client_message_id: string; id: string }[] }).items;
        } finally {
          c.close();
        }
        const byClientId = new Map<string, number>();
        for (const item of items) byClientId.set(item.client_message_id, (byClientId.get(item.client_message_id) ?? 0) + 1);
        for (const [cid, id] of answered) {
          assert.equal(byClientId.get(cid), 1, `answered send ${cid} present exactly once`);
          assert.ok(items.some((i) => i.id === id));
        }
      } finally {
        await kill9(restarted);
      }
    } finally {
      for (const c of clients) c.close();
      if (core) await kill9(core);
      cleanup();
    }
  });

  test('a home whose socket path is too long uses a short fallback path', async () => {
    const { home: base, cleanup } = tempHome();
    const home = join(base, 'a'.repeat(60), 'b'.repeat(60));
    try {
      const paths = homePaths(home);
      assert.ok(Buffer.byteLength(paths.socket) <= MAX_SOCKET_PATH_BYTES);
      assert.ok(!paths.socket.startsWith(home));
      const core = await startCore(home);
      try {
        assert.equal(statSync(join(paths.socket, '..')).mode & 0o777, 0o700);
        assert.match(await runOk(home, ['status']), /core: +running/);
      } finally {
        await runOk(home, ['daemon', 'stop']);
        await exited(core);
        assert.ok(!existsSync(paths.socket), 'socket removed on clean exit');
      }
    } finally {
      cleanup();
    }
  });

  test('daemon start detaches and returns once ready; stop removes the socket; status and doctor work without a core', async () => {
    const { home, cleanup } = tempHome();
    try {
      assert.match(await runOk(home, ['status']), /core: +no core running/);
      assert.match((await run(home, ['doctor'])).stdout, /core: not running/);
      assert.match(await runOk(home, ['daemon', 'start']), /core started \(pid \d+\)/);
      assert.match(await runOk(home, ['daemon', 'start']), /core already running/);
      assert.match(await runOk(home, ['status']), /core: +running/);
      assert.match(await runOk(home, ['doctor']), /ok +core: running/);
      assert.match(await runOk(home, ['daemon', 'stop']), /core stopped/);
      assert.ok(!existsSync(homePaths(home).socket));
      assert.match(await runOk(home, ['daemon', 'stop']), /no core is running/);
    } finally {
      await run(home, ['daemon', 'stop']);
      cleanup();
    }
  });

  test('usage errors exit 2 with one line saying what to do', async () => {
    const { home, cleanup } = tempHome();
    try {
      for (const args of [['send', '-m', 'x'], ['send', '--to', 'x', '--bogus'], ['frobnicate'], ['inbox', '--limit', 'many'], ['outbox', 'list', '--state', 'odd'], ['send', '--to', 'x', '-m', 'y', '--wait', 'soon']]) {
        const r = await run(home, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1);
        assert.match(r.stderr, /^switchboard: /);
      }
      const badName = await run(home, ['send', '--to', 'no spaces', '-m', 'x']);
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /--to: invalid user name "no spaces"/);
    } finally {
      cleanup();
    }
  });
});
