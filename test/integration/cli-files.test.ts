/**
 * Files through the built CLI (issue 13): `send --attach` refusing what it cannot send before
 * anything is stored (same line with and without a core), `config files.auto_download`, and,
 * with a real relay and real cores on 127.0.0.1, a file sent A→B and written out by
 * `download` byte for byte, hostile peer names landing inside --out under safe names, no
 * overwrite without --force, and the --json shapes. `switchboard` runs as child processes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_AUTO_DOWNLOAD_BYTES, DEFAULT_MAX_FILE_BYTES } from '../../protocol/files';
import type { Message, SendResult } from '../../protocol/rpc';
import { ExitCode } from '../../lib/node/cli/errors';
import { Cleanups, CLI, DAEMON, kill9, ok, run, startCore, told, type RunResult } from '../support/cli';
import { reapWithThisProcess } from '../support/reap';
import { socketAnswers } from '../../server/socket-probe';
import { homePaths } from '../../lib/node/paths';
import { killAllRelays, TestRelay } from '../support/relay';
import { waitFor, withClient } from '../support/wait';

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});
const scratch = (prefix: string): string => cleanups.home(prefix);

/** A refusal: `code` exit, one line on stderr matching `line`, nothing on stdout; under --json one object with `jsonCode`. */
async function refused(home: string, args: string[], code: number, line: RegExp, jsonCode: string): Promise<void> {
  const human = await run(home, args);
  assert.equal(human.code, code, told(args, human));
  assert.equal(human.stdout, '', told(args, human));
  assert.match(human.stderr, line, told(args, human));
  assert.equal(human.stderr.split('\n').length, 2, `one line: ${told(args, human)}`);
  const machine = await run(home, [...args, '--json']);
  assert.equal(machine.code, code, told(args, machine));
  const parsed = JSON.parse(machine.stderr) as { error: { code: string; message: string; hint: string | null } };
  assert.equal(parsed.error.code, jsonCode, told(args, machine));
}

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

describe('send --attach refuses before anything is stored, with or without a core', () => {
  let home: string;
  let files: string;
  let core: ChildProcess | undefined;

  before(() => {
    home = scratch('sb-files-a-');
    files = scratch('sb-files-src-');
    mkdirSync(join(files, 'folder'));
    writeFileSync(join(files, 'ok.txt'), 'fine');
    // Sparse: over the limit without taking the disk.
    writeFileSync(join(files, 'huge.bin'), '');
    truncateSync(join(files, 'huge.bin'), DEFAULT_MAX_FILE_BYTES + 1);
  });

  after(async () => {
    if (core) await kill9(core);
  });

  const cases = () => [
    { args: ['send', '--to', 'bob', '--attach', join(files, 'missing.pdf')], code: ExitCode.Usage, line: new RegExp(`^switchboard: --attach ${join(files, 'missing.pdf')}: no such file\n$`), json: 'usage' },
    { args: ['send', '--to', 'bob', '--attach', join(files, 'folder')], code: ExitCode.Usage, line: /^switchboard: --attach .*folder is a directory, not a file; attach its files one by one/, json: 'usage' },
    { args: ['send', '--to', 'bob', '--attach', join(files, 'huge.bin')], code: ExitCode.Usage, line: /^switchboard: --attach .*huge\.bin is 100 MiB \(104857601 bytes\); a file may be at most 100 MiB \(104857600 bytes\)/, json: 'usage' },
    { args: ['send', '--to', 'bob', '--attach', join(files, 'ok.txt'), '--attach', join(files, 'missing.pdf')], code: ExitCode.Usage, line: /missing\.pdf: no such file/, json: 'usage' },
    { args: ['send', '--to', 'bob', '--attach', join(files, 'ok.txt'), '--file', join(files, 'ok.txt')], code: ExitCode.Usage, line: /^switchboard: send: --file does not go with --attach/, json: 'usage' },
    { args: ['send', '--attach', join(files, 'ok.txt')], code: ExitCode.Usage, line: /^switchboard: send needs --to/, json: 'usage' },
  ];

  test('without a core: one line, exit 2, nothing stored', async () => {
    for (const c of cases()) await refused(home, c.args, c.code, c.line, c.json);
    // nothing was queued by any of them
    const outbox = JSON.parse(await ok(home, ['outbox', '--json'])) as { items: unknown[] };
    assert.deepEqual(outbox.items, []);
  });

  test('through a core: the same lines and codes', async () => {
    core = await startCore(home);
    for (const c of cases()) await refused(home, c.args, c.code, c.line, c.json);
  });
});

describe('config files.auto_download', () => {
  test('get, set with a unit, 0 and off, list; a bad size is a usage error', async () => {
    const home = scratch('sb-files-config-');
    assert.equal(await ok(home, ['config', 'get', 'files.auto_download']), '10 MiB\n');
    assert.deepEqual(JSON.parse(await ok(home, ['config', 'get', 'files.auto_download', '--json'])), { 'files.auto_download': DEFAULT_AUTO_DOWNLOAD_BYTES });
    assert.equal(await ok(home, ['config', 'set', 'files.auto_download', '50MiB']), 'files.auto_download = 50 MiB\n');
    assert.deepEqual(JSON.parse(await ok(home, ['config', 'set', 'files.auto_download=1.5GiB', '--json'])), { 'files.auto_download': 1.5 * 1024 ** 3 });
    assert.equal(await ok(home, ['config', 'set', 'files.auto_download', 'off']), 'files.auto_download = 0\n');
    assert.equal(await ok(home, ['config', 'set', 'files.auto_download', '500kB']), 'files.auto_download = 488 KiB\n');
    assert.equal(await ok(home, ['config', 'list']), 'receipts.read = on\nfiles.auto_download = 488 KiB\n');
    await refused(home, ['config', 'set', 'files.auto_download', 'lots'], ExitCode.Usage, /^switchboard: config set files\.auto_download: a size is a number of bytes, optionally with a unit .*got "lots"\n$/, 'usage');
    await refused(home, ['config', 'set', 'files.auto_download'], ExitCode.Usage, /needs a value: a size such as 10MiB, or 0/, 'usage');
  });
});

describe('a file from alice to bob, through a real relay and cores', () => {
  let relay: TestRelay;
  let alice: string;
  let bob: string;
  let src: string;
  let aliceCore: ChildProcess;
  let bobCore: ChildProcess;

  before(async () => {
    relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    alice = scratch('sb-files-alice-');
    bob = scratch('sb-files-bob-');
    src = scratch('sb-files-src-');
    await relay.configureHome(alice, 'alice');
    await relay.configureHome(bob, 'bob');
    aliceCore = await startCore(alice);
    bobCore = await startCore(bob);
    cleanups.push(() => kill9(aliceCore), () => kill9(bobCore));
    // Nothing downloads by itself: `download` is what fetches.
    await ok(bob, ['config', 'set', 'files.auto_download', '0']);
  });

  /** bob's copy of a message alice sent, once it is in his store. */
  function received(id: string): Promise<Message> {
    return waitFor(`bob has ${id}`, async () => {
      const r = await run(bob, ['read', id, '--json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Message) : undefined;
    });
  }

  test('send --attach, read lists it, download writes it byte for byte; --json shapes', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(src, 'build.tar.gz'), bytes);
    writeFileSync(join(src, 'notes.txt'), 'two files, one message');
    const args = ['send', '--to', 'bob', '--attach', join(src, 'build.tar.gz'), '--attach', join(src, 'notes.txt'), '-m', 'the build', '--wait', '60', '--json'];
    const r = await run(alice, args);
    assert.equal(r.code, 0, told(args, r));
    // stderr is a pipe: no progress bar, nothing at all
    assert.equal(r.stderr, '');
    const sent = JSON.parse(r.stdout) as SendResult & { delegated: boolean; attachments: { name: string; path: string; size: number; sha256: string }[] };
    assert.equal(sent.status, 'sent');
    assert.equal(sent.delegated, true);
    assert.deepEqual(sent.attachments, [
      { name: 'build.tar.gz', path: join(src, 'build.tar.gz'), size: bytes.length, sha256: sha(bytes) },
      { name: 'notes.txt', path: join(src, 'notes.txt'), size: 22, sha256: sha('two files, one message') },
    ]);

    const message = await received(sent.id);
    assert.equal(message.body, 'the build');
    assert.deepEqual(
      message.attachments.map((a) => [a.index, a.name, a.size, a.sha256, a.state]),
      [
        [0, 'build.tar.gz', bytes.length, sha(bytes), 'remote'],
        [1, 'notes.txt', 22, sha('two files, one message'), 'remote'],
      ],
    );
    const human = await ok(bob, ['read', sent.id]);
    assert.match(human, /^files: {4}2 \(write them with `switchboard download .* --out <dir>`\)\n {2}0 {2}build\.tar\.gz {2}3 MiB {2}\S+ {2}remote \(not downloaded\)\n {2}1 {2}notes\.txt {2}22 B {2}text\/plain {2}remote \(not downloaded\)$/m);
    assert.match(await ok(bob, ['inbox']), new RegExp(`^  ${sent.id}  .*  alice \\[2 files\\]: the build$`, 'm'));

    const out = join(src, 'out');
    const paths = await ok(bob, ['download', sent.id, '--out', out]);
    assert.equal(paths, `${join(out, 'build.tar.gz')}\n${join(out, 'notes.txt')}\n`);
    assert.equal(sha(readFileSync(join(out, 'build.tar.gz'))), sha(bytes));
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'two files, one message');
    const after = JSON.parse(await ok(bob, ['read', sent.id, '--json'])) as Message;
    assert.deepEqual(after.attachments.map((a) => a.state), ['ready', 'ready']);

    // Again into the same place: refused, nothing touched; with --force replaced; --json shape.
    writeFileSync(join(out, 'notes.txt'), 'my own notes');
    await refused(bob, ['download', sent.id, '--out', out], ExitCode.Failed, /notes\.txt already exist.*; nothing was written; give --force to replace/, 'file_exists');
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'my own notes');
    const forced = JSON.parse(await ok(bob, ['download', sent.id, '--out', out, '--force', '--json'])) as { id: string; files: { index: number; name: string; path: string; size: number; sha256: string; mime: string }[] };
    assert.equal(forced.id, sent.id);
    assert.deepEqual(
      forced.files.map((f) => [f.index, f.name, f.path, f.size, f.sha256]),
      [
        [0, 'build.tar.gz', join(out, 'build.tar.gz'), bytes.length, sha(bytes)],
        [1, 'notes.txt', join(out, 'notes.txt'), 22, sha('two files, one message')],
      ],
    );
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'two files, one message');
    assert.deepEqual(readdirSync(out).sort(), ['build.tar.gz', 'notes.txt']);
    // The sender can write out her own copy too.
    const mine = join(src, 'mine');
    assert.equal(await ok(alice, ['download', sent.id, '--out', mine]), `${join(mine, 'build.tar.gz')}\n${join(mine, 'notes.txt')}\n`);
  });

  test('a caption is optional and stdin is not read; a peer name like ../../.bashrc or with controls lands inside --out', async () => {
    writeFileSync(join(src, 'plain.txt'), 'no caption');
    const r = await run(alice, ['send', '--to', 'bob', '--attach', join(src, 'plain.txt'), '--wait', '60'], { input: 'this stdin is not the caption' });
    assert.equal(r.code, 0, told(['send'], r));
    const id = /^sent (\S+) to bob with a file \(10 B\)\n$/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    assert.equal((await received(id)).body, '');

    // A peer chooses any name: sent here with the RPC's own `name`, as another client could.
    writeFileSync(join(src, 'payload'), 'alias ls="rm -rf ~"');
    const hostile = await withClient(alice, 'hostile-names', (c) =>
      c.call('message/send', {
        to: 'bob',
        body: 'look',
        wait_ms: 60_000,
        attachments: [
          { path: join(src, 'payload'), name: '../../.bashrc', sha256: sha('alias ls="rm -rf ~"'), size: 19 },
          { path: join(src, 'payload'), name: 'evil\u001b]0;pwned\u0007\u202egnp.exe', sha256: sha('alias ls="rm -rf ~"'), size: 19 },
        ],
      }),
    );
    assert.equal(hostile.status, 'sent');
    const seen = await received(hostile.id);
    assert.deepEqual(seen.attachments.map((a) => a.name), ['../../.bashrc', 'evil<U+001B>]0;pwned<U+0007><U+202E>gnp.exe'], '--json shows the names inert');
    const read = await ok(bob, ['read', hostile.id]);
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u202e]/.test(read), 'read shows no raw control characters');
    const deep = join(src, 'a', 'b', 'out');
    const paths = await ok(bob, ['download', hostile.id, '--out', deep]);
    assert.equal(paths, `${join(deep, 'bashrc')}\n${join(deep, 'evil]0;pwnedgnp.exe')}\n`);
    assert.deepEqual(readdirSync(deep).sort(), ['bashrc', 'evil]0;pwnedgnp.exe']);
    assert.ok(!existsSync(join(src, 'a', '.bashrc')) && !existsSync(join(src, '.bashrc')), 'nothing above --out');
    assert.equal(readFileSync(join(deep, 'bashrc'), 'utf8'), 'alias ls="rm -rf ~"');
  });

  test('download of a message without files, or an unknown id, says so', async () => {
    const r = await run(alice, ['send', '--to', 'bob', '-m', 'just text', '--json']);
    const { id } = JSON.parse(r.stdout) as SendResult;
    await received(id);
    await refused(bob, ['download', id, '--out', join(src, 'none')], ExitCode.Failed, /^switchboard: .*message \S+ (\(it has none\) not found|has no files)\n$/, 'not_found');
    assert.ok(!existsSync(join(src, 'none')), '--out is not created for nothing');
    await refused(bob, ['download', '0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10'], ExitCode.Failed, /not found/, 'not_found');
  });

  test('with the relay gone nothing arrives: download says so, writes nothing, and works once it is back', async () => {
    const bytes = randomBytes(64 * 1024);
    writeFileSync(join(src, 'later.bin'), bytes);
    const r = await run(alice, ['send', '--to', 'bob', '--attach', join(src, 'later.bin'), '--wait', '60', '--json']);
    const { id } = JSON.parse(r.stdout) as SendResult;
    await received(id);
    await relay.kill9();
    const out = join(src, 'later');
    const args = ['download', id, '--out', out];
    const stalled = await run(bob, args);
    assert.equal(stalled.code, ExitCode.Failed, told(args, stalled));
    assert.match(stalled.stderr, /^switchboard: message \S+: later\.bin is still downloading \(0 B of 64 KiB; nothing arrived for 30 s\); nothing was written; run `switchboard download` again/);
    assert.ok(!existsSync(out), 'nothing written, --out not even created');
    await relay.start();
    assert.equal(await ok(bob, args), `${join(out, 'later.bin')}\n`);
    assert.equal(sha(readFileSync(join(out, 'later.bin'))), sha(bytes));
  });
});

/** Runs the CLI with `stdin` an open file (so `/proc/self/fd/0` is that file for it). */
function runWithStdinFile(home: string, args: string[], stdinPath: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const fd = openSync(stdinPath, 'r');
    const child = reapWithThisProcess(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SWITCHBOARD_HOME: home }, stdio: [fd, 'pipe', 'pipe'] }));
    closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`switchboard ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A core whose stdin is the file at `stdinPath` (its `/proc/self/fd/0`), up and answering. */
async function startCoreWithStdin(home: string, stdinPath: string): Promise<ChildProcess> {
  const fd = openSync(stdinPath, 'r');
  const child = reapWithThisProcess(spawn(process.execPath, [DAEMON, '--home', home], { stdio: [fd, 'ignore', 'pipe'] }));
  closeSync(fd);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitFor(`the core of ${home} answers (stderr: ${stderr})`, async () => ((await socketAnswers(homePaths(home).socket)) ? true : undefined), 20_000);
  return child;
}

describe("the core's refusals of a file, as the person sees them", { skip: process.platform !== 'linux' ? '/proc/self/fd is Linux' : false }, () => {
  let relay: TestRelay;
  let alice: string;
  let src: string;
  let core: ChildProcess;

  before(async () => {
    relay = new TestRelay({ extraArgs: ['--max-file-bytes', '1000'] });
    cleanups.push(() => relay.dispose());
    await relay.start();
    alice = scratch('sb-files-refuse-');
    src = scratch('sb-files-refuse-src-');
    await relay.configureHome(alice, 'alice');
    // A home for bob, whose keys are published: direct messages go only to published keys.
    await relay.configureHome(scratch('sb-files-refuse-bob-'), 'bob');
    writeFileSync(join(src, 'cli-sees'), 'eleven byte');
    writeFileSync(join(src, 'core-sees'), 'five!');
    core = await startCoreWithStdin(alice, join(src, 'core-sees'));
    cleanups.push(() => kill9(core));
    // The relay's limit is known once its welcome came.
    await waitFor('alice is online', async () => {
      const s = JSON.parse(await ok(alice, ['status', '--json'])) as { sync: { state: string } };
      return s.sync.state === 'online' ? true : undefined;
    });
  });

  test('a file whose bytes differ between the hash and the core\'s copy: one line, exit 1, file_refused, nothing stored', async () => {
    // /proc/self/fd/0 is one file for the CLI (which hashes it) and another for the core (which copies it).
    const args = ['send', '--to', 'bob', '--attach', '/proc/self/fd/0', '-m', 'x'];
    const human = await runWithStdinFile(alice, args, join(src, 'cli-sees'));
    assert.equal(human.code, ExitCode.Failed, told(args, human));
    assert.equal(human.stdout, '');
    assert.equal(human.stderr, 'switchboard: /proc/self/fd/0 changed while it was being sent (it was 11 bytes, now 5); send it again\n');
    const machine = await runWithStdinFile(alice, [...args, '--json'], join(src, 'cli-sees'));
    assert.equal(machine.code, ExitCode.Failed);
    assert.equal((JSON.parse(machine.stderr) as { error: { code: string } }).error.code, 'file_refused');
    assert.deepEqual((JSON.parse(await ok(alice, ['outbox', '--json'])) as { items: unknown[] }).items, [], 'nothing was stored');
  });

  test("a file over the relay's announced limit (under the default): the core's line, exit 1", async () => {
    writeFileSync(join(src, 'big.bin'), randomBytes(2000));
    await refused(alice, ['send', '--to', 'bob', '--attach', join(src, 'big.bin')], ExitCode.Failed, /big\.bin is 2000 bytes, over the relay's limit of 1000 bytes per file\n$/, 'file_refused');
  });

  test('offline, the limit the relay last announced still holds: the core and a CLI without a core refuse at once, nothing queued', async () => {
    writeFileSync(join(src, 'offline.bin'), randomBytes(2000));
    const args = ['send', '--to', 'bob', '--attach', join(src, 'offline.bin')];
    const line = /offline\.bin is 2000 bytes, over the relay's limit of 1000 bytes per file\n$/;
    await relay.kill9();
    await waitFor('alice is offline', async () => {
      const s = JSON.parse(await ok(alice, ['status', '--json'])) as { sync: { state: string } };
      return s.sync.state !== 'online' ? true : undefined;
    });
    await refused(alice, args, ExitCode.Failed, line, 'file_refused');
    await kill9(core);
    await refused(alice, args, ExitCode.Failed, line, 'file_refused');
    assert.deepEqual((JSON.parse(await ok(alice, ['outbox', '--json'])) as { items: unknown[] }).items, [], 'nothing was queued');
  });
});

describe('on a terminal, a progress bar on stderr', { skip: !existsSync('/usr/bin/script') ? 'needs script(1) for a pseudo-terminal' : false }, () => {
  test('send --attach and download draw a bar in place and erase it; the verdict and the paths follow', async () => {
    const relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    const alice = scratch('sb-files-tty-a-');
    const bob = scratch('sb-files-tty-b-');
    const src = scratch('sb-files-tty-src-');
    await relay.configureHome(alice, 'alice');
    await relay.configureHome(bob, 'bob');
    const cores = [await startCore(alice), await startCore(bob)];
    cleanups.push(...cores.map((c) => () => kill9(c)));
    await ok(bob, ['config', 'set', 'files.auto_download', '0']);
    writeFileSync(join(src, 'video.bin'), randomBytes(4 * 1024 * 1024));
    /** `switchboard …` on a pseudo-terminal (script(1)): what the terminal showed. */
    const onTty = (home: string, args: string[]) =>
      new Promise<string>((resolvePromise, reject) => {
        const line = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
        const child = reapWithThisProcess(spawn('script', ['-qec', line, '/dev/null'], { env: { ...process.env, SWITCHBOARD_HOME: home, COLUMNS: '100' }, stdio: ['pipe', 'pipe', 'pipe'] }));
        let shown = '';
        child.stdout!.on('data', (d) => (shown += d));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`on a tty, switchboard ${args.join(' ')} timed out: ${shown}`));
        }, 90_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolvePromise(shown);
          else reject(new Error(`on a tty, switchboard ${args.join(' ')} exited ${code}: ${shown}`));
        });
        child.stdin!.end();
      });
    const sent = await onTty(alice, ['send', '--to', 'bob', '--attach', join(src, 'video.bin'), '--wait', '60']);
    assert.match(sent, /\rsending video\.bin \[[#-]+\] +\d+% [\d.]+ (B|KiB|MiB)\/4 MiB\u001b\[K/, JSON.stringify(sent));
    assert.match(sent, /\r\u001b\[Ksent (\S+) to bob with a file \(4 MiB\)\r?\n$/, 'erased, then the verdict');
    const id = /sent (\S+) to bob/.exec(sent)![1]!;
    await waitFor('bob has it', async () => ((await run(bob, ['read', id])).code === 0 ? true : undefined));
    const out = join(src, 'out');
    const got = await onTty(bob, ['download', id, '--out', out]);
    assert.match(got, /\rdownloading video\.bin \[[#-]+\] +\d+% [\d.]+ (B|KiB|MiB)\/4 MiB\u001b\[K/, JSON.stringify(got));
    assert.match(got, new RegExp(`\\r\\u001b\\[K${join(out, 'video.bin').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\r?\\n$`));
    assert.equal(sha(readFileSync(join(out, 'video.bin'))), sha(readFileSync(join(src, 'video.bin'))));
  });
});
