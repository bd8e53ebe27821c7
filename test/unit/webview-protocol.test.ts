import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostToWebview, parseViewState, parseWebviewToHost } from '../../protocol/webview-schemas';
import type { ThreadMessage } from '../../protocol/webview';
import { contentSecurityPolicy, conversationHtml, makeNonce } from '../../extension/webviewHtml';

const m: ThreadMessage = { id: 'm1', direction: 'in', from: 'bob', to: 'me', body: '<img src=x onerror=alert(1)>', created_at: '2026-11-24T00:00:00Z', state: 'received', read: false, reply_to: null, group: null, mentions: [], mentions_me: true, receipts: null, attachments: [] };

describe('webview protocol guards', () => {
  it('accepts every well-formed host message', () => {
    assert.ok(parseHostToWebview({ type: 'init', v: 5, peer: 'bob', self: 'me', messages: [m], hasMore: true, draft: '' }));
    assert.ok(parseHostToWebview({ type: 'messages', mode: 'upsert', messages: [{ ...m, direction: 'out', group: 'team', mentions: ['bob'], mentions_me: false, receipts: { total: 3, delivered: 2, read: 1 } }] }));
    assert.ok(parseHostToWebview({ type: 'group', group: { name: 'team', role: 'owner', members: [{ user: 'me', role: 'owner' }, { user: 'bob', role: 'member' }] } }));
    assert.ok(parseHostToWebview({ type: 'group', group: { name: 'team', role: null, members: [] } }));
    assert.ok(parseHostToWebview({ type: 'receipts', id: 'm1', receipts: [{ user: 'bob', delivered_at: '2026-11-24T00:00:01Z', read_at: null, dropped: null }] }));
    assert.ok(parseHostToWebview({ type: 'receipts', id: 'm1', receipts: [{ user: 'bob', delivered_at: null, read_at: null, dropped: 'quota' }] }));
    assert.ok(parseHostToWebview({ type: 'messages', mode: 'upsert', messages: [m] }));
    assert.ok(parseHostToWebview({ type: 'messages', mode: 'older', messages: [], hasMore: false }));
    assert.ok(parseHostToWebview({ type: 'sendResult', requestId: 'r1', status: 'queued', text: 'Queued — offline' }));
    assert.ok(parseHostToWebview({ type: 'connection', connected: false, sync: null, detail: 'x' }));
    assert.ok(parseHostToWebview({ type: 'error', text: 'x' }));
  });
  it('rejects malformed host messages without throwing', () => {
    for (const bad of [null, undefined, 42, 'init', {}, { type: 'eval', code: 'alert(1)' }, { type: 'init', v: 1, peer: 'b', self: null, messages: [], hasMore: false }, { type: 'messages', mode: 'replace', messages: [] }, { type: 'messages', mode: 'upsert', messages: [{ ...m, mentions: undefined }] }, { type: 'messages', mode: 'upsert', messages: [{ ...m, receipts: { total: 1, delivered: -1, read: 0 } }] }, { type: 'messages', mode: 'upsert', messages: [{ ...m, receipts: { total: 1.5, delivered: 0, read: 0 } }] }, { type: 'group', group: { name: 'team', role: 'king', members: [] } }, { type: 'group', group: { name: 'team', role: 'member', members: [{ user: 'bob', role: 'root' }] } }, { type: 'receipts', id: 'm1', receipts: [{ user: 'bob', read_at: null }] }, { type: 'receipts', id: 'm1', receipts: [{ user: 'bob', delivered_at: null, read_at: null, dropped: 'lost' }] }, { type: 'messages', mode: 'upsert', messages: [{ ...m, direction: 'sideways' }] }, { type: 'messages', mode: 'upsert', messages: [{ ...m, body: 5 }] }, { type: 'sendResult', requestId: '', status: 'sent', text: '' }, { type: 'sendResult', requestId: 'r', status: 'delivered!', text: '' }]) {
      assert.equal(parseHostToWebview(bad), null, JSON.stringify(bad));
    }
  });
  it('validates webview → host messages', () => {
    assert.deepEqual(parseWebviewToHost({ type: 'send', requestId: 'r1', body: 'hi', replyTo: null, attachments: [] }), { type: 'send', requestId: 'r1', body: 'hi', replyTo: null, attachments: [] });
    assert.ok(parseWebviewToHost({ type: 'ready', v: 5 }));
    assert.equal(parseWebviewToHost({ type: 'ready', v: 3 }), null, 'a webview of another protocol version');
    assert.ok(parseWebviewToHost({ type: 'loadOlder', before: 'm1' }));
    assert.ok(parseWebviewToHost({ type: 'markRead', ids: ['m1'] }));
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r1', body: '', replyTo: null, attachments: [] }), null, 'empty body and no files');
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r1', body: 'x'.repeat(64 * 1024 + 1), replyTo: null, attachments: [] }), null, 'too long');
    assert.equal(parseWebviewToHost({ type: 'send', requestId: 'r1', body: 'hi', attachments: [] }), null, 'replyTo required');
    assert.equal(parseWebviewToHost({ type: 'markRead', ids: [1] }), null);
    assert.equal(parseWebviewToHost({ type: 'command', command: 'workbench.action.terminal.new' }), null);
  });
  it('lets through only http, https and mailto links to open', () => {
    for (const url of ['https://example.com/a?b#c', 'http://x.test', 'mailto:bob@example.com', 'HTTPS://EXAMPLE.COM']) assert.ok(parseWebviewToHost({ type: 'openLink', url }), url);
    for (const url of ['javascript:alert(1)', 'command:workbench.action.terminal.new', 'vscode://x', 'file:///etc/passwd', 'data:text/html,x', ' javascript:alert(1)', 'https:/x', '', 'https://' + 'a'.repeat(9000)]) {
      assert.equal(parseWebviewToHost({ type: 'openLink', url }), null, url);
    }
  });
  it('validates file references, copies and the host\'s answers', () => {
    assert.ok(parseWebviewToHost({ type: 'resolveRefs', paths: ['src/a.ts', '../x'] }));
    assert.equal(parseWebviewToHost({ type: 'resolveRefs', paths: Array.from({ length: 201 }, (_, i) => `f${i}.ts`) }), null, 'too many at once');
    assert.equal(parseWebviewToHost({ type: 'resolveRefs', paths: ['a\0b'] }), null, 'a NUL');
    assert.equal(parseWebviewToHost({ type: 'resolveRefs', paths: [''] }), null);
    const ref = { type: 'openRef', path: 'src/a.ts', line: 4, col: null, endLine: 9, commit: 'abc1234' };
    assert.deepEqual(parseWebviewToHost(ref), ref);
    for (const bad of [{ ...ref, line: 0 }, { ...ref, line: 1.5 }, { ...ref, col: -1 }, { ...ref, commit: 'HEAD; rm -rf /' }, { ...ref, commit: '--help' }, { ...ref, endLine: undefined }]) assert.equal(parseWebviewToHost(bad), null, JSON.stringify(bad));
    assert.ok(parseWebviewToHost({ type: 'copy', text: 'const x = 1' }));
    assert.equal(parseWebviewToHost({ type: 'copy', text: 'x'.repeat(1024 * 1024 + 1) }), null);
    assert.ok(parseHostToWebview({ type: 'refs', refs: [{ path: 'src/a.ts', exists: true }] }));
    assert.equal(parseHostToWebview({ type: 'refs', refs: [{ path: 'src/a.ts' }] }), null);
    assert.ok(parseHostToWebview({ type: 'reveal', id: 'm1' }));
    assert.equal(parseHostToWebview({ type: 'init', v: 5, peer: 'bob', self: 'me', messages: [], hasMore: false }), null, 'init says the kept draft');
  });
  it('validates the peer\'s trust (host) and the Verify button (webview)', () => {
    assert.ok(parseHostToWebview({ type: 'trust', trust: { state: 'changed', text: 'Keys changed' } }));
    assert.ok(parseHostToWebview({ type: 'trust', trust: null }), 'a group: no header state');
    for (const bad of [{ type: 'trust' }, { type: 'trust', trust: { state: 'trusted', text: '' } }, { type: 'trust', trust: { state: 'verified' } }, { type: 'trust', trust: { state: 'verified', text: 'x'.repeat(1001) } }]) {
      assert.equal(parseHostToWebview(bad), null, JSON.stringify(bad));
    }
    assert.deepEqual(parseWebviewToHost({ type: 'verify' }), { type: 'verify' });
    assert.deepEqual(parseWebviewToHost({ type: 'verify', user: 'mallory' }), { type: 'verify' }, 'the webview cannot pick whom to verify: the host uses its own peer');
  });
  it('validates persisted view state', () => {
    assert.deepEqual(parseViewState({ v: 1, peer: 'bob', draft: 'hello' }), { v: 1, peer: 'bob', draft: 'hello' });
    assert.equal(parseViewState({ v: 1, peer: '', draft: '' }), null);
    assert.equal(parseViewState(undefined), null);
    assert.equal(parseViewState({ peer: 'bob' }), null);
  });
});

describe('webview HTML', () => {
  it('has a strict CSP with a fresh nonce and no inline script or style', () => {
    const n1 = makeNonce((k) => new Uint8Array(k).map(() => Math.floor(Math.random() * 256)));
    const n2 = makeNonce((k) => new Uint8Array(k).map(() => Math.floor(Math.random() * 256)));
    assert.match(n1, /^[A-Za-z0-9]{16,}$/);
    assert.notEqual(n1, n2);
    const csp = contentSecurityPolicy('https://src.example', n1);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${n1}'`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = conversationHtml({ cspSource: 'vscode-resource:', nonce: n1, scriptUri: 'vscode-resource:/dist/webview.js', styleUri: 'vscode-resource:/media/webview.css', codiconUri: 'vscode-resource:/media/codicons/codicon.css' });
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]![1]!, new RegExp(`nonce="${n1}"`));
    assert.match(scripts[0]![1]!, /src="vscode-resource:\/dist\/webview.js"/);
    assert.equal(scripts[0]![2]!.trim(), '', 'no inline script');
    assert.doesNotMatch(html, /<style|style="/, 'no inline style');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline handlers');
  });
});
