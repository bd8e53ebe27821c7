/**
 * The extension's tree models against a real core: Core.start in this process on a temp home
 * (its own SQLite store, its own socket), asked over that socket by the same JSON-RPC the
 * extension uses. Messages a peer sent are stored the way the sync engine stores a delivery,
 * so paging, counts and events are the core's own, not a stand-in's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Message, type MessageEvent, type OutboxEvent, type OutboxItem } from '../../protocol/rpc';
import { InboxModel, type ConversationNode, type InboxNode } from '../../extension/inboxModel';
import { conversationIconId, conversationItemText, messageIconId, messageItemText } from '../../extension/format';
import { OutboxModel } from '../../extension/outboxModel';
import type { Core } from '../../server/core';
import { newId } from '../../lib/node/ids';
import { directStoreFields } from '../support/messages';
import { until } from '../support/wait';
import { withLiveCore, type LiveCore } from '../support/live-core';

interface Live extends LiveCore {
  /** Every event notification this client received, in order. */
  events: { method: string; params: MessageEvent | OutboxEvent }[];
}

/** Runs `body` with a real core and one subscribed client; both closed, the home removed, whatever happens. */
async function withCore(body: (live: Live) => Promise<void>): Promise<void> {
  const events: Live['events'] = [];
  await withLiveCore('tree-model-test', (live) => body({ ...live, events }), (method, params) => events.push({ method, params: params as MessageEvent | OutboxEvent }));
}

let clock = Date.parse('2026-11-24T00:00:00Z');

/** Stores messages from `from` as the sync engine stores a delivery (message, peer, event), in one write. */
async function deliver(core: Core, from: string, count: number, options: { read?: boolean } = {}): Promise<Message[]> {
  const repo = core.service.repo;
  const ids = await core.service.writes.run(() => {
    const now = new Date().toISOString();
    const stored: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = newId();
      clock += 1000;
      repo.insertMessage({ id, client_message_id: `c-${id}`, server_id: newId(), conversation: from, direction: 'in', from, to: 'me', body: `from ${from} ${i}`, reply_to: null, request_id: null, created_at: new Date(clock).toISOString(), state: 'received', read: options.read ?? false, ...directStoreFields('in') });
      repo.touchPeer(from, now);
      repo.addEvent('message/received', id, now);
      stored.push(id);
    }
    return stored;
  });
  return ids.map((id) => repo.message(id)!);
}

describe('InboxModel against a real core', () => {
  it('lists conversations newest first with unread counts', async () => {
    await withCore(async ({ core, rpc }) => {
      await deliver(core, 'bob', 1);
      await deliver(core, 'carol', 1);
      await deliver(core, 'bob', 1, { read: true });
      const model = new InboxModel(() => rpc, 50, 1);
      try {
        await model.refresh();
        assert.deepEqual(
          model.conversations().map((c) => [c.peer, c.unread, c.total]),
          [
            ['bob', 1, 2],
            ['carol', 1, 1],
          ],
        );
        assert.equal(model.totalUnread, 2);
      } finally {
        model.dispose();
      }
    });
  });

  it('a refresh refreshes only what changed: nothing when nothing did, one row when its counts did, the root when the order did', async () => {
    await withCore(async ({ core, rpc }) => {
      await deliver(core, 'carol', 1);
      await deliver(core, 'bob', 1);
      const model = new InboxModel(() => rpc, 50, 1000);
      const changes: (InboxNode | undefined)[] = [];
      model.onDidChange((n) => changes.push(n));
      try {
        await model.refresh();
        changes.length = 0;
        await model.refreshConversations();
        assert.deepEqual(changes, [], 'nothing changed: nothing refreshed');
        await deliver(core, 'bob', 1);
        await model.refreshConversations();
        assert.deepEqual(changes, [model.conversation('bob')], "bob's row, still on top");
        changes.length = 0;
        await deliver(core, 'carol', 1);
        await model.refreshConversations();
        assert.deepEqual(changes, [undefined], 'carol moves to the top: the root');
        assert.equal(model.conversations()[0]!.peer, 'carol');
      } finally {
        model.dispose();
      }
    });
  });

  it('pages large conversations with `before`, newest first, keeping node identity', async () => {
    await withCore(async ({ core, rpc }) => {
      const sent = await deliver(core, 'bob', 120);
      const model = new InboxModel(() => rpc, 50, 1);
      try {
        await model.refresh();
        const bob = model.conversation('bob')!;
        assert.equal(model.children(bob), undefined, 'not loaded until expanded');
        await model.ensureMessages('bob');
        let kids = model.children(bob)!;
        assert.equal(kids.length, 51);
        assert.equal(kids.at(-1)!.kind, 'loadMore');
        const first = kids[0]!;
        assert.equal(first.kind === 'message' && first.message.id, sent.at(-1)!.id, 'newest first');
        await model.loadOlder('bob');
        assert.equal(model.children(bob)!.length, 101);
        await model.loadOlder('bob');
        kids = model.children(bob)!;
        assert.equal(kids.length, 120, 'all loaded, no load-more node');
        assert.equal(model.hasMore('bob'), false);
        assert.equal(kids[0], first, 'node objects are stable');
        assert.deepEqual(
          kids.map((k) => (k.kind === 'message' ? k.message.id : '')),
          [...sent].reverse().map((m) => m.id),
          'every message once, newest first, none skipped at a page boundary',
        );
      } finally {
        model.dispose();
      }
    });
  });

  it("applies the core's live events without a refetch, then reconciles counts with it", async () => {
    await withCore(async ({ core, rpc, events }) => {
      await deliver(core, 'bob', 1);
      const model = new InboxModel(() => rpc, 50, 1);
      try {
        await model.refresh();
        await model.ensureMessages('bob');
        const changes: (ConversationNode | undefined)[] = [];
        model.onDidChange((n) => changes.push(n));
        const applyEvents = (from: number) => {
          for (const e of events.slice(from)) {
            const m = (e.params as MessageEvent).message;
            if (e.method === 'message/received' && m) model.applyMessage(m, 'received');
            if (e.method === 'message/updated' && m) model.applyMessage(m, 'updated');
          }
          return events.length;
        };
        let seen = events.length;

        const [m2] = await deliver(core, 'bob', 1);
        await until('the core to announce it', () => events.some((e) => e.method === 'message/received' && (e.params as MessageEvent).message?.id === m2!.id));
        seen = applyEvents(seen);
        assert.equal(model.conversation('bob')!.unread, 2);
        assert.equal(model.loadedMessages('bob')![0]!.id, m2!.id);
        assert.equal(model.conversation('bob')!.last!.id, m2!.id);
        assert.ok(changes.includes(model.conversation('bob')));
        // The refresh the event scheduled finds the row as the event left it: it refreshes nothing.
        const afterEvent = changes.length;
        await model.refreshSettled();
        assert.deepEqual(changes.slice(afterEvent), [], 'the refresh after a message event changes no row');

        const [dave] = await deliver(core, 'dave', 1);
        await until('the core to announce dave', () => events.some((e) => (e.params as MessageEvent).message?.id === dave!.id));
        seen = applyEvents(seen);
        assert.equal(model.conversations()[0]!.peer, 'dave', 'new conversation on top');
        assert.ok(changes.includes(undefined), 'root refreshed for a new conversation');
        // The refresh those events scheduled lands before the next step, as it would in a
        // window: a refresh landing between a read and its event would count the read twice
        // until the next refresh.
        await model.refreshSettled();

        // Read elsewhere (the CLI): the core's message/updated flips read.
        await core.service.markRead({ ids: [m2!.id] });
        await until('the core to announce the read', () => events.some((e) => e.method === 'message/updated' && (e.params as MessageEvent).message?.id === m2!.id));
        seen = applyEvents(seen);
        assert.equal(model.conversation('bob')!.unread, 1);
        await model.refreshSettled();
        assert.equal(model.conversation('bob')!.unread, 1, 'reconciled with the core');
        assert.equal(model.totalUnread, 2);
      } finally {
        model.dispose();
      }
    });
  });

  it('marks read locally (message, conversation, all)', async () => {
    await withCore(async ({ core, rpc }) => {
      await deliver(core, 'bob', 2);
      await deliver(core, 'carol', 1);
      const model = new InboxModel(() => rpc, 50, 1000);
      try {
        await model.refresh();
        await model.ensureMessages('bob');
        const changes: (InboxNode | undefined)[] = [];
        model.onDidChange((n) => changes.push(n));
        const id = model.loadedMessages('bob')![0]!.id;
        model.markReadLocally({ ids: [id] });
        assert.equal(model.conversation('bob')!.unread, 1);
        model.markReadLocally({ peer: 'bob' });
        assert.equal(model.conversation('bob')!.unread, 0);
        assert.ok(model.loadedMessages('bob')!.every((m) => m.read));
        model.markReadLocally({ peer: 'bob' });
        model.markReadLocally({ all: true });
        assert.equal(model.totalUnread, 0);
        // Each read refreshes the rows it changed, never the whole tree, and a repeat refreshes nothing.
        const bob = model.conversation('bob');
        const carol = model.conversation('carol');
        assert.deepEqual(changes, [bob, bob, carol]);
      } finally {
        model.dispose();
      }
    });
  });

  it('an agent identity: its conversation and messages carry the owner, a hubot icon and "agent of …"', async () => {
    await withCore(async ({ core, rpc }) => {
      await deliver(core, 'bob', 1);
      // As the sync engine stores a delivery the relay marked `from_owner` (protocol v4).
      const repo = core.service.repo;
      const agentMessage = await core.service.writes.run(() => {
        const now = new Date().toISOString();
        const id = newId();
        clock += 1000;
        repo.insertMessage({ id, client_message_id: `c-${id}`, server_id: newId(), conversation: 'alice.claude', direction: 'in', from: 'alice.claude', to: 'me', body: 'from an agent', reply_to: null, request_id: null, created_at: new Date(clock).toISOString(), state: 'received', read: true, ...directStoreFields('in'), from_owner: 'alice' });
        repo.touchPeer('alice.claude', now);
        repo.notePeerOwner('alice.claude', 'alice');
        repo.addEvent('message/received', id, now);
        return id;
      });
      const model = new InboxModel(() => rpc, 50, 1);
      try {
        await model.refresh();
        const agent = model.conversation('alice.claude')!;
        const person = model.conversation('bob')!;
        assert.equal(agent.owner, 'alice');
        assert.equal(person.owner, null);
        assert.equal(conversationIconId(agent), 'hubot');
        assert.equal(conversationIconId(person), 'mail');
        const text = conversationItemText(agent);
        assert.match(text.description, /^agent of alice · /);
        assert.match(text.tooltip, /^alice\.claude \(agent of alice\)\n/);
        assert.doesNotMatch(conversationItemText(person).description, /agent/);
        await model.ensureMessages('alice.claude');
        const [node] = model.children(agent)!;
        assert.ok(node?.kind === 'message');
        assert.equal(node.message.id, agentMessage);
        assert.equal(node.message.from_owner, 'alice');
        assert.equal(messageIconId(node.message), 'hubot');
        assert.match(messageItemText(node.message).description, /^alice\.claude \(agent of alice\) · /);
        assert.match(messageItemText(node.message).tooltip, /^From alice\.claude \(agent of alice\) · /);
        // A live event from an agent the model has not listed yet shows its owner at once.
        const [fresh] = await deliver(core, 'bob.bot', 1);
        model.applyMessage({ ...fresh!, from_owner: 'bob' }, 'received');
        assert.equal(model.conversation('bob.bot')!.owner, 'bob');
      } finally {
        model.dispose();
      }
    });
  });

  it('does nothing without a connection', async () => {
    const model = new InboxModel(() => undefined);
    try {
      await model.refresh();
      assert.equal(model.isLoaded, false);
      assert.deepEqual(model.conversations(), []);
    } finally {
      model.dispose();
    }
  });
});

describe('OutboxModel against a real core', () => {
  it('groups queued and failed, drops done and aborted, and ignores a stale event', async () => {
    await withCore(async ({ core, rpc }) => {
      const send = async (body: string) => (await core.service.send({ to: 'bob', body })).id;
      const [a, b, c, d] = [await send('a'), await send('b'), await send('c'), await send('d')];
      const at = new Date().toISOString();
      await core.service.writes.run(() => {
        core.service.repo.markInflight(b, at);
        core.service.repo.recordOutboxFailure(c, 'dead', 'rejected by the relay: unknown recipient "bob"', at);
        core.service.repo.markInflight(d, at);
        core.service.repo.recordOutboxVerdict(d, 'sent', newId(), at);
      });
      const model = new OutboxModel(() => rpc);
      try {
        await model.refresh();
        assert.deepEqual(model.counts(), { queued: 2, failed: 1 });
        assert.deepEqual(model.roots().map((r) => r.group), ['queued', 'failed']);
        assert.deepEqual(model.children('queued').map((n) => n.item.id).sort(), [a, b].sort());

        const later = (item: OutboxItem): OutboxItem => ({ ...item, updated_at: new Date(Date.parse(item.updated_at) + 1000).toISOString() });
        model.apply(later({ ...model.get(a)!, state: 'done' }));
        assert.deepEqual(model.counts(), { queued: 1, failed: 1 });
        model.apply(await core.service.abort(c).then(later));
        assert.deepEqual(model.roots().map((r) => r.group), ['queued']);
        // A stale event (older than what the model holds) is ignored.
        const current = model.get(b)!;
        model.apply({ ...current, state: 'dead', updated_at: new Date(Date.parse(current.updated_at) - 1000).toISOString() });
        assert.equal(model.get(b)!.state, 'inflight');
      } finally {
        model.dispose();
      }
    });
  });

  it('lists expired items with the failed ones, loaded and live', async () => {
    await withCore(async ({ core, rpc }) => {
      const send = async (body: string) => (await core.service.send({ to: 'bob', body })).id;
      const [e, f] = [await send('e'), await send('f')];
      const serverId = newId();
      await core.service.writes.run(() => {
        const at = new Date().toISOString();
        core.service.repo.markInflight(e, at);
        core.service.repo.recordOutboxVerdict(e, 'sent', serverId, at);
        core.service.repo.setMessageState(e, 'sent', serverId);
        assert.ok(core.service.repo.markOutboxExpired(e, serverId, 'expired: the relay held it for its whole retention', at));
      });
      const model = new OutboxModel(() => rpc);
      try {
        await model.refresh();
        assert.deepEqual(model.children('failed').map((n) => n.item.id), [e], 'refresh asks for expired items too');
        const later = (item: OutboxItem, ms: number): OutboxItem => ({ ...item, updated_at: new Date(Date.parse(item.updated_at) + ms).toISOString() });
        model.apply(later({ ...model.get(f)!, state: 'done' }, 1000));
        assert.deepEqual(model.counts(), { queued: 0, failed: 1 });
        model.apply(later({ ...model.get(e)!, id: f, client_message_id: 'f', state: 'expired' }, 2000));
        assert.deepEqual(model.counts(), { queued: 0, failed: 2 });
      } finally {
        model.dispose();
      }
    });
  });
});
