import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Conversation, Message, Method, OutboxItem, ParamsOf, ResultOf } from '../../protocol/rpc';
import { InboxModel, type ConversationNode } from '../../extension/inboxModel';
import { OutboxModel } from '../../extension/outboxModel';
import type { Rpc } from '../../extension/rpcClient';

let seq = 0;
function msg(p: Partial<Message> & { conversation: string }): Message {
  seq++;
  const id = p.id ?? `m${String(seq).padStart(4, '0')}`;
  return {
    id,
    client_message_id: `c-${id}`,
    server_id: null,
    direction: 'in',
    from: p.conversation,
    to: 'me',
    body: `body ${id}`,
    reply_to: null,
    request_id: null,
    created_at: new Date(Date.parse('2026-11-24T00:00:00Z') + seq * 1000).toISOString(),
    state: 'received',
    read: false,
    ...p,
  };
}

/** A fake core holding messages; answers the few methods the models use. */
class FakeCore implements Rpc {
  messages: Message[] = [];
  outbox: OutboxItem[] = [];
  calls: { method: string; params: unknown }[] = [];
  async request<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    this.calls.push({ method, params });
    if (method === 'conversation/list') {
      const peers = new Map<string, Conversation>();
      for (const m of this.messages) {
        const c = peers.get(m.conversation) ?? { peer: m.conversation, unread: 0, total: 0, last: null };
        c.total++;
        if (m.direction === 'in' && !m.read) c.unread++;
        if (!c.last || c.last.created_at < m.created_at) c.last = m;
        peers.set(m.conversation, c);
      }
      return { conversations: [...peers.values()] } as ResultOf<M>;
    }
    if (method === 'conversation/messages') {
      const p = params as ParamsOf<'conversation/messages'>;
      let list = this.messages.filter((m) => m.conversation === p.peer).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
      if (p.before) {
        const b = this.messages.find((m) => m.id === p.before)!;
        list = list.filter((m) => m.created_at < b.created_at);
      }
      const limit = p.limit ?? 50;
      return { messages: list.slice(0, limit).reverse(), has_more: list.length > limit } as ResultOf<M>;
    }
    if (method === 'outbox/list') {
      const p = params as ParamsOf<'outbox/list'>;
      return { items: this.outbox.filter((i) => !p.state || i.state === p.state) } as ResultOf<M>;
    }
    throw new Error(`unexpected ${method}`);
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('InboxModel', () => {
  it('lists conversations newest first with unread counts', async () => {
    const core = new FakeCore();
    core.messages.push(msg({ conversation: 'bob' }), msg({ conversation: 'carol' }), msg({ conversation: 'bob', read: true }));
    const model = new InboxModel(() => core, 50, 1);
    await model.refresh();
    assert.deepEqual(
      model.conversations().map((c) => [c.peer, c.unread, c.total]),
      [
        ['bob', 1, 2],
        ['carol', 1, 1],
      ],
    );
    assert.equal(model.totalUnread, 2);
    model.dispose();
  });

  it('pages large conversations with `before`, newest first, keeping node identity', async () => {
    const core = new FakeCore();
    for (let i = 0; i < 120; i++) core.messages.push(msg({ conversation: 'bob' }));
    const model = new InboxModel(() => core, 50, 1);
    await model.refresh();
    const bob = model.conversation('bob')!;
    assert.equal(model.children(bob), undefined, 'not loaded until expanded');
    await model.ensureMessages('bob');
    let kids = model.children(bob)!;
    assert.equal(kids.length, 51);
    assert.equal(kids.at(-1)!.kind, 'loadMore');
    const first = kids[0]!;
    assert.equal(first.kind === 'message' && first.message.id, core.messages.at(-1)!.id, 'newest first');
    await model.loadOlder('bob');
    const beforeParam = (core.calls.at(-1)!.params as { before?: string }).before;
    assert.ok(beforeParam, 'second page asks for messages before the oldest loaded');
    await model.loadOlder('bob');
    kids = model.children(bob)!;
    assert.equal(kids.length, 120, 'all loaded, no load-more node');
    assert.equal(kids[0], first, 'node objects are stable');
    const ids = kids.map((k) => (k.kind === 'message' ? k.message.created_at : ''));
    assert.deepEqual(ids, [...ids].sort().reverse());
    model.dispose();
  });

  it('applies live events without a refetch, then reconciles counts', async () => {
    const core = new FakeCore();
    core.messages.push(msg({ conversation: 'bob' }));
    const model = new InboxModel(() => core, 50, 1);
    await model.refresh();
    await model.ensureMessages('bob');
    const changes: (ConversationNode | undefined)[] = [];
    model.onDidChange((n) => changes.push(n));

    const m2 = msg({ conversation: 'bob' });
    core.messages.push(m2);
    model.applyMessage(m2, 'received');
    assert.equal(model.conversation('bob')!.unread, 2);
    assert.equal(model.loadedMessages('bob')![0]!.id, m2.id);
    assert.equal(model.conversation('bob')!.last!.id, m2.id);
    assert.ok(changes.includes(model.conversation('bob')));

    const dave = msg({ conversation: 'dave' });
    core.messages.push(dave);
    model.applyMessage(dave, 'received');
    assert.equal(model.conversations()[0]!.peer, 'dave', 'new conversation on top');
    assert.ok(changes.includes(undefined), 'root refreshed for a new conversation');

    // read elsewhere (CLI): message/updated flips read
    const read = { ...m2, read: true };
    core.messages = core.messages.map((m) => (m.id === m2.id ? read : m));
    model.applyMessage(read, 'updated');
    assert.equal(model.conversation('bob')!.unread, 1);
    await tick();
    assert.equal(model.conversation('bob')!.unread, 1, 'reconciled with the core');
    assert.equal(model.totalUnread, 2);
    model.dispose();
  });

  it('marks read locally (message, conversation, all)', async () => {
    const core = new FakeCore();
    core.messages.push(msg({ conversation: 'bob' }), msg({ conversation: 'bob' }), msg({ conversation: 'carol' }));
    const model = new InboxModel(() => core, 50, 1000);
    await model.refresh();
    await model.ensureMessages('bob');
    const id = model.loadedMessages('bob')![0]!.id;
    model.markReadLocally({ ids: [id] });
    assert.equal(model.conversation('bob')!.unread, 1);
    model.markReadLocally({ peer: 'bob' });
    assert.equal(model.conversation('bob')!.unread, 0);
    assert.ok(model.loadedMessages('bob')!.every((m) => m.read));
    model.markReadLocally({ all: true });
    assert.equal(model.totalUnread, 0);
    model.dispose();
  });

  it('does nothing without a connection', async () => {
    const model = new InboxModel(() => undefined);
    await model.refresh();
    assert.equal(model.isLoaded, false);
    assert.deepEqual(model.conversations(), []);
    model.dispose();
  });
});

function item(p: Partial<OutboxItem> & { id: string }): OutboxItem {
  return { client_message_id: `c-${p.id}`, to: 'bob', body: 'hi', state: 'pending', attempts: 0, last_error: null, created_at: '2026-11-24T00:00:00Z', updated_at: '2026-11-24T00:00:00Z', ...p };
}

describe('OutboxModel', () => {
  it('groups queued and failed, drops done and aborted', async () => {
    const core = new FakeCore();
    core.outbox.push(item({ id: 'a' }), item({ id: 'b', state: 'inflight' }), item({ id: 'c', state: 'dead', last_error: 'unknown user' }), item({ id: 'd', state: 'done' }));
    const model = new OutboxModel(() => core);
    await model.refresh();
    assert.deepEqual(model.counts(), { queued: 2, failed: 1 });
    assert.deepEqual(model.roots().map((r) => r.group), ['queued', 'failed']);
    assert.deepEqual(model.children('queued').map((n) => n.item.id), ['a', 'b']);

    model.apply(item({ id: 'a', state: 'done', updated_at: '2026-11-24T00:00:01Z' }));
    assert.deepEqual(model.counts(), { queued: 1, failed: 1 });
    model.apply(item({ id: 'c', state: 'aborted', updated_at: '2026-11-24T00:00:01Z' }));
    assert.deepEqual(model.roots().map((r) => r.group), ['queued']);
    // stale event is ignored
    model.apply(item({ id: 'b', state: 'dead', updated_at: '2026-11-23T00:00:00Z' }));
    assert.equal(model.get('b')!.state, 'inflight');
    model.dispose();
  });

  it('lists expired items with the failed ones, loaded and live', async () => {
    const core = new FakeCore();
    core.outbox.push(item({ id: 'e', state: 'expired', last_error: 'expired: the relay held it for its whole retention' }), item({ id: 'f' }));
    const model = new OutboxModel(() => core);
    await model.refresh();
    assert.deepEqual(model.children('failed').map((n) => n.item.id), ['e'], 'refresh asks for expired items too');
    model.apply(item({ id: 'f', state: 'done', updated_at: '2026-11-24T00:00:01Z' }));
    model.apply(item({ id: 'f', state: 'expired', updated_at: '2026-11-24T00:00:02Z' }));
    assert.deepEqual(model.counts(), { queued: 0, failed: 2 });
    model.dispose();
  });
});
