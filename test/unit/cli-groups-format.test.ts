/**
 * The CLI's human output for groups, mentions and receipts, line for line (exact strings, so a
 * dropped clause or a changed word is seen), and how a group refusal becomes a CLI error: the
 * relay's code kept as the `--json` code, advice naming the group, exit 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, type Group, type Message, type ReceiptsResult } from '../../protocol/rpc';
import { GROUP_REJECTION_CODES } from '../../protocol/relay';
import { ERROR_CODES, ExitCode } from '../../lib/node/cli/errors';
import { groupFull, groupList, groupListLine, memberSummary, messageFull, messageLine, receiptLines } from '../../server/cli/format';
import { fromRpcError } from '../../server/cli/rpc-errors';
import { memberList } from '../../server/cli/group-verbs';
import { followFilter } from '../../server/cli/streaming';
import { groupNameProblem, preflight } from '../../server/cli/preflight';
import { messageFixture } from '../support/messages';

const AT = '2026-11-24T14:03:59.123Z';
const LATER = '2026-11-24T14:05:00.000Z';

function message(p: Partial<Message> = {}): Message {
  return messageFixture({ body: 'hello', created_at: AT, ...p });
}

const inTeam = (p: Partial<Message> = {}) => message({ conversation: '#team', to: '#team', group: 'team', mentions_me: false, ...p });

test('messageLine: a group message names the group and the sender; @you marks a mention; a direct message is not marked', () => {
  assert.equal(messageLine(inTeam()), '* m1  2026-11-24 14:03  #team  bob: hello');
  assert.equal(messageLine(inTeam({ mentions: ['me'], mentions_me: true, body: '@me look', read: true })), '  m1  2026-11-24 14:03  #team  bob @you: @me look');
  // Every direct message counts as a mention: marking it would say nothing.
  assert.equal(messageLine(message()), '* m1  2026-11-24 14:03  bob: hello');
});

test('messageLine: my group message shows the group and, once at the relay, its receipt counts; a direct one only its state', () => {
  const out = { direction: 'out', from: 'me', read: true, state: 'sent', receipts: { total: 5, delivered: 4, read: 2 } } as const;
  assert.equal(messageLine(inTeam(out)), '> m1  2026-11-24 14:03  to #team [sent; delivered 4/5, read 2/5]: hello');
  assert.equal(messageLine(inTeam({ ...out, state: 'queued', receipts: { total: 5, delivered: 0, read: 0 } })), '> m1  2026-11-24 14:03  to #team [queued]: hello');
  assert.equal(messageLine(message({ ...out, to: 'carol', conversation: 'carol', receipts: { total: 1, delivered: 1, read: 1 } })), '> m1  2026-11-24 14:03  to carol [sent]: hello');
});

const receipts: ReceiptsResult = {
  id: 'm1',
  total: 3,
  delivered: 2,
  read: 1,
  receipts: [
    { user: 'bob', delivered_at: AT, read_at: LATER, dropped: null },
    { user: 'carol', delivered_at: AT, read_at: null, dropped: null },
    { user: 'dave', delivered_at: null, read_at: null, dropped: null },
  ],
};

test('read: my message with its receipts, the counts and who; mentions listed', () => {
  const m = inTeam({ direction: 'out', from: 'me', read: true, state: 'sent', mentions: ['bob', 'carol'], body: '@bob @carol ship it', receipts: { total: 3, delivered: 2, read: 1 } });
  assert.equal(
    messageFull(m, receipts),
    [
      'id:       m1',
      'from:     me',
      'to:       #team',
      `date:     ${AT}`,
      'state:    sent',
      'mentions: @bob @carol',
      'receipts: delivered 2/3, read 1/3',
      '  bob    read 2026-11-24 14:05',
      '  carol  delivered 2026-11-24 14:03, not read',
      '  dave   not delivered yet',
      '',
      '@bob @carol ship it',
    ].join('\n'),
  );
  assert.deepEqual(receiptLines({ id: 'm2', total: 1, delivered: 0, read: 0, receipts: [{ user: 'bob', delivered_at: null, read_at: null, dropped: null }] }), ['receipts: delivered 0/1, read 0/1', '  bob  not delivered yet']);
  // A member the relay passed over (full quota) or expired for is not "yet" to get it.
  assert.deepEqual(
    receiptLines({
      id: 'm3',
      total: 2,
      delivered: 0,
      read: 0,
      receipts: [
        { user: 'bob', delivered_at: null, read_at: null, dropped: 'quota' },
        { user: 'carol', delivered_at: null, read_at: null, dropped: 'retention' },
      ],
    }),
    ['receipts: delivered 0/2, read 0/2', '  bob    not delivered: their queue at the relay was full', '  carol  not delivered: no device of theirs took it before the relay dropped it'],
  );
  // Without receipts (an inbound message), nothing about them.
  assert.doesNotMatch(messageFull(inTeam()), /receipts|mentions/);
});

const team: Group = {
  group_id: 'g1',
  name: 'team',
  role: 'owner',
  members: [
    { user: 'alice', role: 'owner' },
    { user: 'bob', role: 'admin' },
    { user: 'carol', role: 'member' },
  ],
  created_by: 'alice',
  created_at: AT,
  unread: 3,
  unread_mentions: 1,
};

test('group show: the group, your role, unread and mentions, when and by whom, each member with their role', () => {
  assert.equal(
    groupFull(team),
    ['group:     #team', 'your role: owner', 'unread:    3, 1 mentioning you', 'created:   2026-11-24 14:03 by alice', 'members:   3', '  alice  owner', '  bob    admin', '  carol  member'].join('\n'),
  );
  const left = groupFull({ ...team, role: null, unread: 0, unread_mentions: 0, created_at: null, created_by: null, members: [{ user: 'bob', role: 'owner' }] });
  assert.equal(left, ['group:     #team', 'your role: none (you left or were removed; its history stays here)', 'unread:    none', 'created:   unknown', 'members:   1', '  bob  owner'].join('\n'));
  assert.match(groupFull({ ...team, unread_mentions: 0 }), /^unread:    3$/m);
});

test('group list: one line each with role, member count, unread and mentions; the left ones say so; an empty list says how to start', () => {
  assert.equal(groupListLine(team), '#team  owner  3 members  3 unread, 1 mentioning you');
  assert.equal(groupListLine({ ...team, unread_mentions: 0 }), '#team  owner  3 members  3 unread');
  assert.equal(groupListLine({ ...team, role: null, unread: 0, unread_mentions: 0, members: [{ user: 'bob', role: 'owner' }] }), '#team  left  1 member');
  assert.equal(groupList([team, { ...team, name: 'ops', role: 'member', unread: 0 }]), '#team  owner  3 members  3 unread, 1 mentioning you\n#ops  member  3 members');
  assert.equal(groupList([]), 'no groups yet; create one with `switchboard group create <name> --members <u1,u2>`');
  assert.equal(memberSummary(team.members), 'alice (owner), bob (admin), carol (member)');
});

test('a group name a peer chose is inert in every line', () => {
  const hostile = { ...team, name: 'te\u001b[2Jam', members: [{ user: 'b\u202eob', role: 'member' as const }] };
  for (const text of [groupFull(hostile), groupListLine(hostile), messageLine(inTeam({ group: hostile.name }))]) assert.doesNotMatch(text, /[\u001b\u202e]/);
});

test('a group refusal keeps the relay code as the CLI code (every one of them is a documented --json code), exit 1, in one line', () => {
  for (const code of Object.values(GROUP_REJECTION_CODES)) {
    assert.ok(code in ERROR_CODES, `${code} is a --json error code`);
    const error = fromRpcError({ code: ErrorCodes.GroupRefused, message: 'refused', data: { kind: 'group_refused', code, retryable: false } });
    assert.equal(error.code, code);
    assert.equal(error.exitCode, ExitCode.Failed);
  }
  // The core's message already says what to do (server/group-service.ts): one line, no second hint.
  const lastOwner = fromRpcError({ code: ErrorCodes.GroupRefused, message: 'group leave #team refused by the relay (last_owner): that would leave #team without an owner; hand ownership over first', data: { kind: 'group_refused', code: 'last_owner' } });
  assert.equal(lastOwner.line, 'group leave #team refused by the relay (last_owner): that would leave #team without an owner; hand ownership over first');
  assert.equal(lastOwner.hint, null);
  // A code the CLI does not know is still exit 1, as `failed`.
  assert.equal(fromRpcError({ code: ErrorCodes.GroupRefused, message: 'new', data: { kind: 'group_refused', code: 'brand_new' } }).code, 'failed');
});

test('--members: names split at commas, spaces allowed; an empty entry is refused', () => {
  assert.deepEqual(memberList('bob,carol'), ['bob', 'carol']);
  assert.deepEqual(memberList(' bob , carol '), ['bob', 'carol']);
  assert.throws(() => memberList('bob,,carol'), (e: Error & { exitCode?: number }) => e.exitCode === ExitCode.Usage && /got "bob,,carol"/.test(e.message));
  assert.throws(() => memberList(''), /--members takes user names/);
});

test('names are checked before anything leaves: groups with or without #, users, conversations', () => {
  assert.equal(groupNameProblem('team'), undefined);
  assert.equal(groupNameProblem('#team'), undefined);
  assert.match(groupNameProblem('##team')!, /^invalid group name "##team": use 1-64 letters/);
  assert.match(groupNameProblem('#')!, /^invalid group name "#"/);
  const usage = (f: () => void, said: RegExp) => assert.throws(f, (e: Error & { exitCode?: number }) => e.exitCode === ExitCode.Usage && said.test(e.message));
  usage(() => preflight('message/send', { to: '#a b', body: 'x' }), /^--to: invalid group name "#a b"/);
  usage(() => preflight('message/send', { to: 'a b', body: 'x' }), /^--to: invalid user name "a b"/);
  preflight('message/send', { to: '#team', body: 'x' });
  usage(() => preflight('inbox/list', { in: '#a b' }), /^--in: invalid group name/);
  usage(() => preflight('inbox/list', { in: 'x/y' }), /^--in: invalid user name/);
  usage(() => preflight('group/create', { name: 'ok', members: ['bob', 'c d'] }), /^invalid user name "c d"/);
  usage(() => preflight('group/add', { name: 'a b', users: ['bob'] }), /^invalid group name "a b"/);
  usage(() => preflight('group/remove', { name: 'team', users: ['x y'] }), /^invalid user name "x y"/);
  usage(() => preflight('group/rename', { name: 'team', new_name: '#c d' }), /^invalid group name "#c d"/);
  usage(() => preflight('group/role', { name: 'team', user: 'x y', role: 'admin' }), /^the member: invalid user name "x y"/);
  usage(() => preflight('group/leave', { name: '#' }), /^invalid group name "#"/);
  usage(() => preflight('group/show', { name: 'a b' }), /^invalid group name "a b"/);
  usage(() => preflight('message/receipts', { id: 'i'.repeat(129) }), /^the message id is 129 characters/);
});

test('inbox --follow applies --in, --from and --mentions to each message as it arrives, case-insensitively', () => {
  const group = inTeam({ from: 'bob', mentions_me: true });
  assert.equal(followFilter({ in: '#Team' })(group), true);
  assert.equal(followFilter({ in: 'team' })(group), false, 'a user named team is not the group');
  assert.equal(followFilter({ in: 'bob' })(group), false);
  assert.equal(followFilter({ in: 'bob' })(message()), true);
  assert.equal(followFilter({ from: 'BOB' })(group), true);
  assert.equal(followFilter({ from: 'carol' })(group), false);
  assert.equal(followFilter({ mentions: true })(group), true);
  assert.equal(followFilter({ mentions: true })(inTeam()), false);
  assert.equal(followFilter({})(inTeam()), true);
});
