/**
 * What the extension says about groups on VS Code surfaces (extension/format.ts): the Inbox
 * row of a group, a group in a quick pick, a group message's notification, a refused group
 * request, and which incoming messages pop a notification under `switchboard.notifications`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, type Group, type Message } from '../../protocol/rpc';
import { conversationItemText, groupErrorText, groupPickText, messageItemText, messageNotice, notificationSetting, notifies } from '../../extension/format';
import { messageFixture } from '../support/messages';

process.env.TZ = 'UTC';
const NOW = Date.parse('2026-11-24T12:00:00Z');

function message(p: Partial<Message> = {}): Message {
  return messageFixture({ conversation: '#team', to: '#team', body: 'hello @alice', created_at: '2026-11-24T11:57:00Z', group: 'team', mentions: ['alice'], ...p });
}

const team: Group = {
  group_id: 'g1',
  name: 'team',
  role: 'member',
  members: [
    { user: 'alice', role: 'member' },
    { user: 'bob', role: 'owner' },
    { user: 'carol', role: 'admin' },
  ],
  created_by: 'bob',
  created_at: '2026-11-24T10:00:00Z',
  unread: 2,
  unread_mentions: 1,
};

describe('a group in the Inbox', () => {
  it('names an agent member and an agent sender with the owner', () => {
    const withAgent: Group = { ...team, members: [...team.members, { user: 'bob.bot', role: 'member', owner: 'bob' }] };
    const last = message({ from: 'bob.bot', from_owner: 'bob' });
    const t = conversationItemText({ peer: '#team', conversationKind: 'group', unread: 0, unreadMentions: 0, total: 1, last, members: 4, group: withAgent }, NOW);
    assert.equal(t.tooltip, 'Group #team\n1 message, 0 unread, 0 mentioning you\nMembers: alice, bob (owner), carol (admin), bob.bot (agent of bob)\nLast: 2026-11-24 11:57:00\nbob.bot (agent of bob): hello @alice');
  });

  it('shows the member count, unread and mention badges, and the members in the tooltip', () => {
    const t = conversationItemText({ peer: '#team', conversationKind: 'group', unread: 2, unreadMentions: 1, total: 5, last: message(), members: 3, group: team }, NOW);
    assert.equal(t.label, '#team');
    assert.equal(t.description, '3 members · 2 unread · 1 @you · 3m ago');
    assert.equal(t.tooltip, 'Group #team\n5 messages, 2 unread, 1 mentioning you\nMembers: alice, bob (owner), carol (admin)\nLast: 2026-11-24 11:57:00\nbob: hello @alice');
  });

  it('says when this user left, and shows a room with no message yet', () => {
    const left = conversationItemText({ peer: '#team', conversationKind: 'group', unread: 0, unreadMentions: 0, total: 1, last: null, members: 3, group: { ...team, role: null } }, NOW);
    assert.equal(left.description, 'left');
    assert.match(left.tooltip, /^Group #team \(you left\)\n/);
    const fresh = conversationItemText({ peer: '#new', conversationKind: 'group', unread: 0, unreadMentions: 0, total: 0, last: null, members: 1, group: null }, NOW);
    assert.equal(fresh.description, '1 member');
    assert.equal(fresh.tooltip, 'Group #new\n0 messages, 0 unread, 0 mentioning you\n1 member');
  });

  it('keeps a user conversation as it was', () => {
    const t = conversationItemText({ peer: 'bob', conversationKind: 'user', unread: 1, unreadMentions: 1, total: 1, last: message({ conversation: 'bob', group: null }), members: null, group: null }, NOW);
    assert.equal(t.description, '1 unread · 3m ago');
  });

  it('a hostile member name stays text', () => {
    const t = conversationItemText({ peer: '#team', conversationKind: 'group', unread: 0, unreadMentions: 0, total: 0, last: null, members: 1, group: { ...team, members: [{ user: 'x\u202e\n[a](command:evil)', role: 'member' }] } }, NOW);
    assert.equal(t.tooltip.split('\n')[2], 'Members: x<U+202E> [a](command:evil)');
  });

  it('an own group message says how many read it', () => {
    const t = messageItemText(message({ direction: 'out', from: 'alice', state: 'sent', read: true, mentions_me: false, receipts: { total: 2, delivered: 2, read: 1 } }), NOW);
    assert.equal(t.description, 'you · 3m ago · read 1/2');
    assert.equal(messageItemText(message({ direction: 'out', group: null, conversation: 'bob', state: 'sent', receipts: { total: 1, delivered: 1, read: 1 } }), NOW).description, 'you · 3m ago');
  });
});

describe('groups on other surfaces', () => {
  it('a quick pick row is #name with its member count, never a link', () => {
    assert.deepEqual(groupPickText(team), { label: '#team', description: 'group · 3 members · 2 unread' });
    assert.equal(groupPickText({ ...team, name: '[x](command:y)', unread: 0 }).label, '#[x] (command:y)');
  });
  it('a notification names the group', () => {
    assert.equal(messageNotice(message()), 'bob in #team: hello @alice');
    assert.equal(messageNotice(message({ group: null })), 'bob: hello @alice');
  });
});

describe('a refused group request', () => {
  it('is one sentence with the relay\'s reason and code', () => {
    const refused = Object.assign(new Error('bob is not a member of #team.'), { code: ErrorCodes.GroupRefused, data: { kind: 'group_refused', code: 'not_member', retryable: false } });
    assert.equal(groupErrorText('Add Member to #team', refused), 'Switchboard: Add Member to #team refused by the relay: bob is not a member of #team (not_member).');
    const busy = Object.assign(new Error('too many group requests'), { code: ErrorCodes.GroupRefused, data: { kind: 'group_refused', code: 'rate_limit', retryable: true } });
    assert.equal(groupErrorText('Create Group #x', busy), 'Switchboard: Create Group #x refused by the relay: too many group requests (rate_limit). Try again in a moment.');
  });
  it('any other failure says failed', () => {
    const notSent = Object.assign(new Error('the relay is not reachable'), { code: ErrorCodes.NotSent, data: { kind: 'not_sent', code: 'unreachable' } });
    assert.equal(groupErrorText('Leave Group #team', notSent), 'Switchboard: Leave Group #team failed: the relay is not reachable');
  });
});

describe('switchboard.notifications', () => {
  const plain = message({ body: 'lunch?', mentions: [], mentions_me: false });
  const direct = message({ conversation: 'bob', to: 'alice', group: null, mentions: [], mentions_me: true });
  it('all: every unread incoming message', () => {
    assert.equal(notifies('all', plain), true);
    assert.equal(notifies('all', direct), true);
    assert.equal(notifies('all', message({ read: true })), false, 'read elsewhere already');
    assert.equal(notifies('all', message({ direction: 'out', mentions_me: false })), false, 'this user\'s own, from another device');
  });
  it('mentions: only what names this user, and direct messages', () => {
    assert.equal(notifies('mentions', plain), false);
    assert.equal(notifies('mentions', message()), true);
    assert.equal(notifies('mentions', direct), true);
    assert.equal(notifies('mentions', message({ read: true })), false);
  });
  it('none: nothing', () => {
    assert.equal(notifies('none', message()), false);
    assert.equal(notifies('none', direct), false);
  });
  it('reads the setting, anything unknown as all', () => {
    assert.equal(notificationSetting('mentions'), 'mentions');
    assert.equal(notificationSetting('none'), 'none');
    assert.equal(notificationSetting('all'), 'all');
    assert.equal(notificationSetting(undefined), 'all');
    assert.equal(notificationSetting('loud'), 'all');
  });
});
