/**
 * Files in the extension and the webview, the pure parts: sizes and types as words, which
 * files may be previewed (MIME and bytes, never SVG), the message → view model, safe names for
 * Save As, the store-path check, the thread's rendering of attachments, and the webview
 * protocol's refusal of hostile input.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { attachmentStateText, fileTypeLabel, filesCount, filesLine, formatProgress, formatSize, imageKindOfBytes, mayPreview } from '../../lib/file-display';
import { messageIconId, messageItemText } from '../../extension/format';
import { FileProblem, hashFile, isStoreFile, mimeOfName, pickedFile, previewable, toThreadAttachment } from '../../extension/files';
import type { Attachment, Message } from '../../protocol/rpc';
import type { ThreadAttachment, ThreadMessage } from '../../protocol/webview';
import { parseHostToWebview, parseWebviewToHost } from '../../protocol/webview-schemas';
import { applyProgress, attachmentActions, renderMessage } from '../../webview/render';
import { droppedUris } from '../../webview/drop';
import { doc, El } from '../support/dom-shim';
import { messageFixture } from '../support/messages';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
const GIF = new TextEncoder().encode('GIF89a\x01\x00\x01\x00\x00\x00');
const WEBP = new TextEncoder().encode('RIFF\x10\x00\x00\x00WEBPVP8 ');
const SVG = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
const HTML = new TextEncoder().encode('<!DOCTYPE html><script>alert(1)</script>');

const SHA = 'a'.repeat(64);
const att = (over: Partial<Attachment> = {}): Attachment => ({ index: 0, name: 'photo.png', size: 2048, sha256: SHA, mime: 'image/png', state: 'ready', transferred: 2048, error: null, path: `/h/files/${SHA}`, ...over });
const view = (over: Partial<ThreadAttachment> = {}): ThreadAttachment => ({ index: 0, name: 'photo.png', size: 2048, mime: 'image/png', state: 'ready', transferred: 2048, error: null, preview: null, ...over });
const message = (over: Partial<Message> = {}): Message => messageFixture({ read: true, ...over });
const thread = (over: Partial<ThreadMessage> = {}): ThreadMessage => ({ id: 'm1', direction: 'in', from: 'bob', to: 'me', body: '', created_at: '2026-11-24T11:58:00Z', state: 'received', read: true, reply_to: null, group: null, mentions: [], mentions_me: true, receipts: null, attachments: [view()], ...over });
const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('sizes and types as words', () => {
  it('formats sizes at the unit boundaries', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(1023), '1023 B');
    assert.equal(formatSize(1024), '1.0 KB');
    assert.equal(formatSize(1536), '1.5 KB');
    assert.equal(formatSize(10 * 1024), '10 KB');
    assert.equal(formatSize(1024 * 1024 - 1), '1023 KB');
    assert.equal(formatSize(1024 * 1024), '1.0 MB');
    assert.equal(formatSize(100 * 1024 * 1024), '100 MB');
    assert.equal(formatSize(5 * 1024 ** 3), '5.0 GB');
    assert.equal(formatSize(-1), '? B');
    assert.equal(formatProgress(512 * 1024, 2 * 1024 * 1024), '512 KB of 2.0 MB (25%)');
    assert.equal(formatProgress(0, 0), '0 B of 0 B (100%)');
  });
  it('names types, and shows an unknown one as given, on one line', () => {
    assert.equal(fileTypeLabel('image/png'), 'PNG image');
    assert.equal(fileTypeLabel('IMAGE/JPEG; q=1'), 'JPEG image');
    assert.equal(fileTypeLabel(''), 'file');
    assert.equal(fileTypeLabel('text/x-rust'), 'text/x-rust');
    assert.doesNotMatch(fileTypeLabel('text/x\n\u202eevil'), /[\n\u202e]/);
    assert.equal(mimeOfName('Report.PDF'), 'application/pdf');
    assert.equal(mimeOfName('noext'), 'application/octet-stream');
  });
  it('says where a file stands', () => {
    assert.equal(attachmentStateText(view({ state: 'remote' })), 'not downloaded');
    assert.equal(attachmentStateText(view({ state: 'downloading', transferred: 1024, size: 4096 })), 'downloading 1.0 KB of 4.0 KB (25%)');
    assert.equal(attachmentStateText(view({ state: 'failed', error: 'the bytes do not match their hash' })), 'failed: the bytes do not match their hash');
    assert.equal(filesCount(0), '');
    assert.equal(filesCount(1), '1 file');
    assert.equal(filesCount(3), '3 files');
    assert.equal(filesLine(['a.png', 'b.png']), 'a.png, b.png');
    assert.match(filesLine(['x'.repeat(50), 'y'.repeat(50), 'z']), /^x+… \+2$/, 'long lists end with how many more');
  });
});

describe('which files are previewed as images', () => {
  it('recognises PNG, JPEG, GIF and WebP by their bytes', () => {
    assert.equal(imageKindOfBytes(PNG), 'image/png');
    assert.equal(imageKindOfBytes(JPEG), 'image/jpeg');
    assert.equal(imageKindOfBytes(GIF), 'image/gif');
    assert.equal(imageKindOfBytes(WEBP), 'image/webp');
    assert.equal(imageKindOfBytes(SVG), null);
    assert.equal(imageKindOfBytes(PNG.subarray(0, 7)), null, 'a truncated signature');
    assert.equal(imageKindOfBytes(new Uint8Array()), null);
  });
  it('needs the MIME type and the bytes to agree, and never previews SVG', () => {
    assert.equal(mayPreview('image/png', PNG), true);
    assert.equal(mayPreview('image/webp', WEBP), true);
    assert.equal(mayPreview('image/svg+xml', SVG), false, 'SVG is a document, not a picture');
    assert.equal(mayPreview('image/png', SVG), false, 'an SVG named photo.png');
    assert.equal(mayPreview('image/png', HTML), false, 'an HTML page named photo.png');
    assert.equal(mayPreview('image/jpeg', PNG), false, 'the bytes are another type than the sender said');
    assert.equal(mayPreview('application/octet-stream', PNG), false, 'not announced as an image');
    assert.equal(mayPreview('text/html', HTML), false);
  });
});

describe('files on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-ext-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const files = join(dir, 'files');
  mkdirSync(join(files, 'partial'), { recursive: true });
  const png = Buffer.concat([Buffer.from(PNG), Buffer.alloc(100)]);
  const sha = createHash('sha256').update(png).digest('hex');
  writeFileSync(join(files, sha), png);
  writeFileSync(join(files, 'partial', sha), png);
  const svgSha = createHash('sha256').update(SVG).digest('hex');
  writeFileSync(join(files, svgSha), SVG);
  writeFileSync(join(dir, 'outside'), png);
  const linkSha = 'b'.repeat(64);
  symlinkSync(join(dir, 'outside'), join(files, linkSha));

  it('hashes a file in a stream', async () => {
    const seen: number[] = [];
    assert.deepEqual(await hashFile(join(files, sha), (n) => seen.push(n)), { sha256: sha, size: png.length });
    assert.equal(seen.at(-1), png.length);
  });
  it('refuses a folder, a missing file and one over the limit, naming it', async () => {
    await assert.rejects(pickedFile(files), (e: Error) => e instanceof FileProblem && /is a folder/.test(e.message));
    await assert.rejects(pickedFile(join(dir, 'nope')), (e: Error) => e instanceof FileProblem && /nope: no such file/.test(e.message));
    await assert.rejects(pickedFile(join(dir, 'outside'), 10), (e: Error) => e instanceof FileProblem && /too large/.test(e.message));
    assert.deepEqual(await pickedFile(join(dir, 'outside')), { path: join(dir, 'outside'), name: 'outside', size: png.length, mime: 'application/octet-stream' });
  });
  it('takes only a verified store file: not a partial, not a link out, not another hash', async () => {
    assert.equal(await isStoreFile(join(files, sha), files, sha), true);
    assert.equal(await isStoreFile(join(files, 'partial', sha), files, sha), false, 'a partial download');
    assert.equal(await isStoreFile(join(files, linkSha), files, linkSha), false, 'a link out of the store');
    assert.equal(await isStoreFile(join(files, sha), files, svgSha), false, 'another file than the hash names');
    assert.equal(await isStoreFile(join(files, sha), files, 'not-a-hash'), false);
    assert.equal(await isStoreFile(files, dir, 'files'), false);
  });
  it('previews a ready image from the store whose bytes agree, and nothing else', async () => {
    assert.equal(await previewable(att({ sha256: sha, path: join(files, sha) }), files), true);
    assert.equal(await previewable(att({ sha256: sha, path: join(files, sha), state: 'downloading' }), files), false);
    assert.equal(await previewable(att({ sha256: svgSha, path: join(files, svgSha) }), files), false, 'an SVG with a PNG type');
    assert.equal(await previewable(att({ sha256: svgSha, path: join(files, svgSha), mime: 'image/svg+xml' }), files), false);
    assert.equal(await previewable(att({ sha256: sha, path: join(files, 'partial', sha) }), files), false);
    assert.equal(await previewable(att({ sha256: linkSha, path: join(files, linkSha) }), files), false);
  });
});

describe('message → view model', () => {
  it('maps attachments and gives a preview only to a ready one', () => {
    assert.deepEqual(toThreadAttachment(att(), 'https://x/y'), view({ preview: 'https://x/y' }));
    assert.equal(toThreadAttachment(att({ state: 'downloading' }), 'https://x/y').preview, null);
    assert.equal(toThreadAttachment(att({ name: '' }), null).name, 'file', 'the schema needs a name: never an empty one');
    assert.equal('path' in toThreadAttachment(att(), null), false, 'no path reaches the webview');
  });
  it('marks messages with files in the Inbox tree', () => {
    const m = message({ attachments: [att(), att({ index: 1, name: 'notes.txt', mime: 'text/plain', state: 'remote', path: null })] });
    const t = messageItemText(m, NOW);
    assert.equal(t.label, 'photo.png, notes.txt', 'a message of files only is labelled by their names');
    assert.match(t.description!, /· 2 files$/);
    assert.match(t.tooltip, /Files:\nphoto\.png \(PNG image, 2\.0 KB, ready\)\nnotes\.txt \(text, 2\.0 KB, not downloaded\)/);
    assert.equal(messageItemText(message({ body: 'see attached', attachments: [att()] }), NOW).label, 'see attached');
    assert.doesNotMatch(messageItemText(message(), NOW).description!, /file/);
    assert.equal(messageIconId(m), 'paperclip');
    assert.equal(messageIconId({ ...m, read: false }), 'circle-filled', 'unread first');
    assert.equal(messageIconId(message()), 'arrow-left');
    assert.equal(messageIconId(message({ direction: 'out', state: 'sent', attachments: [att()] })), 'paperclip');
    assert.equal(messageIconId(message({ direction: 'out', state: 'queued', attachments: [att()] })), 'watch');
  });
});

describe('the thread shows files', () => {
  it('names each file as text with its type, size and state, and the buttons it has now', () => {
    const evil = '<img src=x onerror=alert(1)>\u202e.png';
    const el = renderMessage(doc, thread({ attachments: [view({ name: evil, state: 'remote', transferred: 0 })] }), { now: NOW, lookup: () => undefined }) as El;
    const name = el.find('attachment-name')!;
    assert.equal(name.textContent, '<img src=x onerror=alert(1)><U+202E>.png');
    assert.equal(el.find('attachment-meta')!.textContent, 'PNG image · 2.0 KB · not downloaded');
    assert.equal(el.find('attachment-preview'), undefined, 'nothing to preview before it is here');
    const actions = [...el.walk()].filter((n): n is El => n instanceof El && n.tag === 'button' && n.className.includes('attachment-action')).map((b) => b.attrs.get('data-action'));
    assert.deepEqual(actions, ['download', 'save', 'open']);
    assert.deepEqual(attachmentActions(view()), ['save', 'open']);
    for (const n of el.walk()) if (n instanceof El) assert.ok(!n.attrs.has('src'), 'no src without a preview');
  });
  it('previews an image only from the host-made URI', () => {
    const el = renderMessage(doc, thread({ attachments: [view({ preview: 'https://file+.vscode-resource.vscode-cdn.net/h/files/aa' })] }), { now: NOW, lookup: () => undefined }) as El;
    const img = el.find('attachment-preview')!;
    assert.equal(img.tag, 'img');
    assert.equal(img.attrs.get('src'), 'https://file+.vscode-resource.vscode-cdn.net/h/files/aa');
    assert.equal(img.attrs.get('alt'), 'Image photo.png');
  });
  it('shows download progress as it comes', () => {
    const t = [thread({ attachments: [view({ state: 'remote', transferred: 0, size: 1000 })] })];
    const next = applyProgress(t, { id: 'm1', index: 0, direction: 'down', transferred: 500, size: 1000 });
    assert.notEqual(next, t);
    assert.equal(next[0]!.attachments[0]!.state, 'downloading');
    assert.equal(next[0]!.attachments[0]!.transferred, 500);
    const el = renderMessage(doc, next[0]!, { now: NOW, lookup: () => undefined }) as El;
    assert.equal(el.find('attachment-progress-fill')!.className, 'attachment-progress-fill w10');
    assert.equal(applyProgress(t, { id: 'other', index: 0, direction: 'down', transferred: 1, size: 1 }), t, 'another message');
    const ready = [thread()];
    assert.equal(applyProgress(ready, { id: 'm1', index: 0, direction: 'down', transferred: 1, size: 2048 }), ready, 'a late progress never undoes ready');
  });
  it('reads a drop as a uri-list', () => {
    const data: Record<string, string> = { 'text/uri-list': '# comment\r\nfile:///a/b.txt\r\nfile:///a/c.png\r\nfile:///a/b.txt\r\n' };
    assert.deepEqual(droppedUris((t) => data[t] ?? ''), ['file:///a/b.txt', 'file:///a/c.png']);
    assert.deepEqual(droppedUris((t) => (t === 'application/vnd.code.uri-list' ? 'file:///x' : 'file:///y')), ['file:///x'], 'VS Code’s own list first');
    assert.deepEqual(droppedUris(() => ''), []);
  });
});

describe('the webview protocol refuses hostile file input', () => {
  const msg = (a: unknown) => ({ type: 'messages', mode: 'upsert', messages: [{ ...thread(), attachments: [a] }] });
  it('accepts well-formed files, file requests and progress', () => {
    assert.ok(parseHostToWebview(msg(view({ preview: 'https://file+.vscode-resource.vscode-cdn.net/h/files/aa' }))));
    assert.ok(parseHostToWebview({ type: 'attached', files: [{ token: 't1', name: 'a.txt', size: 3, mime: 'text/plain' }] }));
    assert.ok(parseHostToWebview({ type: 'progress', id: 'm1', index: 0, direction: 'down', transferred: 10, size: 20 }));
    assert.ok(parseWebviewToHost({ type: 'send', requestId: 'r', body: '', replyTo: null, attachments: ['t1'] }), 'files with no caption');
    assert.ok(parseWebviewToHost({ type: 'attach' }));
    assert.ok(parseWebviewToHost({ type: 'drop', uris: ['file:///a'] }));
    assert.ok(parseWebviewToHost({ type: 'file', action: 'save', id: 'm1', index: 0 }));
  });
  it('refuses previews that are not resource URIs, bad states and sizes, too many files', () => {
    for (const preview of ['javascript:alert(1)', 'data:image/svg+xml,<svg onload=alert(1)>', 'blob:https://x/1', '/home/me/.ssh/id_rsa', 'file:///etc/passwd', ' https://x']) {
      assert.equal(parseHostToWebview(msg(view({ preview }))), null, preview);
    }
    for (const bad of [view({ state: 'pwned' as never }), view({ size: -1 }), view({ size: 1.5 }), view({ name: '' }), view({ name: 'x'.repeat(1025) }), view({ mime: 'x'.repeat(200) }), { ...view(), path: undefined, preview: undefined }]) {
      assert.equal(parseHostToWebview(msg(bad)), null, JSON.stringify(bad).slice(0, 80));
    }
    assert.equal(parseHostToWebview({ type: 'messages', mode: 'upsert', messages: [{ ...thread(), attachments: Array.from({ length: 33 }, (_, i) => view({ index: i })) }] }), null, 'more than 32 files');
    assert.equal(parseHostToWebview({ type: 'messages', mode: 'upsert', messages: [{ ...thread(), attachments: undefined }] }), null, 'attachments are required in v3');
    assert.equal(parseHostToWebview({ type: 'progress', id: 'm1', index: 0, direction: 'sideways', transferred: 1, size: 1 }), null);
    assert.equal(parseHostToWebview({ type: 'progress', id: 'm1', index: -1, direction: 'up', transferred: 1, size: 1 }), null);
    assert.equal(parseHostToWebview({ type: 'attached', files: [{ token: '', name: 'a', size: 1, mime: '' }] }), null);
  });
  it('refuses empty sends, unknown actions, paths instead of tokens and floods from the webview', () => {
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r', body: '', replyTo: null, attachments: [] }), null, 'nothing to send');
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r', body: 'hi', replyTo: null }), null, 'attachments required in v3');
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r', body: '', replyTo: null, attachments: [{ path: '/etc/passwd' }] }), null, 'a path is no token');
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r', body: 'x', replyTo: null, attachments: Array.from({ length: 33 }, (_, i) => `t${i}`) }), null);
    assert.equal(parseWebviewToHost({ type: 'file', action: 'delete', id: 'm1', index: 0 }), null);
    assert.equal(parseWebviewToHost({ type: 'file', action: 'save', id: 'm1', index: 0.5 }), null);
    assert.equal(parseWebviewToHost({ type: 'file', action: 'save', id: '', index: 0 }), null);
    assert.equal(parseWebviewToHost({ type: 'drop', uris: Array.from({ length: 33 }, () => 'file:///a') }), null);
    assert.equal(parseWebviewToHost({ type: 'drop', uris: [''] }), null);
  });
});
