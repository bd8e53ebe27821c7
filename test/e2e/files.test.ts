/**
 * Files in the real workbench (issue 13): the real extension (packed with vsce) in code-server
 * + chromium, against a real relay process and a real peer, bob (a core in a temp home, driven
 * over its JSON-RPC socket). bob sends alice a PNG, an SVG and a text file: the Inbox marks the
 * message ("3 files"), the conversation previews the PNG inline (loaded under the CSP from the
 * home's store) and not the SVG, Save As writes the text file where alice typed; then alice
 * attaches a file from the composer (the file dialog is code-server's quick-input dialog: she
 * types the path) and bob's core receives it verified. Open shows a file under its own name; a
 * dropped uri-list attaches files, a desktop file is explained. Screenshots: artifacts/e2e/files-*.png.
 *
 * Needs `bash scripts/e2e-install.sh` and a build (`npm run test:e2e` does both).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import type { Message } from '../../protocol/rpc';
import { formatSize } from '../../lib/file-display';
import type { WorkbenchSession } from './harness';
import { ActivityBar, Attachments, FileDialog, Notifications, QuickInput, Tree, Webview, Workbench } from './pages';
import { eventually } from './world';
import { PeerWorld } from './peer-world';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A real PNG (RGB, `w`×`h`, a diagonal gradient) so the preview has something to decode. */
function png(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    raw[y * (1 + w * 3)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (1 + w * 3) + 1 + x * 3;
      raw[o] = (x * 255) / w;
      raw[o + 1] = (y * 255) / h;
      raw[o + 2] = 160;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

describe('Files in VS Code (code-server + chromium, real relay and a peer)', { timeout: 330_000 }, () => {
  const world = new PeerWorld({ scenario: 'files', peers: ['bob'] });
  const { aliceHome, root } = world;
  const bob = world.peer('bob');
  const bobFiles = join(root, 'bob-files');
  const aliceFiles = join(root, 'alice-files');
  const picture = png(48, 32);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>document.title="pwned"</script><rect width="10" height="10"/></svg>');
  const notes = Buffer.from('release notes\nline two\n');
  let wb: WorkbenchSession;
  let workbench: Workbench;
  let qi: QuickInput;
  let notifications: Notifications;
  let inbox: Tree;
  let view: Webview;
  let files: Attachments;

  before(async () => {
    await world.start(() => {
      mkdirSync(bobFiles);
      mkdirSync(aliceFiles);
      writeFileSync(join(bobFiles, 'chart.png'), picture);
      writeFileSync(join(bobFiles, 'logo.svg'), svg);
      writeFileSync(join(bobFiles, 'notes.txt'), notes);
    });
    ({ wb, workbench, qi, notifications, inbox } = world);
  });

  after(() => world.stop());

  it('bob sends three files: the Inbox marks the message "3 files"', async () => {
    await new ActivityBar(wb.page).open('Switchboard');
    await inbox.expandPane();
    await inbox.root.locator('.welcome-view-content', { hasText: 'No messages yet.' }).waitFor({ state: 'visible', timeout: 60_000 });
    const attachments = [
      { path: join(bobFiles, 'chart.png'), name: 'chart.png', sha256: sha256(picture), size: picture.length, mime: 'image/png' },
      { path: join(bobFiles, 'logo.svg'), name: 'logo.svg', sha256: sha256(svg), size: svg.length, mime: 'image/svg+xml' },
      { path: join(bobFiles, 'notes.txt'), name: 'notes.txt', sha256: sha256(notes), size: notes.length, mime: 'text/plain' },
    ];
    const res = await bob.call('message/send', { to: 'alice', body: 'the release files', attachments, wait_ms: 30_000 });
    assert.equal(res.status, 'sent', JSON.stringify(res));
    await inbox.row('bob').waitFor({ state: 'visible', timeout: 30_000 });
    await inbox.expand('bob');
    const row = inbox.row('the release files');
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await inbox.description('the release files'), / · 3 files$/);
    assert.equal(await row.locator('.codicon-circle-filled').count(), 1, 'unread comes first');
  });

  it('the conversation lists each file with type and size, previews the PNG inline, never the SVG; read, the Inbox row has a paperclip', async () => {
    await inbox.contextMenu('bob', 'Open Conversation…');
    view = await Webview.find(wb.page, '#composer');
    await view.waitReady('#thread');
    files = new Attachments(view);
    await files.item('chart.png').waitFor({ state: 'visible', timeout: 20_000 });
    // alice's core downloads small files at once (auto_download_bytes): each becomes ready, verified
    await eventually('the files are ready', async () => (await view.locator('li.attachment.state-ready').count()) === 3, 30_000);
    assert.equal(await files.meta('chart.png'), `PNG image · ${formatSize(picture.length)} · ready`);
    assert.equal(await files.meta('notes.txt'), `text · ${formatSize(notes.length)} · ready`);
    assert.match(await files.meta('logo.svg'), /^SVG image · /);
    const img = files.preview('chart.png');
    await img.waitFor({ state: 'visible', timeout: 20_000 });
    // the image decoded: it was served from the home's files dir under the CSP's img-src
    const size = await eventually('the preview decoded', async () => {
      const s = await img.evaluate((e) => ({ w: (e as HTMLImageElement).naturalWidth, h: (e as HTMLImageElement).naturalHeight, complete: (e as HTMLImageElement).complete }));
      return s.complete && s.w > 0 ? s : undefined;
    });
    assert.deepEqual({ w: size.w, h: size.h }, { w: 48, h: 32 });
    assert.equal(await files.preview('logo.svg').count(), 0, 'an SVG is never live content');
    assert.equal(await files.preview('notes.txt').count(), 0);
    assert.equal(await view.locator('img').count(), 1, 'the one preview is the only image');
    // read now: the Inbox row's icon is the paperclip
    await eventually('the paperclip in the Inbox', async () => (await inbox.row('the release files').locator('.codicon-paperclip').count()) === 1);
    await wb.screenshot('files-preview');
  });

  it('Save As writes the file where alice typed, byte for byte', async () => {
    const target = join(aliceFiles, 'saved-notes.txt');
    await files.button('notes.txt', 'save').click();
    await new FileDialog(qi).choose(/Save notes\.txt/, target);
    await eventually(`${target} written`, async () => existsSync(target) && readFileSync(target).length === notes.length, 20_000);
    assert.deepEqual(readFileSync(target), notes);
    await notifications.waitFor(`Switchboard: saved notes.txt to ${target}`, 20_000);
  });

  it('Open shows the file in VS Code under its own name', async () => {
    await files.button('chart.png', 'open').click();
    await wb.page.locator('.tabs-container .tab', { hasText: 'chart.png' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    // back to the conversation for what follows
    await wb.page.locator('.tabs-container .tab', { hasText: 'bob' }).first().click();
    await view.waitReady('#thread');
  });

  it('a drop of Explorer files (a uri-list) attaches them; a desktop file (no path) is explained', async () => {
    const path = join(aliceFiles, 'dropped.txt');
    writeFileSync(path, 'dropped\n');
    // the drop event VS Code hands the webview: the dragged resources as a uri-list
    await view.locator('#thread').evaluate((el, uri) => {
      const dt = new DataTransfer();
      dt.setData('text/uri-list', uri);
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, `file://${path}`);
    await eventually('the composer lists dropped.txt', async () => (await files.pending()).includes('dropped.txt'));
    await view.locator('#pending button.pending-remove').first().click();
    await eventually('the composer is empty again', async () => (await files.pending()).length === 0);
    await view.locator('#thread').evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'desktop.txt', { type: 'text/plain' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await view.content.locator('#verdict.verdict-failed', { hasText: 'Files from outside VS Code cannot be dropped here' }).waitFor({ state: 'visible', timeout: 10_000 });
    assert.deepEqual(await files.pending(), []);
  });

  it('Send Message from the palette attaches a file with its Attach Files… button', async () => {
    const path = join(aliceFiles, 'palette.txt');
    const bytes = Buffer.from('sent from the palette\n');
    writeFileSync(path, bytes);
    await workbench.runCommand('Switchboard: Send Message…');
    await qi.waitTitle('Send Message: recipient');
    await qi.type('bob');
    await (await qi.waitRow('bob')).click();
    await qi.waitTitle('Send Message to bob');
    await qi.widget.locator('.quick-input-titlebar .action-label[aria-label="Attach Files…"]').click();
    await new FileDialog(qi).choose(/^Attach files for Send Message to bob$/, path);
    // the message box comes back, listing the file
    await qi.waitTitle('Send Message to bob');
    await qi.message().filter({ hasText: /1 file: palette\.txt/ }).waitFor({ state: 'visible', timeout: 10_000 });
    await qi.fill('from the palette, with a file');
    await qi.submit();
    const got = await eventually(
      "bob's core has palette.txt, ready",
      async () => {
        const m = (await bob.call('inbox/list', { limit: 50 })).messages.find((x: Message) => x.from === 'alice' && x.body === 'from the palette, with a file');
        const a = m?.attachments[0];
        return a?.state === 'ready' ? a : undefined;
      },
      60_000,
    );
    assert.equal(got.name, 'palette.txt');
    assert.deepEqual(readFileSync(got.path!), bytes);
  });

  it('alice attaches a file from the composer: bob receives it, verified', async () => {
    const report = Buffer.from(`report ${'x'.repeat(5000)}\n`);
    const path = join(aliceFiles, 'report.txt');
    writeFileSync(path, report);
    await files.attachButton().click();
    await new FileDialog(qi).choose(/^Attach files for bob$/, path);
    await eventually('the composer lists report.txt', async () => (await files.pending()).includes('report.txt'));
    await view.locator('#input').fill('here is my report');
    await view.locator('#input').press('Enter');
    const mine = view.locator('article.msg.out').filter({ hasText: 'here is my report' });
    await mine.waitFor({ state: 'visible', timeout: 30_000 });
    await files.item('report.txt').waitFor({ state: 'visible' });
    assert.deepEqual(await files.pending(), [], 'the composer is empty again');
    const got = await eventually(
      "bob's core has report.txt, ready",
      async () => {
        const m = (await bob.call('inbox/list', { limit: 50 })).messages.find((x: Message) => x.from === 'alice' && x.body === 'here is my report');
        const a = m?.attachments[0];
        return a?.state === 'ready' ? a : undefined;
      },
      60_000,
    );
    assert.equal(got.name, 'report.txt');
    assert.equal(got.size, report.length);
    assert.equal(got.sha256, sha256(report));
    assert.deepEqual(readFileSync(got.path!), report, "bob's verified copy is alice's bytes");
    // the composer said "Sending the file…" while it uploaded; it says how it ended
    await view.locator('#verdict.verdict-sent').waitFor({ state: 'visible', timeout: 30_000 });
    await wb.screenshot('files-sent');
  });
});
