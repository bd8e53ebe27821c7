/**
 * Code-aware conversations in the real workbench (issue 15): the real extension (packed with
 * vsce) in code-server + chromium, against a real relay process and a real peer, bob (a core
 * in a temp home, driven over its JSON-RPC socket). alice's window has a workspace folder that
 * is a git checkout. bob sends a message with a fenced TypeScript block and a file reference,
 * and a snippet as Send Selection writes it (taken at another commit): the block renders
 * highlighted in the theme's colours, the reference opens the file at its line, Open in Editor
 * opens the snippet's lines and says the checkout is at another commit, and Find in Messages
 * finds the message, and a draft survives closing the view. Screenshots: artifacts/e2e/code-*.png.
 *
 * Needs `bash scripts/e2e-install.sh` and a build (`npm run test:e2e` does both).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatSnippet } from '../../lib/file-refs';
import { TestRelay } from '../support/relay';
import { missingTools, startWorkbench, type WorkbenchSession } from './harness';
import { ActivityBar, Notifications, QuickInput, Tree, Webview, Workbench } from './pages';
import { eventually, packSwitchboard } from './world';
import { killCoreOf, Peer } from './peer';

describe('Code-aware conversations in VS Code (code-server + chromium, real relay and a peer)', { timeout: 330_000 }, () => {
  const relay = new TestRelay();
  const root = mkdtempSync(join(tmpdir(), 'sb-e2e-code-'));
  const aliceHome = join(root, 'alice');
  const folder = join(root, 'project');
  const bob = new Peer('bob', join(root, 'bob'));
  const source = Array.from({ length: 40 }, (_, i) => `export const line${i + 1} = ${i + 1};`).join('\n') + '\n';
  let vsixDir: string;
  let wb: WorkbenchSession;
  let workbench: Workbench;
  let qi: QuickInput;
  let notifications: Notifications;
  let inbox: Tree;
  let view: Webview;

  before(async () => {
    const missing = missingTools();
    if (missing) throw new Error(missing);
    vsixDir = mkdtempSync(join(tmpdir(), 'sb-e2e-vsix-'));
    const packed = Promise.resolve().then(() => packSwitchboard(vsixDir));
    mkdirSync(join(folder, 'src'), { recursive: true });
    writeFileSync(join(folder, 'src', 'app.ts'), source);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: folder, stdio: 'pipe' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'start');
    await relay.start();
    await relay.configureHome(aliceHome, 'alice');
    await bob.start(relay);
    wb = await startWorkbench({ scenario: 'code', vsix: await packed, folder, env: { SWITCHBOARD_HOME: aliceHome }, settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
    workbench = new Workbench(wb.page);
    qi = new QuickInput(wb.page);
    notifications = new Notifications(wb.page);
    inbox = new Tree(wb.page, 'Inbox');
    await workbench.waitReady();
  });

  after(async () => {
    if (wb) {
      await wb.screenshot('code-final').catch(() => undefined);
      await wb.close();
    }
    await killCoreOf(aliceHome);
    await bob.stop();
    await relay.dispose();
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    if (vsixDir) rmSync(vsixDir, { recursive: true, force: true });
  });

  /** The editor's cursor as the status bar says it ("Ln 12, Col 1"). */
  const cursor = async () => (await wb.page.locator('footer[role="status"]').innerText()).match(/Ln \d+, Col \d+( \(\d+ selected\))?/)?.[0];

  it('a fenced block renders highlighted in the theme\'s colours, with a copy button; raw HTML stays text', async () => {
    await new ActivityBar(wb.page).open('Switchboard');
    await inbox.expandPane();
    await inbox.root.locator('.welcome-view-content', { hasText: 'No messages yet.' }).waitFor({ state: 'visible', timeout: 60_000 });
    const body = 'The bug is at src/app.ts:12 — **see** this <script>window.__pwned=1</script>:\n\n```ts\nconst answer: number = "forty-two";\n```';
    const res = await bob.call('message/send', { to: 'alice', body, client_message_id: 'code-1', wait_ms: 30_000 });
    assert.equal(res.status, 'sent', JSON.stringify(res));
    await inbox.row('bob').waitFor({ state: 'visible', timeout: 30_000 });
    await inbox.contextMenu('bob', 'Open Conversation…');
    view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread');
    const code = view.locator('article.msg code.hljs.highlighted');
    await code.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal((await code.innerText()).trim(), 'const answer: number = "forty-two";');
    const keyword = view.locator('article.msg code.hljs span.hljs-keyword').filter({ hasText: 'const' });
    const str = view.locator('article.msg code.hljs span.hljs-string');
    const colour = (l: typeof keyword) => l.first().evaluate((e) => getComputedStyle(e).color);
    const plain = await code.evaluate((e) => getComputedStyle(e).color);
    assert.notEqual(await colour(keyword), plain, 'a keyword has its own colour');
    assert.notEqual(await colour(str), await colour(keyword), 'strings and keywords differ');
    assert.equal(await view.locator('article.msg .code-block button.code-copy').count(), 1);
    assert.equal(await view.locator('article.msg strong').innerText(), 'see');
    assert.match(await view.locator('article.msg .body').first().innerText(), /<script>window\.__pwned=1<\/script>/);
    assert.equal(await view.locator('article.msg script').count(), 0);
    await wb.screenshot('code-highlighted');
  });

  it('a file reference becomes a link that opens the file at its line', async () => {
    const ref = view.locator('article.msg a.file-ref[data-path="src/app.ts"]');
    await ref.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await ref.innerText(), 'src/app.ts:12');
    await ref.click();
    await wb.page.locator('.tabs-container .tab', { hasText: 'app.ts' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await eventually('the cursor at line 12', async () => ((await cursor()) === 'Ln 12, Col 1' ? 'Ln 12, Col 1' : undefined)), 'Ln 12, Col 1');
    await wb.screenshot('code-file-ref');
  });

  it('a snippet from another commit: Open in Editor selects its lines and says the checkout differs', async () => {
    const snippet = formatSnippet({ path: 'src/app.ts', startLine: 3, endLine: 5, languageId: 'typescript', commit: '0123456789abcdef0123456789abcdef01234567', code: source.split('\n').slice(2, 5).join('\n') }, 'why is this slow?');
    const res = await bob.call('message/send', { to: 'alice', body: snippet, client_message_id: 'code-2', wait_ms: 30_000 });
    assert.equal(res.status, 'sent', JSON.stringify(res));
    await wb.page.locator('.tabs-container .tab', { hasText: 'bob' }).first().click();
    view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread');
    const open = view.locator('article.msg button.code-open[data-path="src/app.ts"]');
    await open.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await view.locator('article.msg .code-source').last().innerText(), 'src/app.ts:3-5 @0123456');
    await wb.screenshot('code-snippet');
    await open.click();
    await notifications.waitFor(/this snippet is from commit 0123456; your checkout of src\/app\.ts is at [0-9a-f]{7}/, 20_000);
    const at = await eventually('lines 3-5 selected', async () => {
      const c = await cursor();
      return c && /^Ln 5, Col \d+ \(\d+ selected\)$/.test(c) ? c : undefined;
    });
    assert.match(at, /^Ln 5, Col 24 \(\d+ selected\)$/);
    await wb.screenshot('code-open-in-editor');
  });

  it('Find in Messages finds a message as you type and opens its conversation at it', async () => {
    await workbench.runCommand('Switchboard: Find in Messages…');
    await qi.waitTitle('Find in Messages');
    await qi.type('forty');
    const row = await qi.waitRow(/bob in bob/);
    assert.match(await row.innerText(), /forty/);
    await wb.screenshot('code-find');
    await qi.submit();
    view = await Webview.find(wb.page, '#composer');
    await view.locator('article.msg.revealed').waitFor({ state: 'attached', timeout: 20_000 });
    assert.match(await view.locator('article.msg.revealed').innerText(), /forty-two/);
  });

  it('a half-typed draft survives closing the view', async () => {
    await view.locator('#input').fill('half a thought about line 12');
    // the webview hands the draft to the host once typing pauses (500 ms)
    await wb.page.waitForTimeout(1500);
    await workbench.runCommand('View: Close Editor');
    await wb.page.locator('.tabs-container .tab', { hasText: 'bob' }).first().waitFor({ state: 'hidden', timeout: 10_000 });
    await inbox.contextMenu('bob', 'Open Conversation…');
    view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread article.msg');
    assert.equal(await eventually('the draft is back', async () => ((await view.locator('#input').inputValue()) === 'half a thought about line 12' ? 'ok' : undefined)), 'ok');
    await wb.screenshot('code-draft');
  });
});
