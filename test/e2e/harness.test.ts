/**
 * Smoke test of the e2e harness and page objects against a real workbench, using the fixture
 * extension in test/e2e/fixtures/smoke-extension (a status bar item, a view container with
 * two trees, notification / quick pick / input box commands, a webview panel).
 * Needs `bash scripts/e2e-install.sh` first.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { missingTools, startWorkbench, type WorkbenchSession } from './harness';
import { ActivityBar, Notifications, QuickInput, StatusBar, Tree, Webview, Workbench } from './pages';
import { REPO_ROOT } from './paths';
import { packVsix } from './vsix';

const FIXTURE = join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'smoke-extension');
const STATUS_ID = 'switchboard-e2e.e2e-smoke.smoke.status';

describe('e2e harness (fixture extension in code-server + chromium)', { timeout: 240_000 }, () => {
  let wb: WorkbenchSession;
  let vsixDir: string;
  let workbench: Workbench;
  let statusBar: StatusBar;

  before(async () => {
    const missing = missingTools();
    if (missing) throw new Error(missing);
    vsixDir = mkdtempSync(join(tmpdir(), 'sb-e2e-vsix-'));
    const vsix = join(vsixDir, 'e2e-smoke.vsix');
    packVsix(FIXTURE, vsix);
    wb = await startWorkbench({
      scenario: 'harness',
      vsix,
      env: { SWITCHBOARD_E2E_PROBE: 'probe-1234' },
      settings: { 'workbench.colorTheme': 'Default Dark Modern' },
    });
    workbench = new Workbench(wb.page);
    statusBar = new StatusBar(wb.page);
    await workbench.waitReady();
  });

  after(async () => {
    if (wb) {
      await wb.screenshot('harness-final').catch(() => undefined);
      await wb.close();
    }
    if (vsixDir) rmSync(vsixDir, { recursive: true, force: true });
  });

  /** Waits for the fixture's status bar item to read "Smoke: <event>". */
  async function waitStatus(event: string): Promise<void> {
    const item = statusBar.byId(STATUS_ID);
    try {
      await item.filter({ hasText: `Smoke: ${event}` }).waitFor({ state: 'visible', timeout: 15_000 });
    } catch (err) {
      const now = await item.innerText().catch(() => '(no item)');
      throw new Error(`status bar never read "Smoke: ${event}" (it reads "${now.trim()}")`, { cause: err });
    }
  }

  it('activates the installed extension; its status bar item sees the env passed in', async () => {
    const item = statusBar.item('Smoke: ready');
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await statusBar.text(item), 'Smoke: ready');
    assert.equal(await statusBar.ariaLabel(item), 'Smoke status, probe probe-1234');
    assert.equal(await statusBar.item('probe probe-1234').getAttribute('id'), STATUS_ID);
    await wb.screenshot('harness-status-bar');
  });

  it('opens the view container and drives the tree: expand, inline action, context menu', async () => {
    const container = await new ActivityBar(wb.page).open('Smoke Test');
    assert.equal(await container.isOpen(), true);
    const items = new Tree(wb.page, 'Smoke Items');
    await items.row('Alpha').waitFor({ state: 'visible' });
    assert.deepEqual(await items.labels(), ['Alpha', 'Beta']);
    assert.equal(await items.description('Alpha'), '2 children');
    await items.expand('Alpha');
    assert.equal(await items.isExpanded('Alpha'), true);
    await items.row('Alpha Two').waitFor({ state: 'visible' });
    assert.deepEqual(await items.labels(), ['Alpha', 'Alpha One', 'Alpha Two', 'Beta']);

    await items.inlineAction('Beta', 'Run Item');
    await waitStatus('run Beta');

    assert.ok((await items.contextMenuItems('Alpha One')).includes('Mark Item'));
    await items.contextMenu('Alpha One', 'Mark Item');
    await waitStatus('mark Alpha One');

    const log = new Tree(wb.page, 'Smoke Log');
    await log.row('3. mark Alpha One').waitFor({ state: 'visible' });
    await wb.screenshot('harness-tree');
  });

  it('runs a command from the palette and clicks a notification action', async () => {
    const notifications = new Notifications(wb.page);
    await workbench.runCommand('Show Notification');
    const toast = await notifications.waitFor('Smoke notification');
    assert.equal(await notifications.message(toast), 'Smoke notification: proceed?');
    await wb.screenshot('harness-notification');
    await notifications.clickAction('Smoke notification', 'Yes');
    await waitStatus('notification Yes');
    await toast.waitFor({ state: 'hidden' });
  });

  it('picks from a quick pick and answers an input box', async () => {
    const qi = new QuickInput(wb.page);
    await workbench.runCommand('Smoke: Pick Item');
    await qi.waitOpen();
    assert.deepEqual(await qi.labels(), ['Alpha', 'Beta', 'Gamma']);
    await qi.type('gam');
    assert.deepEqual(await qi.labels(), ['Gamma']);
    await qi.pick('Gamma');
    await waitStatus('picked Gamma');

    await workbench.runCommand('Ask Name');
    await qi.waitOpen();
    await qi.type('Ada');
    await qi.submit();
    await qi.waitClosed();
    await waitStatus('name Ada');

    // Clicking the status bar item runs its command (the quick pick again); Escape cancels it.
    await statusBar.click('Smoke: name Ada');
    await qi.waitOpen();
    await qi.cancel();
    await waitStatus('picked nothing');
  });

  it('reads and clicks inside a webview, two frames deep', async () => {
    await workbench.runCommand('Smoke: Open Panel');
    await waitStatus('panel opened');
    const view = await Webview.find(wb.page, '#hello');
    await view.waitReady('#ping');
    assert.equal(await view.text('#hello'), 'Hello from smoke');
    assert.equal(await view.text('#probe'), 'probe=probe-1234');
    await view.locator('#ping').click();
    await waitStatus('webview ping');
    await view.locator('#reply').filter({ hasText: 'pong' }).waitFor({ state: 'visible' });
    await wb.screenshot('harness-webview');
  });
});
