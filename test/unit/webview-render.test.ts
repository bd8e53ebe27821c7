import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ThreadMessage } from '../../protocol/webview';
import { mergeThread, renderMessage } from '../../webview/render';
import { doc, El, Text } from '../support/dom-shim';


const base: ThreadMessage = { id: 'm1', direction: 'in', from: 'bob', to: 'me', body: 'hi', created_at: '2026-11-24T11:58:00Z', state: 'received', read: false, reply_to: null };
const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('renderMessage', () => {
  it('renders HTML and script payloads as inert text nodes', () => {
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">x</a>';
    const el = renderMessage(doc, { ...base, body: evil, from: '<b>mallory</b>' }, { now: NOW, lookup: () => undefined }) as El;
    const body = el.find('body')!;
    assert.equal(body.children.length, 1);
    assert.ok(body.children[0] instanceof Text, 'the body is exactly one text node');
    assert.equal(body.textContent, evil);
    const tags = [...el.walk()].filter((n): n is El => n instanceof El).map((n) => n.tag);
    assert.ok(tags.every((t) => ['article', 'header', 'div', 'span', 'time', 'button', 'footer'].includes(t)), `only our own elements: ${tags}`);
    for (const n of el.walk()) {
      if (n instanceof El) for (const a of n.attrs.keys()) assert.ok(['data-id', 'datetime', 'title', 'aria-label', 'type'].includes(a), `attribute ${a}`);
    }
    assert.equal(el.find('from')!.textContent, '<b>mallory</b>');
  });

  it('shows terminal and bidi control characters as escapes but keeps newlines', () => {
    const el = renderMessage(doc, { ...base, body: 'line1\n\u001b[2Jline2\u202e' }, { now: NOW, lookup: () => undefined }) as El;
    assert.equal(el.find('body')!.textContent, 'line1\n<U+001B>[2Jline2<U+202E>');
  });

  it('marks direction, unread and outbound state honestly', () => {
    const inEl = renderMessage(doc, base, { now: NOW, lookup: () => undefined }) as El;
    assert.match(inEl.className, /\bin\b/);
    assert.match(inEl.className, /\bunread\b/);
    assert.equal(inEl.find('when')!.textContent, '2m ago');
    assert.equal(inEl.find('when')!.attrs.get('datetime'), base.created_at);
    assert.ok(inEl.find('reply-button'));
    const queued = renderMessage(doc, { ...base, direction: 'out', from: 'me', state: 'queued' }, { now: NOW, lookup: () => undefined }) as El;
    assert.equal(queued.find('from')!.textContent, 'you');
    assert.equal(queued.find('badge')!.textContent, 'queued — offline');
    assert.equal(queued.find('reply-button'), undefined);
  });

  it('quotes the message a reply refers to, as text', () => {
    const orig = { ...base, id: 'm0', body: '<i>question</i>?' };
    const el = renderMessage(doc, { ...base, reply_to: 'm0' }, { now: NOW, lookup: (id) => (id === 'm0' ? orig : undefined) }) as El;
    assert.match(el.find('reply-ref')!.textContent, /<i>question<\/i>\?/);
  });
});

describe('mergeThread', () => {
  it('upserts by id and keeps oldest → newest', () => {
    const a = { ...base, id: 'a', created_at: '2026-11-24T10:00:00Z' };
    const b = { ...base, id: 'b', created_at: '2026-11-24T11:00:00Z' };
    const b2 = { ...b, read: true };
    const c = { ...base, id: 'c', created_at: '2026-11-24T09:00:00Z' };
    const t = mergeThread(mergeThread([], [b, a]), [b2, c]);
    assert.deepEqual(t.map((x) => x.id), ['c', 'a', 'b']);
    assert.equal(t[2]!.read, true);
  });
});
