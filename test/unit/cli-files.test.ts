/**
 * The CLI's side of files, below the processes: `--attach` parsing and the checks made before
 * delegation (missing, directory, unreadable, over the limit, changed while hashed), sizes in
 * and out, the core's FileRefused as a CLI error, how `read` and `inbox` show files, and how
 * `download` writes them (inside --out only, never over a file without --force, never through
 * a symbolic link, verified on the way out). Real files in a temp directory throughout.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_MAX_FILE_BYTES, MAX_ATTACHMENTS } from '../../protocol/files';
import { ErrorCodes, type Attachment, type Message, type SendResult } from '../../protocol/rpc';
import { command, resolve as resolveCommand, spec } from '../../lib/node/cli/command';
import { CliError, ExitCode } from '../../lib/node/cli/errors';
import { SWITCHBOARD } from '../../server/cli/commands';
import { measureAttachments } from '../../server/cli/attachments';
import { formatBytes, parseBytes } from '../../server/cli/bytes';
import { attachmentLines, messageFull, messageLine, sendVerdict } from '../../server/cli/format';
import { preflight } from '../../server/cli/preflight';
import { fromRpcError } from '../../server/cli/rpc-errors';
import { notReady } from '../../server/cli/file-transfer';
import { checkOutDirectory, outDirectory, plan, writeFiles } from '../../server/cli/write-files';
import { messageFixture } from '../support/messages';

const scratch = mkdtempSync(join(tmpdir(), 'sb-cli-files-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const dirOf = () => {
  const dir = join(scratch, `d${n++}`);
  mkdirSync(dir);
  return dir;
};
const sha = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Runs `fn`, which must throw a CliError; returns it. */
async function refusal(fn: () => unknown): Promise<CliError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof CliError, `a CliError, got ${String(error)}`);
    return error;
  }
  assert.fail('it did not refuse');
}

test('--attach repeats, in order; absent it is []; with --file it is a usage error', async () => {
  let seen: string[] | undefined;
  const probe = command(spec({ name: 'probe', summary: 'probe', flags: { attach: { type: 'string', value: 'path', multiple: true, description: 'a file' } }, examples: ['probe'] }), async ({ values }) => {
    seen = values.attach;
    return 0;
  });
  const run = (args: string[]) => {
    const r = resolveCommand(probe, args);
    assert.equal(r.kind, 'run');
    return r.kind === 'run' ? r.run(undefined) : undefined;
  };
  await run(['--attach', 'a', '--attach=b', '--attach', '-c']);
  assert.deepEqual(seen, ['a', 'b', '-c']);
  await run([]);
  assert.deepEqual(seen, []);
  const both = await refusal(() => resolveCommand(SWITCHBOARD, ['send', '--to', 'bob', '--attach', 'x', '--file', 'y']));
  assert.equal(both.exitCode, ExitCode.Usage);
  assert.match(both.message, /--file does not go with --attach/);
});

test('a file is measured: absolute path, base name, size and SHA-256 of its bytes', async () => {
  const dir = dirOf();
  writeFileSync(join(dir, 'notes.txt'), 'hello files');
  writeFileSync(join(dir, 'empty'), '');
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const { inputs, summary } = await measureAttachments(['notes.txt', 'empty']);
    assert.deepEqual(inputs, [
      { path: join(dir, 'notes.txt'), name: 'notes.txt', sha256: sha('hello files'), size: 11 },
      { path: join(dir, 'empty'), name: 'empty', sha256: sha(''), size: 0 },
    ]);
    assert.deepEqual(summary.map((s) => s.name), ['notes.txt', 'empty']);
  } finally {
    process.chdir(cwd);
  }
});

test('missing, a directory, over the limit, too many: one line naming the file, exit 2, before any hashing', async () => {
  const dir = dirOf();
  const missing = await refusal(() => measureAttachments([join(dir, 'nope.pdf')]));
  assert.equal(missing.exitCode, ExitCode.Usage);
  assert.equal(missing.message, `--attach ${join(dir, 'nope.pdf')}: no such file`);
  const directory = await refusal(() => measureAttachments([dir]));
  assert.equal(directory.exitCode, ExitCode.Usage);
  assert.equal(directory.message, `--attach ${dir} is a directory, not a file`);
  // A sparse file: over the default limit without taking the disk.
  const big = join(dir, 'big.iso');
  writeFileSync(big, '');
  truncateSync(big, DEFAULT_MAX_FILE_BYTES + 1);
  const over = await refusal(() => measureAttachments([big]));
  assert.equal(over.exitCode, ExitCode.Usage);
  assert.equal(over.message, `--attach ${big} is 100 MiB (${DEFAULT_MAX_FILE_BYTES + 1} bytes); a file may be at most 100 MiB (${DEFAULT_MAX_FILE_BYTES} bytes)`);
  // exactly at the limit is fine (the sparse file reads as zeros)
  const at = join(dir, 'at.bin');
  writeFileSync(at, 'x'.repeat(10));
  assert.equal((await measureAttachments([at], 10)).inputs[0]!.size, 10);
  assert.equal((await refusal(() => measureAttachments([at], 9))).exitCode, ExitCode.Usage);
  // every path is checked before the first is hashed: the last one's problem is said
  assert.match((await refusal(() => measureAttachments([big, join(dir, 'nope')], DEFAULT_MAX_FILE_BYTES + 1))).message, /nope: no such file/);
  const many = await refusal(() => measureAttachments(Array.from({ length: MAX_ATTACHMENTS + 1 }, () => at)));
  assert.equal(many.exitCode, ExitCode.Usage);
  assert.match(many.message, /at most 32 --attach files; got 33/);
});

test('an unreadable file is a usage error naming the file', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
  const file = join(dirOf(), 'secret');
  writeFileSync(file, 'x');
  chmodSync(file, 0o000);
  const e = await refusal(() => measureAttachments([file]));
  assert.equal(e.exitCode, ExitCode.Usage);
  assert.match(e.message, /secret: permission denied/);
});

test('a file whose bytes are not what its size said (it changed while being read) fails, exit 1', { skip: process.platform !== 'linux' ? '/proc is Linux' : false }, async () => {
  // /proc files are regular files of size 0 that read as bytes: a file that "grew" between stat and read.
  const e = await refusal(() => measureAttachments(['/proc/self/stat']));
  assert.equal(e.exitCode, ExitCode.Failed);
  assert.equal(e.code, 'file_refused');
  assert.match(e.message, /\/proc\/self\/stat changed while it was being read/);
});

test('sizes: shown in binary units, parsed with or without a unit', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(10 * 1024 * 1024), '10 MiB');
  assert.equal(formatBytes(DEFAULT_MAX_FILE_BYTES + 1), '100 MiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3 GiB');
  assert.equal(parseBytes('10MiB'), 10 * 1024 * 1024);
  assert.equal(parseBytes('10 MiB'), 10 * 1024 * 1024);
  assert.equal(parseBytes('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('500kB'), 500_000);
  assert.equal(parseBytes('2M'), 2 * 1024 * 1024);
  assert.equal(parseBytes('1048576'), 1048576);
  assert.equal(parseBytes('0'), 0);
  for (const bad of ['', 'ten', '-1', '10 parsecs', '1e9', 'MiB']) assert.equal(typeof parseBytes(bad), 'string', bad);
});

test("the core's FileRefused is exit 1 with its message and the file_refused code", () => {
  const e = fromRpcError({ code: ErrorCodes.FileRefused, message: '/tmp/a.bin changed while it was being sent; nothing was stored', data: { kind: 'file', path: '/tmp/a.bin' } });
  assert.equal(e.exitCode, ExitCode.Failed);
  assert.equal(e.code, 'file_refused');
  assert.equal(e.message, '/tmp/a.bin changed while it was being sent; nothing was stored');
});

test('preflight: with files the caption may be empty; without, it may not; at most 32 files', () => {
  const file = { path: '/tmp/a', sha256: 'a'.repeat(64), size: 1 };
  assert.doesNotThrow(() => preflight('message/send', { to: 'bob', body: '', attachments: [file] }));
  assert.throws(() => preflight('message/send', { to: 'bob', body: '', attachments: [] }), /the message is empty/);
  assert.throws(() => preflight('message/send', { to: 'bob', body: '' }), /the message is empty/);
  assert.throws(() => preflight('message/send', { to: 'bob', body: 'x', attachments: Array.from({ length: 33 }, () => file) }), /at most 32 files; got 33/);
  assert.throws(() => preflight('attachment/download', { id: 'x'.repeat(129) }), /an id has at most 128/);
});

const AT = '2026-11-24T14:03:59.123Z';

function attachment(p: Partial<Attachment> = {}): Attachment {
  return { index: 0, name: 'report.pdf', size: 1536, sha256: 'a'.repeat(64), mime: 'application/pdf', state: 'ready', transferred: 1536, error: null, path: '/store/files/a', ...p };
}

function message(p: Partial<Message> = {}): Message {
  return messageFixture({ body: 'the numbers', created_at: AT, ...p });
}

test('inbox marks a message with files; read lists each with size, type and state, names inert', () => {
  assert.equal(messageLine(message()), '* m1  2026-11-24 14:03  bob: the numbers');
  assert.equal(messageLine(message({ attachments: [attachment()] })), '* m1  2026-11-24 14:03  bob [1 file]: the numbers');
  assert.equal(messageLine(message({ attachments: [attachment(), attachment({ index: 1 })], body: '' })), '* m1  2026-11-24 14:03  bob [2 files]');
  assert.deepEqual(attachmentLines(message()), []);
  // read shows them between the headers and the text
  assert.equal(
    messageFull(message({ attachments: [attachment()] })),
    ['id:       m1', 'from:     bob', 'to:       me', `date:     ${AT}`, 'state:    received', 'files:    1 (write them with `switchboard download m1 --out <dir>`)', '  0  report.pdf  1.5 KiB  application/pdf  ready', '', 'the numbers'].join('\n'),
  );
  assert.deepEqual(
    attachmentLines(
      message({
        attachments: [
          attachment(),
          attachment({ index: 1, name: 'evil\u001b[2J\u202e.txt', mime: 'text/plain', size: 10 * 1024 * 1024, state: 'downloading', transferred: 5 * 1024 * 1024, path: null }),
          attachment({ index: 2, name: 'big.iso', mime: 'application/octet-stream', state: 'remote', transferred: 0, path: null }),
          attachment({ index: 3, name: 'bad.bin', state: 'failed', error: 'its bytes do not match its SHA-256\u0007', path: null }),
        ],
      }),
    ),
    [
      'files:    4 (write them with `switchboard download m1 --out <dir>`)',
      '  0  report.pdf  1.5 KiB  application/pdf  ready',
      '  1  evil<U+001B>[2J<U+202E>.txt  10 MiB  text/plain  downloading 50%',
      '  2  big.iso  1.5 KiB  application/octet-stream  remote (not downloaded)',
      '  3  bad.bin  1.5 KiB  application/pdf  failed: its bytes do not match its SHA-256<U+0007>',
    ],
  );
});

test('the send verdict says how many files went and their total size', () => {
  const r: SendResult = { status: 'sent', id: 'm1', client_message_id: 'c1', to: 'bob', server_id: 's1', reason: null, reason_code: null };
  assert.equal(sendVerdict(r), 'sent m1 to bob');
  assert.equal(sendVerdict(r, [{ size: 1024 }]), 'sent m1 to bob with a file (1 KiB)');
  assert.equal(sendVerdict({ ...r, status: 'queued', reason: 'uploading: 1 MiB of 3 MiB at the relay', reason_code: 'uploading' }, [{ size: 1024 * 1024 }, { size: 2 * 1024 * 1024 }]), 'queued m1 to bob with 2 files (3 MiB): uploading: 1 MiB of 3 MiB at the relay');
});

/** A ready attachment backed by a real "store" file. */
function stored(dir: string, name: string, content: string, index = 0): Attachment & { path: string } {
  const path = join(dir, `store-${index}`);
  writeFileSync(path, content);
  return { ...attachment({ index, name, size: Buffer.byteLength(content), sha256: sha(content), mime: 'text/plain' }), path };
}

test('download writes hostile names inside --out under safe names, verified', async () => {
  const store = dirOf();
  const out = outDirectory(join(dirOf(), 'new', 'dir'));
  const files = [stored(store, '../../.bashrc', 'alias ls=rm', 0), stored(store, '/etc/passwd', 'root:x', 1), stored(store, 'a\u0000b\u202e.txt', 'ab', 2), stored(store, 'bashrc', 'again', 3)];
  const written = await writeFiles(plan(out, files, false), false);
  assert.deepEqual(written.map((w) => w.path), [join(out, 'bashrc'), join(out, 'etc_passwd'), join(out, 'ab.txt'), join(out, 'bashrc (2)')]);
  assert.deepEqual(readdirSync(out).sort(), ['ab.txt', 'bashrc', 'bashrc (2)', 'etc_passwd']);
  assert.equal(readFileSync(join(out, 'bashrc'), 'utf8'), 'alias ls=rm');
  assert.equal(written[0]!.sha256, sha('alias ls=rm'));
  assert.equal(written[0]!.name, '../../.bashrc', 'the JSON keeps the sender\'s name beside the path written');
  assert.ok(!existsSync(join(out, '..', '.bashrc')));
});

test('download never overwrites without --force, and with it replaces the file whole', async () => {
  const store = dirOf();
  const out = outDirectory(dirOf());
  writeFileSync(join(out, 'notes.txt'), 'mine');
  const files = [stored(store, 'fresh.txt', 'new one', 0), stored(store, 'notes.txt', 'theirs', 1)];
  const e = await refusal(() => plan(out, files, false));
  assert.equal(e.code, 'file_exists');
  assert.match(e.message, /notes\.txt already exists; nothing was written/);
  assert.deepEqual(readdirSync(out), ['notes.txt'], 'nothing written, not even the file that was free');
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
  await writeFiles(plan(out, files, true), true);
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'theirs');
  assert.deepEqual(readdirSync(out).sort(), ['fresh.txt', 'notes.txt'], 'no temporary file left');
  // a file that appears between the plan and the write is not replaced either
  const late = [stored(store, 'late.txt', 'theirs', 2)];
  const planned = plan(out, late, false);
  writeFileSync(join(out, 'late.txt'), 'mine');
  assert.equal((await refusal(() => writeFiles(planned, false))).code, 'file_exists');
  assert.equal(readFileSync(join(out, 'late.txt'), 'utf8'), 'mine');
});

test('a symbolic link at the target is never written through, not even with --force', async () => {
  const store = dirOf();
  const out = outDirectory(dirOf());
  const victim = join(dirOf(), 'victim');
  writeFileSync(victim, 'keep me');
  symlinkSync(victim, join(out, 'notes.txt'));
  for (const force of [false, true]) {
    const e = await refusal(() => plan(out, [stored(store, 'notes.txt', 'theirs')], force));
    assert.equal(e.code, 'file_exists');
    assert.match(e.message, /is a symbolic link; refusing to write through it/);
  }
  // a link put there after the plan: the exclusive create refuses it too
  const planned = plan(out, [stored(store, 'other.txt', 'theirs')], false);
  symlinkSync(victim, join(out, 'other.txt'));
  await refusal(() => writeFiles(planned, false));
  assert.equal(readFileSync(victim, 'utf8'), 'keep me');
});

test('a stored copy that does not match its hash is not written', async () => {
  const store = dirOf();
  const out = outDirectory(dirOf());
  const file = { ...stored(store, 'x.txt', 'good'), sha256: sha('other') };
  const e = await refusal(() => writeFiles(plan(out, [file], false), false));
  assert.equal(e.code, 'not_downloaded');
  assert.deepEqual(readdirSync(out), []);
});

test('--out that is a file is a usage error; a missing one is created', async () => {
  const dir = dirOf();
  writeFileSync(join(dir, 'afile'), '');
  assert.equal((await refusal(() => checkOutDirectory(join(dir, 'afile')))).exitCode, ExitCode.Usage);
  assert.equal((await refusal(() => outDirectory(join(dir, 'afile')))).exitCode, ExitCode.Usage);
  assert.doesNotThrow(() => checkOutDirectory(join(dir, 'later')));
  assert.equal(outDirectory(join(dir, 'later')), join(dir, 'later'));
});

test('download writes nothing while a file failed or is still on its way, and says which and why', () => {
  assert.equal(notReady('m1', [attachment()]), undefined);
  const e = notReady('m1', [
    attachment(),
    attachment({ index: 1, name: 'bad\u0007.bin', state: 'failed', error: 'its bytes do not match its SHA-256 (a broken or hostile relay); downloading again may help', path: null }),
    attachment({ index: 2, name: 'big.iso', state: 'downloading', size: 4 * 1024 * 1024, transferred: 1024 * 1024, path: null }),
    attachment({ index: 3, name: 'odd', state: 'ready', path: null }),
  ])!;
  assert.equal(e.exitCode, ExitCode.Failed);
  assert.equal(e.code, 'not_downloaded');
  assert.equal(
    e.message,
    'message m1: bad<U+0007>.bin failed: its bytes do not match its SHA-256 (a broken or hostile relay); downloading again may help; big.iso is still downloading (1 MiB of 4 MiB; nothing arrived for 30 s); odd is not in the store; nothing was written',
  );
});
