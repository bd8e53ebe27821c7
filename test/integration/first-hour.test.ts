/**
 * The smaller first-hour defects, each through the real CLI (and a real core or relay where
 * the defect is about them): files and homes that cannot be used get one line saying why,
 * `--reply-to` must name a stored message, requeue is idempotent, emoji ZWJ sequences reach
 * every output as emoji, CJK search through the CLI, and `npm start` fails loudly and stops
 * its core when its relay dies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, NOBODY, ROOT, kill9, nobodyCannotRunCli, run, runOk, startCore, tempHome, type RunResult } from '../support/cli';
import { reapWithThisProcess } from '../support/reap';
import { TestRelay, killAllRelays } from '../support/relay';
import { waitFor } from '../support/wait';
import { freePort } from '../support/ports';

after(() => killAllRelays());

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line of error, got: ${stderr}`);
  return lines[0]!;
}

/** Runs the CLI as an unprivileged user, so file modes apply even when the tests run as root. */
function runAsNobody(home: string, args: string[]): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = reapWithThisProcess(
      spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, SWITCHBOARD_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {}),
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe('files and homes that cannot be used: one line, no raw errno', () => {
  it('an unreadable --file', async (t) => {
    const cannot = nobodyCannotRunCli();
    if (cannot) return t.skip(cannot);
    const { home, cleanup } = tempHome();
    try {
      chmodSync(home, 0o755);
      if (process.getuid?.() === 0) chownSync(home, NOBODY, NOBODY);
      const file = join(home, 'secret.txt');
      writeFileSync(file, 'hi');
      chmodSync(file, 0o000);
      if (process.getuid?.() === 0) chownSync(file, 0, 0);
      const r = await runAsNobody(home, ['send', '--to', 'bob', '--file', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(oneLine(r.stderr), `switchboard: --file ${file}: permission denied (you cannot read it; check its mode and owner)`);
    } finally {
      cleanup();
    }
  });

  it('a missing --token-file', async () => {
    const { home, cleanup } = tempHome();
    try {
      const r = await run(home, ['init', '--relay', 'ws://127.0.0.1:1', '--user', 'bob', '--token-file', '/nope']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(oneLine(r.stderr), 'switchboard: --token-file /nope: no such file');
    } finally {
      cleanup();
    }
  });

  it('a --home (or SWITCHBOARD_HOME) that is a file, or lies under one', async () => {
    const { home, cleanup } = tempHome();
    try {
      const file = join(home, 'not-a-dir');
      writeFileSync(file, '');
      for (const args of [['--home', file, 'status'], ['--home', file, 'send', '--to', 'bob', '-m', 'x'], ['inbox', '--home', file]]) {
        const r = await run(home, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(oneLine(r.stderr), `switchboard: --home ${file}: is a file, not a directory; give a directory for the store (it is created if missing)`);
      }
      const env = await run(file, ['status']);
      assert.equal(env.code, 2);
      assert.match(oneLine(env.stderr), new RegExp(`^switchboard: SWITCHBOARD_HOME ${file}: is a file, not a directory`));
      const under = await run(home, ['--home', join(file, 'sub'), 'status']);
      assert.equal(under.code, 2);
      assert.equal(oneLine(under.stderr), `switchboard: --home ${join(file, 'sub')}: cannot be created: ${file} is a file, not a directory`);
    } finally {
      cleanup();
    }
  });
});

describe('--reply-to names a stored message', () => {
  it('an unknown id is refused, directly and through a core; a stored one is taken', async () => {
    const { home, cleanup } = tempHome();
    try {
      const direct = await run(home, ['send', '--to', 'bob', '-m', 'hi', '--reply-to', 'no-such-id', '--wait', '0']);
      assert.equal(direct.code, 2, direct.stderr);
      assert.match(oneLine(direct.stderr), /reply_to: no message no-such-id in this store/);
      assert.match((await runOk(home, ['outbox'])).trim(), /^outbox is empty$/, 'nothing was stored');

      const first = JSON.parse(await runOk(home, ['send', '--to', 'bob', '-m', 'first', '--wait', '0', '--json'], 3)) as { id: string };
      const core = await startCore(home);
      try {
        const delegated = await run(home, ['send', '--to', 'bob', '-m', 'hi', '--reply-to', 'no-such-id', '--wait', '0']);
        assert.equal(delegated.code, 2, delegated.stderr);
        assert.equal(oneLine(delegated.stderr), oneLine(direct.stderr), 'the same line either way');
        const reply = JSON.parse(await runOk(home, ['send', '--to', 'bob', '-m', 'second', '--reply-to', first.id, '--wait', '0', '--json'], 3)) as { status: string };
        assert.equal(reply.status, 'queued');
      } finally {
        await kill9(core);
      }
    } finally {
      cleanup();
    }
  });
});

describe('outbox requeue is idempotent', () => {
  it('requeueing an aborted entry twice queues one copy and reports it both times', async () => {
    const { home, cleanup } = tempHome();
    try {
      const sent = JSON.parse(await runOk(home, ['send', '--to', 'bob', '-m', 'once', '--wait', '0', '--json'], 3)) as { id: string };
      await runOk(home, ['outbox', 'abort', sent.id]);
      const first = JSON.parse(await runOk(home, ['outbox', 'requeue', sent.id, '--json'])) as { aborted: string; item: { id: string } };
      const second = JSON.parse(await runOk(home, ['outbox', 'requeue', sent.id, '--json'])) as { aborted: string; item: { id: string } };
      assert.equal(first.aborted, sent.id);
      assert.equal(second.item.id, first.item.id, 'the second requeue reports the copy the first made');
      assert.equal((await runOk(home, ['outbox', 'requeue', sent.id])).trim(), `requeued as ${first.item.id} (client id ${(second.item as { client_message_id?: string }).client_message_id}); ${sent.id} is now aborted`);
      const pending = JSON.parse(await runOk(home, ['outbox', 'list', '--state', 'pending', '--json'])) as { items: { id: string; body: string }[] };
      assert.deepEqual(pending.items.map((i) => [i.id, i.body]), [[first.item.id, 'once']]);
    } finally {
      cleanup();
    }
  });
});

describe('emoji ZWJ sequences are shown as emoji', () => {
  it('inbox, read and --json carry them as they are, through a relay and a core', async () => {
    const relay = new TestRelay();
    const alice = tempHome('sb-alice-');
    const bob = tempHome('sb-bob-');
    const body = 'pairing: 👩‍💻 🧑🏽‍🚀 👨‍👩‍👧 🏳️‍🌈 ❤️‍🔥';
    try {
      await relay.start();
      await relay.configureHome(alice.home, 'alice');
      await relay.configureHome(bob.home, 'bob');
      await runOk(alice.home, ['send', '--to', 'bob', '-m', body]);
      const core = await startCore(bob.home);
      try {
        const list = await waitFor('bob to receive the message', async () => {
          const l = JSON.parse(await runOk(bob.home, ['inbox', '--json'])) as { messages: { id: string; body: string }[] };
          return l.messages.length > 0 ? l : undefined;
        });
        const raw = await runOk(bob.home, ['inbox', '--json']);
        assert.ok(!raw.includes('\\u200d') && !raw.includes('<U+200D>'), raw);
        assert.equal(list.messages[0]!.body, body);
        const human = await runOk(bob.home, ['inbox']);
        assert.ok(human.includes(`bob`) || human.includes('alice'));
        assert.ok(human.includes(body), human);
        const read = await runOk(bob.home, ['read', list.messages[0]!.id]);
        assert.ok(read.includes(body), read);
        assert.ok(!read.includes('<U+200D>'), read);
      } finally {
        await kill9(core);
      }
    } finally {
      alice.cleanup();
      bob.cleanup();
      await relay.dispose();
    }
  });
});

describe('search through the CLI finds text written without spaces', () => {
  it('日本語 finds 日本語テキスト, and so do 日本 and テキスト', async () => {
    const { home, cleanup } = tempHome();
    try {
      await runOk(home, ['send', '--to', 'bob', '-m', '日本語テキスト', '--wait', '0'], 3);
      await runOk(home, ['send', '--to', 'bob', '-m', 'plain words', '--wait', '0'], 3);
      for (const query of ['日本語', '日本', 'テキスト']) {
        const found = JSON.parse(await runOk(home, ['search', query, '--json'])) as { messages: { body: string }[] };
        assert.deepEqual(found.messages.map((m) => m.body), ['日本語テキスト'], query);
      }
    } finally {
      cleanup();
    }
  });
});

/** The README's `bin/switchboard send|inbox` lines after npm start, as [command, what it prints (ids and times generalised)]. */
function readmeQuickStart(): [string, RegExp][] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').filter((l) => /^bin\/switchboard (send|inbox)\b/.test(l));
  assert.equal(lines.length, 2, 'the README shows a send and an inbox');
  return lines.map((line) => {
    const [command, comment] = line.split(/\s+# /) as [string, string];
    const escaped = comment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = escaped.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '[0-9a-f-]{36}').replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d');
    return [command.trim(), new RegExp(`^${pattern}$`)];
  });
}

describe('npm start', () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('exits non-zero with a message when its relay dies, and stops the core it started', async () => {
    const { home, cleanup } = tempHome('sb-start-');
    const relayData = join(home, 'relay');
    const storeHome = join(home, 'home');
    mkdirSync(storeHome, { mode: 0o700 });
    let corePid: number | undefined;
    try {
      const port = await freePort();
      const child = reapWithThisProcess(
        spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
          env: { ...process.env, SWITCHBOARD_HOME: storeHome, SWITCHBOARD_RELAY_DATA: relayData, SWITCHBOARD_RELAY_PORT: String(port), SWITCHBOARD_USER: 'Ada' },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
      await waitFor('npm start to be running', () => (stdout.includes('Switchboard is running') ? true : undefined), 60_000);
      assert.ok(stdout.includes('send --to ada -m hi'), stdout);
      corePid = Number(/core started \(pid (\d+)\)/.exec(stdout)?.[1]);
      assert.ok(alive(corePid), 'the core runs');

      // The README's quick start, run as written: each line prints what its comment shows.
      for (const [command, shown] of readmeQuickStart()) {
        const args = command.replace(/^bin\/switchboard /, '').split(' ');
        const printed = (await runOk(storeHome, args)).trim();
        assert.match(printed, shown, `README: ${command}`);
      }
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      assert.equal(children.length, 1, `only the relay is a child: ${children.join(' ')}`);
      process.kill(children[0]!, 'SIGKILL');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
      assert.equal(code, 1, `stderr: ${stderr}`);
      assert.match(stderr, /switchboard: the relay \(pid \d+\) was killed by SIGKILL; stopping the core started for it/);
      await waitFor('the core to be gone', () => (alive(corePid!) ? undefined : true), 20_000);
    } finally {
      if (corePid !== undefined && alive(corePid)) process.kill(corePid, 'SIGKILL');
      cleanup();
    }
  });
});
