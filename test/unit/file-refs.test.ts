/**
 * File references: finding them in text (lib/file-refs.ts), the snippet header Send Selection
 * writes and the view reads back, and the host's resolution inside the workspace folders
 * (extension/fileRefs.ts) against real folders, files and links; `git rev-parse HEAD` in a real
 * repository (extension/git.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findFileRefs, formatSnippet, parseSnippetInfo } from '../../lib/file-refs';
import { isInside, resolveRef } from '../../extension/fileRefs';
import { gitHead, sameCommit } from '../../extension/git';

const refs = (t: string) => findFileRefs(t).map((r) => ({ path: r.path, line: r.line, col: r.col, endLine: r.endLine, text: t.slice(r.start, r.end) }));

describe('findFileRefs', () => {
  it('reads the :line, :line:col, :start-end and #L forms', () => {
    assert.deepEqual(refs('see src/foo.ts:42, lib/a.ts:3:7 and docs/x.md#L10-L20 or b.py#L5 then c.rs:4-9.'), [
      { path: 'src/foo.ts', line: 42, col: null, endLine: null, text: 'src/foo.ts:42' },
      { path: 'lib/a.ts', line: 3, col: 7, endLine: null, text: 'lib/a.ts:3:7' },
      { path: 'docs/x.md', line: 10, col: null, endLine: 20, text: 'docs/x.md#L10-L20' },
      { path: 'b.py', line: 5, col: null, endLine: null, text: 'b.py#L5' },
      { path: 'c.rs', line: 4, col: null, endLine: 9, text: 'c.rs:4-9' },
    ]);
  });

  it('drops a backwards range but keeps its line', () => {
    assert.deepEqual(refs('c.rs:9-4 d.rs#L9-L4').map((r) => [r.line, r.endLine]), [[9, null], [9, null]]);
  });

  it('keeps the paths a peer may write to escape, for the host to refuse', () => {
    assert.deepEqual(refs('../../etc/passwd:1 /etc/hosts.conf:2 .github/ci.yml:3').map((r) => r.path), ['../../etc/passwd', '/etc/hosts.conf', '.github/ci.yml']);
  });

  it('is not fooled by times, ratios, versions, URLs or line 0', () => {
    assert.deepEqual(refs('at 10:30, ratio 3:2, v1.2:3, https://x.test/a.ts:3, foo.ts:0, foo.ts:, a.ts:99999999999'), []);
  });

  it('finishes on long hostile runs', () => {
    for (const t of ['a'.repeat(65536), 'a/'.repeat(32768), 'a.'.repeat(32768), 'a.ts:1'.repeat(10000), `${'a/'.repeat(30000)}x.ts:1`]) findFileRefs(t);
    assert.equal(findFileRefs(`${'a/'.repeat(600)}x.ts:1`).length, 0, 'longer than MAX_REF_PATH');
  });
});

describe('snippet headers', () => {
  it('writes a fence the CLI shows as is and the view reads back', () => {
    const body = formatSnippet({ path: 'src/foo.ts', startLine: 10, endLine: 20, languageId: 'typescript', commit: '0123456789abcdef0123456789abcdef01234567', code: 'let a = 1;\n' }, 'why is this slow?');
    assert.equal(body, 'why is this slow?\n\n```typescript src/foo.ts:10-20 @0123456789ab\nlet a = 1;\n```');
    assert.deepEqual(parseSnippetInfo('typescript src/foo.ts:10-20 @0123456789ab'), { lang: 'typescript', path: 'src/foo.ts', line: 10, endLine: 20, commit: '0123456789ab' });
  });

  it('fences code holding backticks with a longer fence, and a one-line selection has no range', () => {
    const body = formatSnippet({ path: 'a.md', startLine: 3, endLine: 3, languageId: 'markdown', commit: null, code: '````\nx\n````' }, '');
    assert.equal(body, '`````markdown a.md:3\n````\nx\n````\n`````');
  });

  it('moves a path with spaces out of the info string, and never lets a language id break the fence', () => {
    const body = formatSnippet({ path: 'my dir/a b.ts', startLine: 1, endLine: 2, languageId: 'evil`lang', commit: null, code: 'x' }, '');
    assert.equal(body, 'my dir/a b.ts:1-2\n\n```-\nx\n```');
    assert.deepEqual(parseSnippetInfo('-'), { lang: null, path: null, line: null, endLine: null, commit: null });
  });

  it('reads partial and odd headers without inventing anything', () => {
    assert.deepEqual(parseSnippetInfo('python'), { lang: 'python', path: null, line: null, endLine: null, commit: null });
    assert.deepEqual(parseSnippetInfo('src/a.ts:4'), { lang: null, path: 'src/a.ts', line: 4, endLine: null, commit: null });
    assert.deepEqual(parseSnippetInfo('ts a.ts:9-3 @NOTHEX'), { lang: 'ts', path: 'a.ts', line: 9, endLine: null, commit: null });
  });
});

describe('resolveRef: inside the workspace folders only', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'sb-refs-')));
  after(() => rmSync(root, { recursive: true, force: true }));
  const ws = join(root, 'ws');
  const other = join(root, 'other');
  mkdirSync(join(ws, 'src'), { recursive: true });
  mkdirSync(other, { recursive: true });
  writeFileSync(join(ws, 'src', 'a.ts'), 'a\n');
  writeFileSync(join(ws, 'top.md'), 'x\n');
  writeFileSync(join(other, 'secret.txt'), 'secret\n');
  symlinkSync(join(other, 'secret.txt'), join(ws, 'src', 'link.txt'));
  symlinkSync(other, join(ws, 'outdir'));
  writeFileSync(join(root, 'ws-sibling.txt'), 'no\n');

  it('finds an existing file, relative or absolute inside a folder', async () => {
    assert.deepEqual(await resolveRef([ws], 'src/a.ts'), { file: join(ws, 'src', 'a.ts'), folder: ws });
    assert.equal((await resolveRef([ws], 'top.md'))?.file, join(ws, 'top.md'));
    assert.equal((await resolveRef([ws], join(ws, 'src', 'a.ts')))?.file, join(ws, 'src', 'a.ts'));
    assert.equal((await resolveRef([ws], 'src/../top.md'))?.file, join(ws, 'top.md'), 'a .. that stays inside');
    assert.equal((await resolveRef([other, ws], 'src/a.ts'))?.folder, ws, 'any folder');
  });

  it('refuses a missing file and a folder', async () => {
    assert.equal(await resolveRef([ws], 'src/missing.ts'), null);
    assert.equal(await resolveRef([ws], 'src'), null);
    assert.equal(await resolveRef([], 'src/a.ts'), null, 'no folder open');
  });

  it('refuses .. escaping the folder', async () => {
    assert.equal(await resolveRef([ws], '../other/secret.txt'), null);
    assert.equal(await resolveRef([ws], 'src/../../other/secret.txt'), null);
    assert.equal(await resolveRef([ws], '../ws-sibling.txt'), null);
    assert.equal(await resolveRef([join(ws, 'src')], '../top.md'), null);
  });

  it('refuses an absolute path outside every folder', async () => {
    assert.equal(await resolveRef([ws], join(other, 'secret.txt')), null);
    assert.equal(await resolveRef([ws], '/etc/passwd'), null);
  });

  it('refuses a link inside the folder that leads outside it', async () => {
    assert.equal(await resolveRef([ws], 'src/link.txt'), null);
    assert.equal(await resolveRef([ws], 'outdir/secret.txt'), null);
  });

  it('refuses NUL and the folder itself', async () => {
    assert.equal(await resolveRef([ws], 'src/a.ts\0'), null);
    assert.equal(await resolveRef([ws], '.'), null);
    assert.equal(isInside('/a/b', '/a/b/c'), true);
    assert.equal(isInside('/a/b', '/a/bc'), false);
    assert.equal(isInside('/a/b', '/a/b/..c'), true, 'a name starting with .. is inside');
    assert.equal(isInside('/a/b', '/a'), false);
  });
});

describe('gitHead', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'sb-git-')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says the commit of a git checkout, and null elsewhere', async () => {
    assert.equal(await gitHead(dir), null, 'not a repository');
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, stdio: 'pipe' }).toString().trim();
    git('init', '-q');
    assert.equal(await gitHead(dir), null, 'no commit yet');
    writeFileSync(join(dir, 'f.txt'), 'x');
    git('add', 'f.txt');
    git('commit', '-qm', 'one');
    const head = git('rev-parse', 'HEAD');
    assert.equal(await gitHead(dir), head);
    assert.equal(sameCommit(head.slice(0, 7), head), true);
    assert.equal(sameCommit(head.slice(0, 7).toUpperCase(), head), true);
    assert.equal(sameCommit('0000000', head), false);
    assert.equal(sameCommit('ab', 'abcdef'), false, 'too short to say');
  });
});
