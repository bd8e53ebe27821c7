/**
 * The Inbox model's groups against a real core (Core.start in this process on a temp home, asked
 * over its socket): groups and their messages are stored the way the sync engine stores a
 * membership event and a group delivery, so the conversation list, the group list, the counts
 * and the events are the core's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GroupEvent, type GroupMember, type Message, type MessageEvent } from '../../protocol/rpc';
import { InboxModel } from '../../extension/inboxModel';
import type { Core } from '../../server/core';
import { newId } from '../../lib/node/ids';
import { until } from '../support/wait';
import { withLiveCore, type LiveCore } from '../support/live-core';

const ME = 'me';

interface Live extends LiveCore {
  events: { method: string; params: MessageEvent | GroupEvent }[];
}

async function withCore(body: (live: Live) => Promise<void>): Promise<void> {
  const events: Live['events'] = [];
  await withLiveCore('tree-model-groups-test', (live) => body({ ...live, events }), (method, params) => events.push({ method, params: params as MessageEvent | GroupEvent }));
}

let pos = 0;
/** A membership event as the sync engine stores one: the group as it is after it, and group/changed. */
async function saveGroup(core: Core, groupId: string, name: string, members: GroupMember[]): Promise<void> {
  const repo = core.service.repo;
  await core.service.writes.run(() => {
    const now = new Date().toISOString();
    repo.saveGroup({ group_id: groupId, name, pos: ++pos, members, me: ME, created_by: members[0]?.user ?? null, created_at: now }, now);
    repo.addEvent('group/changed', groupId, now);
  });
}

let clock = Date.parse('2026-11-24T00:00:00Z');
/** A group delivery as the sync engine stores it: in `#name`, mentions as the relay checked them. */
async function deliverToGroup(core: Core, groupId: string, name: string, from: string, body: string, mentions: string[] = []): Promise<Message> {
  const repo = core.service.repo;
  const id = await core.service.writes.run(() => {
    const now = new Date().toISOString();
    const id = newId();
    clock += 1000;
    repo.insertMessage({ id, client_message_id: `c-${id}`, server_id: newId(), conversation: `#${name}`, direction: 'in', from, to: `#${name}`, body, reply_to: null, request_id: null, created_at: new Date(clock).toISOString(), state: 'received', read: false, group_id: groupId, mentions, mentions_me: mentions.includes(ME) });
    repo.touchPeer(from, now);
    repo.addEvent('message/received', id, now);
    return id;
  });
  return repo.message(id)!;
}

const team: GroupMember[] = [
  { user: 'bob', role: 'owner' },
  { user: ME, role: 'member' },
  { user: 'carol', role: 'member' },
];

describe('InboxModel: groups against a real core', () => {
  it('shows a group this user is in before its first message, with its members; not one left with no history', async () => {
    await withCore(async ({ core, rpc }) => {
      await saveGroup(core, 'g-team', 'team', team);
      await saveGroup(core, 'g-old', 'old', [{ user: 'bob', role: 'owner' }]);
      const model = new InboxModel(() => rpc, 50, 1);
      try {
        await model.refresh();
        assert.deepEqual(model.conversations().map((c) => c.peer), ['#team']);
        const node = model.conversation('#team')!;
        assert.equal(node.conversationKind, 'group');
        assert.equal(node.members, 3);
        assert.equal(node.total, 0);
        assert.equal(node.group?.role, 'member');
        assert.deepEqual(model.currentGroups().map((g) => g.name), ['team']);
        // the refresh after message events asks only for the conversations: the groups stay known
        await model.refreshConversations();
        assert.deepEqual(model.conversations().map((c) => c.peer), ['#team']);
        assert.equal(model.conversation('#team'), node);
        assert.equal(node.group?.name, 'team');
      } finally {
        model.dispose();
      }
    });
  });

  it('counts unread messages and mentions of this user from the core, and follows live events', async () => {
    await withCore(async ({ core, rpc, events }) => {
      await saveGroup(core, 'g-team', 'team', team);
      await deliverToGroup(core, 'g-team', 'team', 'bob', 'standup in 5');
      await deliverToGroup(core, 'g-team', 'team', 'carol', '@me can you look?', [ME]);
      await deliverToGroup(core, 'g-other', 'other', 'dave', 'direct', []);
      const model = new InboxModel(() => rpc, 50, 1000);
      try {
        await model.refresh();
        const node = model.conversation('#team')!;
        assert.deepEqual([node.conversationKind, node.unread, node.unreadMentions, node.total, node.members], ['group', 2, 1, 2, 3]);
        await model.ensureMessages('#team');
        assert.deepEqual(model.loadedMessages('#team')!.map((m) => [m.from, m.group, m.mentions_me]), [['carol', 'team', true], ['bob', 'team', false]]);

        let seen = events.length;
        const apply = () => {
          for (const e of events.slice(seen)) {
            if (e.method === 'message/received') model.applyMessage((e.params as MessageEvent).message, 'received');
            if (e.method === 'message/updated') model.applyMessage((e.params as MessageEvent).message, 'updated');
            if (e.method === 'group/changed') model.applyGroup((e.params as GroupEvent).group);
          }
          seen = events.length;
        };

        const m3 = await deliverToGroup(core, 'g-team', 'team', 'bob', 'and @me again', [ME]);
        await until('the mention to be announced', () => events.some((e) => (e.params as MessageEvent).message?.id === m3.id));
        apply();
        assert.deepEqual([node.unread, node.unreadMentions, node.total], [3, 2, 3]);
        assert.equal(model.totalUnreadMentions, 2);

        // a member added: the core's group/changed carries the group as it is now
        await saveGroup(core, 'g-team', 'team', [...team, { user: 'dave', role: 'member' }]);
        await until('group/changed', () => events.slice(seen).some((e) => e.method === 'group/changed'));
        apply();
        assert.equal(model.conversation('#team'), node, 'the same node, updated in place');
        assert.equal(node.members, 4);
        assert.deepEqual(node.group!.members.map((m) => m.user).sort(), ['bob', 'carol', 'dave', ME]);

        // read elsewhere: the mention count follows the read flag
        await core.service.markRead({ ids: [m3.id] });
        await until('the read to be announced', () => events.slice(seen).some((e) => e.method === 'message/updated'));
        apply();
        assert.deepEqual([node.unread, node.unreadMentions], [2, 1]);

        model.markReadLocally({ peer: '#team' });
        assert.deepEqual([node.unread, node.unreadMentions], [0, 0]);
      } finally {
        model.dispose();
      }
    });
  });

  it('marks a mention read locally by id, and leaving keeps the room with its history', async () => {
    await withCore(async ({ core, rpc }) => {
      await saveGroup(core, 'g-team', 'team', team);
      const plain = await deliverToGroup(core, 'g-team', 'team', 'bob', 'hi all');
      const mention = await deliverToGroup(core, 'g-team', 'team', 'carol', '@me?', [ME]);
      const model = new InboxModel(() => rpc, 50, 1000);
      try {
        await model.refresh();
        await model.ensureMessages('#team');
        const node = model.conversation('#team')!;
        model.markReadLocally({ ids: [plain.id] });
        assert.deepEqual([node.unread, node.unreadMentions], [1, 1]);
        model.markReadLocally({ ids: [mention.id] });
        assert.deepEqual([node.unread, node.unreadMentions], [0, 0]);

        await saveGroup(core, 'g-team', 'team', team.filter((m) => m.user !== ME));
        const left = (await rpc.request('group/show', { name: 'team' }));
        model.applyGroup(left);
        assert.equal(node.group!.role, null);
        assert.deepEqual(model.currentGroups(), [], 'no longer offered for Add Member or Leave');
        await model.refresh();
        assert.deepEqual(model.conversations().map((c) => c.peer), ['#team'], 'its history stays');
      } finally {
        model.dispose();
      }
    });
  });

  it('a renamed group moves to its new name', async () => {
    await withCore(async ({ core, rpc }) => {
      await saveGroup(core, 'g-team', 'team', team);
      await deliverToGroup(core, 'g-team', 'team', 'bob', 'hello');
      const model = new InboxModel(() => rpc, 50, 1000);
      try {
        await model.refresh();
        await saveGroup(core, 'g-team', 'crew', team);
        model.applyGroup((await rpc.request('group/show', { name: 'crew' })));
        assert.deepEqual(model.conversations().map((c) => c.peer), ['#crew']);
        await model.refresh();
        assert.deepEqual(model.conversations().map((c) => [c.peer, c.total]), [['#crew', 1]], 'the core agrees');
      } finally {
        model.dispose();
      }
    });
  });
});
