import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Receipt } from '../../protocol/rpc';
import type { ThreadMessage } from '../../protocol/webview';
import { bodySegments, mergeThread, readByTitle, renderMembers, renderMessage } from '../../webview/render';
import { assertInert, doc, El, Text } from '../support/dom-shim';

const base: ThreadMessage = { id: 'm1', direction: 'in', from: 'bob', to: 'me', body: 'hi', created_at: '2026-11-24T11:58:00Z', state: 'received', read: false, reply_to: null, group: null, mentions: [], mentions_me: true, receipts: null, attachments: [] };
const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('renderMessage', () => {
  it('renders HTML and script payloads as inert text nodes', () => {
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">x</a>';
    const el = renderMessage(doc, { ...base, body: evil, from: '<b>mallory</b>' }, { now: NOW, lookup: () => undefined }) as El;
    const body = el.find('body')!;
    assert.equal(body.children.length, 1);
    const p = body.children[0] as El;
    assert.equal(p.tag, 'p', 'one paragraph');
    assert.ok(p.children.every((c) => c instanceof Text), 'of text nodes only: raw HTML is text');
    assert.equal(body.textContent, evil);
    assertInert(el);
    assert.equal(el.find('link'), undefined, 'no link from an <a href="javascript:…">');
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

const spans = (root: El, cls: string) => [...root.walk()].filter((n): n is El => n instanceof El && n.className.split(' ').includes(cls));

describe('group messages', () => {
  const inGroup: ThreadMessage = { ...base, from: 'carol', to: '#team', group: 'team', mentions: [], mentions_me: false };
  const ctx = { now: NOW, lookup: () => undefined, self: 'me' };

  it('shows who sent each message of a group', () => {
    const el = renderMessage(doc, inGroup, ctx) as El;
    assert.equal(el.find('from')!.textContent, 'carol');
    const mine = renderMessage(doc, { ...inGroup, direction: 'out', from: 'me', state: 'sent', receipts: { total: 3, delivered: 1, read: 0 } }, ctx) as El;
    assert.equal(mine.find('from')!.textContent, 'you');
  });

  it('highlights the mentions the relay checked, this user\'s own apart, and nothing else', () => {
    const m = { ...inGroup, body: 'hi @me and @Dave, not @mallory or a@dave, @@dave; @dave.', mentions: ['me', 'dave'], mentions_me: true };
    const el = renderMessage(doc, m, ctx) as El;
    assert.match(el.className, /\bmentions-me\b/);
    const body = el.find('body')!;
    assert.equal(body.textContent, m.body, 'the text is whole');
    assert.deepEqual(spans(body, 'mention').map((s) => s.textContent), ['@me', '@Dave', '@dave']);
    assert.deepEqual(spans(body, 'mention-me').map((s) => s.textContent), ['@me']);
    const other = renderMessage(doc, { ...m, mentions: ['dave'], mentions_me: false }, ctx) as El;
    assert.doesNotMatch(other.className, /mentions-me/);
    assert.deepEqual(spans(other.find('body')!, 'mention-me'), []);
    // a direct message "mentions" its reader (mentions_me): the thread does not flag each one
    assert.doesNotMatch((renderMessage(doc, base, ctx) as El).className, /mentions-me/);
  });

  it('renders a hostile sender, body and mention as inert text', () => {
    const evil = '<img src=x onerror="alert(1)">@me<script>alert(2)</script>\u202e\u001b[2J';
    const el = renderMessage(doc, { ...inGroup, from: '<b onclick=alert(3)>eve</b>', body: evil, mentions: ['me', '<script>'], mentions_me: true }, ctx) as El;
    assertInert(el);
    assert.equal(el.find('from')!.textContent, '<b onclick=alert(3)>eve</b>');
    const body = el.find('body')!;
    assert.equal(body.textContent, '<img src=x onerror="alert(1)">@me<script>alert(2)</script><U+202E><U+001B>[2J');
    const p = body.children[0] as El;
    assert.equal(p.tag, 'p');
    assert.ok(p.children.every((c) => c instanceof Text || (c.tag === 'span' && c.children.length === 1 && c.children[0] instanceof Text)), 'text nodes, and spans of one text node');
    assert.deepEqual(spans(body, 'mention').map((s) => s.textContent), ['@me']);
  });

  it('cuts the body at mentions and loses no character', () => {
    assert.deepEqual(bodySegments('@bob, @bobby!', ['bob']), [{ text: '@bob', mention: 'bob' }, { text: ', @bobby!' }]);
    assert.deepEqual(bodySegments('cc @a.b_c-d', ['A.B_C-D']), [{ text: 'cc ' }, { text: '@a.b_c-d', mention: 'a.b_c-d' }]);
    assert.deepEqual(bodySegments('no one', []), [{ text: 'no one' }]);
    assert.deepEqual(bodySegments('', ['x']), [{ text: '' }]);
    const body = 'x\u200b@bob\u200b y';
    assert.equal(bodySegments(body, ['bob']).map((s) => s.text).join(''), 'x<U+200B>@bob<U+200B> y');
  });

  it('says "read by 2/4" on this user\'s own group messages, and who in the hover', () => {
    const mine: ThreadMessage = { ...inGroup, direction: 'out', from: 'me', state: 'delivered', read: true, mentions_me: false, receipts: { total: 4, delivered: 3, read: 2 } };
    const receipts: Receipt[] = [
      { user: 'bob', delivered_at: '2026-11-24T11:58:01Z', read_at: '2026-11-24T11:58:05Z', dropped: null },
      { user: 'carol', delivered_at: '2026-11-24T11:58:01Z', read_at: '2026-11-24T11:59:00Z', dropped: null },
      { user: 'dave', delivered_at: '2026-11-24T11:58:02Z', read_at: null, dropped: null },
      { user: '<i>erin</i>\u202e', delivered_at: null, read_at: null, dropped: null },
    ];
    const before = renderMessage(doc, mine, ctx) as El;
    const badge = before.find('receipts')!;
    assert.equal(badge.textContent, 'read by 2/4');
    assert.equal(badge.attrs.get('title'), 'Read by 2 of 4, delivered to 3 of 4', 'counts until the names are fetched');
    assert.deepEqual(spans(before, 'badge').map((b) => b.textContent), ['read by 2/4'], 'no "delivered" badge beside it: delivery is per member');
    const after = renderMessage(doc, mine, { ...ctx, receipts: (id) => (id === mine.id ? receipts : undefined) }) as El;
    assert.equal(after.find('receipts')!.attrs.get('title'), 'Read by 2 of 4, delivered to 3 of 4\nRead: bob, carol\nDelivered, not read: dave\nNot delivered yet: <i>erin</i><U+202E>');
    assertInert(after);
    assert.equal(readByTitle({ ...mine, receipts: null }, receipts), '');
    const passedOver: Receipt = { user: 'frank', delivered_at: null, read_at: null, dropped: 'quota' };
    assert.equal(readByTitle(mine, [receipts[3]!, passedOver]), 'Read by 2 of 4, delivered to 3 of 4\nNot delivered yet: <i>erin</i><U+202E>\nWill not be delivered (the relay dropped it): frank');
    assert.equal((renderMessage(doc, inGroup, ctx) as El).find('receipts'), undefined, 'none on messages from others');
    const direct = renderMessage(doc, { ...base, direction: 'out', from: 'me', state: 'delivered', receipts: { total: 1, delivered: 1, read: 1 } }, ctx) as El;
    assert.equal(direct.find('receipts'), undefined, 'a direct message says read in its state badge');
    assert.equal(direct.find('badge')!.textContent, 'read');
    const unreadDirect = renderMessage(doc, { ...base, direction: 'out', from: 'me', state: 'delivered', receipts: { total: 1, delivered: 1, read: 0 } }, ctx) as El;
    assert.equal(unreadDirect.find('badge')!.textContent, 'delivered');
  });

  it('lists the members with their roles, owners first, as text', () => {
    const el = renderMembers(doc, { name: 'team', role: 'member', members: [{ user: 'zed', role: 'member' }, { user: 'me', role: 'member' }, { user: '<b>amy</b>\u202e', role: 'admin' }, { user: 'bob', role: 'owner' }] }, 'me') as El;
    assertInert(el);
    assert.equal(el.find('members-count')!.textContent, '4 members');
    const rows = spans(el, 'member');
    assert.deepEqual(rows.map((r) => r.find('member-name')?.textContent), ['bob', '<b>amy</b><U+202E>', 'me', 'zed']);
    assert.deepEqual(rows.map((r) => r.find('member-role')?.textContent ?? ''), ['owner', 'admin', '', '']);
    assert.match(rows[2]!.className, /\bself\b/);
    const left = renderMembers(doc, { name: 'team', role: null, members: [{ user: 'bob', role: 'owner' }] }, 'me') as El;
    assert.equal(left.find('members-count')!.textContent, '1 member · you are no longer a member');
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
