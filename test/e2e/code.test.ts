/**
 * Code-aware conversations in the real workbench (issue 15): the real extension (packed with
 * vsce) in code-server + chromium, against a real relay process and a real peer, bob (a core
 * in a temp home, driven over its JSON-RPC socket). alice's window has a workspace folder that
 * is a git checkout. bob sends a message with a fenced TypeScript block and a file reference,
 * and a snippet as Send Selection writes it (taken at another commit): the block renders
 * highlighted in the theme's colours, the reference opens the file at its line, Open in Editor
 * opens the snippet's lines and says the checkout is at another commit, and Find in Messages
 * finds the message, and a draft survives closing the view. alice also sends lines 7-9 of
 * src/app.ts with Send Selection… (palette, quick pick, note): bob's core gets the fenced snippet
 * with path:range, language and commit, and Open in Editor on his copy selects those lines; a
 * draft survives a window reload. Screenshots: artifacts/e2e/code-*.png.
 *
 * Needs `bash scripts/e2e-install.sh` and a build (`npm run test:e2e` does both).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatSnippet } from '../../lib/file-refs';
import type { WorkbenchSession } from './harness';
import { ActivityBar, Notifications, QuickInput, Tree, Webview, Workbench } from './pages';
import { eventually } from './world';
import { PeerWorld } from './peer-world';

describe('Code-aware conversations in VS Code (code-server + chromium, real relay and a peer)', { timeout: 330_000 }, () => {
  const world = new PeerWorld({ scenario: 'code', peers: ['bob'], workspace: 'project' });
  const folder = world.folder!;
  const bob = world.peer('bob');
  const source = Array.from({ length: 40 }, (_, i) => `export const line${i + 1} = ${i + 1};`).join('\n') + '\n';
  let wb: WorkbenchSession;
  let workbench: Workbench;
  let qi: QuickInput;
  let notifications: Notifications;
  let inbox: Tree;
  let view: Webview;

  before(async () => {
    await world.start(() => {
      mkdirSync(join(folder, 'src'), { recursive: true });
      writeFileSync(join(folder, 'src', 'app.ts'), source);
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: folder, stdio: 'pipe' });
      git('init', '-q');
      git('add', '.');
      git('commit', '-qm', 'start');
    });
    ({ wb, workbench, qi, notifications, inbox } = world);
  });

  after(() => world.stop());

  /**
   * Waits until the workbench's own storage holds `text`: in code-server an extension's
   * workspaceState lives in the browser's IndexedDB (vscode-web-state-db-*, table ItemTable),
   * so a draft the host kept is observable there instead of waiting for a guessed while.
   */
  const draftStored = (text: string) =>
    eventually(
      `the draft "${text}" in the workbench's storage`,
      () =>
        wb.page.evaluate(async (want) => {
          const dbs = (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith('vscode-web-state-db'));
          for (const name of dbs) {
            const db = await new Promise<IDBDatabase>((ok, fail) => {
              const r = indexedDB.open(name);
              r.onsuccess = () => ok(r.result);
              r.onerror = () => fail(r.error);
            });
            try {
              if (!db.objectStoreNames.contains('ItemTable')) continue;
              const values = await new Promise<unknown[]>((ok, fail) => {
                const r = db.transaction('ItemTable', 'readonly').objectStore('ItemTable').getAll();
                r.onsuccess = () => ok(r.result as unknown[]);
                r.onerror = () => fail(r.error);
              });
              if (values.some((v) => typeof v === 'string' && v.includes(want))) return true;
            } finally {
              db.close();
            }
          }
          return false;
        }, text),
      30_000,
      200,
    );

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

  it('Send Selection… from the editor reaches bob as a fenced snippet with path:range, language and commit; bob\'s copy opens at those lines', async () => {
    // open src/app.ts and select lines 7-9 like a person: Quick Open, Go to Line, Shift+Down
    const palette = await workbench.openCommandPalette();
    await palette.fill('src/app.ts');
    await palette.waitRow(/^app\.ts$/);
    await palette.submit();
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'app.ts' }).waitFor({ state: 'visible', timeout: 20_000 });
    await workbench.runCommand('Go to Line/Column...');
    await qi.type('7');
    await qi.submit();
    await qi.waitClosed(10_000);
    await eventually('the cursor at line 7', async () => (await cursor()) === 'Ln 7, Col 1');
    for (let i = 0; i < 3; i++) await wb.page.keyboard.press('Shift+ArrowDown');
    // ending at column 1 of line 10 does not take line 10 (selectedLines)
    await eventually('lines 7-9 selected', async () => /^Ln 10, Col 1 \(\d+ selected\)$/.test((await cursor()) ?? ''));
    await workbench.runCommand('Switchboard: Send Selection…');
    await qi.waitTitle('Send Selection (src/app.ts:7-9): recipient');
    await qi.type('bob');
    await qi.pick('bob');
    await qi.waitTitle('Send src/app.ts:7-9 to bob');
    await qi.fill('is this the right range?');
    await wb.screenshot('code-send-selection');
    await qi.submit();
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: folder, encoding: 'utf8' }).trim();
    const expected = formatSnippet({ path: 'src/app.ts', startLine: 7, endLine: 9, languageId: 'typescript', commit: head, code: source.split('\n').slice(6, 9).join('\n') }, 'is this the right range?');
    const got = await eventually('bob has the snippet', async () => (await bob.call('inbox/list', { in: 'alice', limit: 50 })).messages.find((m) => m.from === 'alice' && m.body.includes('src/app.ts:7-9')), 30_000);
    assert.match(got.body, new RegExp(`^\`\`\`typescript src/app\\.ts:7-9 @${head.slice(0, 12)}$`, 'm'), 'the fence header says language, path:range and commit');
    assert.equal(got.body, expected);
    // bob sends it back as is: in alice's view it is a snippet of her own checkout's commit
    await workbench.runCommand('Notifications: Clear All Notifications');
    const res = await bob.call('message/send', { to: 'alice', body: got.body, client_message_id: 'code-3', wait_ms: 30_000 });
    assert.equal(res.status, 'sent', JSON.stringify(res));
    await wb.page.locator('.tabs-container .tab', { hasText: 'bob' }).first().click();
    view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread');
    // alice's own copy (article.msg.out) shows the same snippet; the one bob sent is article.msg.in
    const fromBob = view.content.locator('article.msg.in', { has: view.content.locator('.code-source', { hasText: `src/app.ts:7-9 @${head.slice(0, 7)}` }) }).last();
    await fromBob.waitFor({ state: 'visible', timeout: 20_000 });
    await fromBob.locator('button.code-open[data-path="src/app.ts"]').click();
    const at = await eventually('lines 7-9 selected by Open in Editor', async () => {
      const c = await cursor();
      return c && /^Ln 9, Col \d+ \(\d+ selected\)$/.test(c) ? c : undefined;
    });
    // line 9 is `export const line9 = 9;` (23 characters): the range ends at its end
    assert.equal(at.replace(/ \(\d+ selected\)$/, ''), 'Ln 9, Col 24');
    await wb.screenshot('code-send-selection-open');
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
    // the webview hands the draft to the host once typing pauses; the host keeps it in workspaceState
    await draftStored('half a thought about line 12');
    await workbench.runCommand('View: Close Editor');
    await wb.page.locator('.tabs-container .tab', { hasText: 'bob' }).first().waitFor({ state: 'hidden', timeout: 10_000 });
    await inbox.contextMenu('bob', 'Open Conversation…');
    view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread article.msg');
    assert.equal(await eventually('the draft is back', async () => ((await view.locator('#input').inputValue()) === 'half a thought about line 12' ? 'ok' : undefined)), 'ok');
    await wb.screenshot('code-draft');
  });

  it('a half-typed draft survives a window reload', async () => {
    const draft = 'and another thought, about line 30';
    await view.locator('#input').fill(draft);
    await draftStored(draft);
    // Developer: Reload Window reloads the page itself: run it from the palette and wait for that load
    const palette = await workbench.openCommandPalette();
    await palette.type('Developer: Reload Window');
    const row = await palette.waitRow(/^\s*(?:Developer:\s*)?Reload Window\s*$/);
    const reloaded = wb.page.waitForEvent('load', { timeout: 90_000 });
    await row.click();
    await reloaded;
    await workbench.waitReady(90_000);
    await new ActivityBar(wb.page).open('Switchboard');
    await inbox.expandPane();
    await inbox.row('bob').waitFor({ state: 'visible', timeout: 60_000 });
    await inbox.contextMenu('bob', 'Open Conversation…');
    view = await Webview.find(wb.page, '#composer', 60_000);
    await view.waitReady('#thread article.msg', 60_000);
    assert.equal(await eventually('the draft is back after the reload', async () => ((await view.locator('#input').inputValue()) === draft ? 'ok' : undefined), 30_000), 'ok');
    await wb.screenshot('code-draft-reload');
  });
});
