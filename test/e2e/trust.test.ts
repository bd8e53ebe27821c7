/**
 * A changed key in the real workbench (issue 18): the packed extension in code-server +
 * chromium, a real relay process and a real peer, bob (a core in a temp home). alice writes to
 * bob (her core pins his keys on that first contact); the relay then serves another key for bob
 * (its operator swaps his record, as test/integration/send-key-check.test.ts does); opening the
 * conversation again looks his keys up: the Inbox row and the conversation header show the
 * change; alice's send from the composer is refused with a notification and her text stays;
 * the notification's Verify Safety Number… shows both numbers and Accept New Keys, and the
 * same text then leaves, sealed for the accepted key: the operator's, so bob's real core
 * refuses it and says so (what accepting a key one did not verify costs). Screenshots go to artifacts/e2e/trust-*.png.
 *
 * Needs `bash scripts/e2e-install.sh` and a build (`npm run test:e2e` does both).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { RelayStore } from '../../relay/store';
import { ActivityBar, Dialog, Webview } from './pages';
import { PeerWorld } from './peer-world';
import { eventually } from './world';

/** The relay operator replaces bob's device record with a self-signed one of a key of their own. */
function swapBobsKey(dataDir: string): void {
  const store = RelayStore.open(dataDir);
  try {
    const row = store.db.prepare("SELECT device FROM device_keys WHERE user = 'bob'").get() as { device: string } | undefined;
    assert.ok(row, "bob's core published his keys");
    store.db.prepare("UPDATE device_keys SET record = ? WHERE user = 'bob'").run(JSON.stringify(signDeviceRecord(generateIdentity(), 'bob', row.device, Date.now())));
  } finally {
    store.close();
  }
}

describe('A changed key in VS Code (code-server + chromium, real relay and a peer)', { timeout: 300_000 }, () => {
  const world = new PeerWorld({ scenario: 'trust', peers: ['bob'] });
  const bob = world.peer('bob');

  before(() => world.start());
  after(() => world.stop());

  it('bob’s key changes: the Inbox and the header mark it, the send is refused and kept, Accept New Keys lets it go', async () => {
    const { wb, inbox, notifications, workbench } = world;
    await bob.call('message/send', { to: 'alice', body: 'hi alice', wait_ms: 10_000 });
    await new ActivityBar(wb.page).open('Switchboard');
    await inbox.expandPane();
    await inbox.row('bob').waitFor({ state: 'visible', timeout: 60_000 });

    // first contact: alice's send pins bob's keys as they are now
    await inbox.contextMenu('bob', 'Open Conversation…');
    let view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread article.msg');
    await view.locator('#trust.trust-unverified').waitFor({ state: 'visible', timeout: 20_000 });
    await view.locator('#input').fill('first contact');
    await view.locator('#input').press('Enter');
    await view.locator('#verdict.verdict-sent').waitFor({ state: 'visible', timeout: 30_000 });

    swapBobsKey(world.relay.dataDir);
    await workbench.runCommand('View: Close Editor');
    await wb.page.locator('.tabs-container .tab', { hasText: 'bob' }).first().waitFor({ state: 'hidden', timeout: 10_000 });
    // opening the conversation looks bob's keys up again: the change shows before anything is sent
    await inbox.contextMenu('bob', 'Open Conversation…');
    view = await Webview.find(wb.page, '#composer');
    await view.locator('#trust.trust-changed').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await view.text('#trust-text'), 'Keys changed: sends are blocked until you verify the safety number and accept the new keys.');
    await eventually('the Inbox row says keys changed', async () => /^keys changed · /.test(await inbox.description('bob')), 20_000);
    assert.equal(await inbox.row('bob').locator('.codicon-warning').count(), 1, 'the warning badge on the row');
    await wb.screenshot('trust-changed');

    const text = 'are these your new keys?';
    await view.locator('#input').fill(text);
    await view.locator('#input').press('Enter');
    const refusal = /^Switchboard: Not sent to bob: bob's keys changed since you last saw them\./;
    await notifications.waitFor(refusal, 30_000);
    await view.locator('#verdict.verdict-failed').waitFor({ state: 'visible' });
    assert.match(await view.text('#verdict'), /Your message is kept in the composer\.$/);
    assert.equal(await view.locator('#input').inputValue(), text, 'the text stays');
    await wb.screenshot('trust-refused');

    await notifications.clickAction(refusal, 'Verify Safety Number…');
    const dialog = new Dialog(wb.page);
    await dialog.waitFor('Safety number of you and bob', 30_000);
    const detail = await dialog.detail();
    assert.match(detail, /^bob: keys changed \(1 device\)/);
    assert.match(detail, /\nSafety number: (\d{5} ){11}\d{5}\nNew safety number: (\d{5} ){11}\d{5}\n/);
    assert.ok((await dialog.buttons()).includes('Accept New Keys'));
    assert.equal((await dialog.buttons()).includes('Mark as Verified'), false, 'a changed key cannot be confirmed');
    await wb.screenshot('trust-dialog');
    await dialog.click('Accept New Keys');
    await notifications.waitFor(/^Switchboard: accepted bob's new keys/, 30_000);
    await view.locator('#trust.trust-unverified').waitFor({ state: 'visible', timeout: 20_000 });
    await eventually('the Inbox row no longer says keys changed', async () => !/keys changed/.test(await inbox.description('bob')), 20_000);

    // the kept text goes as it is, sealed for the keys alice accepted: the operator's, which
    // bob's real core cannot open; it refuses the message and says so, and never shows it
    await view.locator('#input').press('Enter');
    await view.locator('#verdict.verdict-sent').waitFor({ state: 'visible', timeout: 30_000 });
    await wb.screenshot('trust-accepted');
    const refusedAtBob = /refused message \S+ from alice: the message from alice does not decrypt/;
    await eventually('bob refuses what was sealed for the operator’s key', async () => refusedAtBob.test((await bob.call('status/get', {})).sync.last_error ?? ''), 30_000);
    assert.equal((await bob.call('inbox/list', { from: 'alice', limit: 20 })).messages.some((m) => m.body === text), false, 'bob is never shown it');
  });
});
