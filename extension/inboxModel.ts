/**
 * The Inbox tree's model: conversations → messages (newest first) → "load older". It owns
 * the data and its freshness; the vscode TreeDataProvider in `inboxTree.ts` only renders it.
 * Node objects are stable (mutated in place) so the provider can refresh single nodes.
 */
import type { Conversation, Message } from '../protocol/rpc';
import { Disposable, Emitter } from './lifecycle';
import type { Rpc } from './rpcClient';

export interface ConversationNode {
  kind: 'conversation';
  peer: string;
  unread: number;
  total: number;
  last: Message | null;
}

export interface MessageNode {
  kind: 'message';
  peer: string;
  message: Message;
}

export interface LoadMoreNode {
  kind: 'loadMore';
  peer: string;
  loading: boolean;
}

export type InboxNode = ConversationNode | MessageNode | LoadMoreNode;

interface Thread {
  node: ConversationNode;
  /** Newest first. Undefined until the first page is fetched. */
  messages: MessageNode[] | undefined;
  hasMore: boolean;
  more: LoadMoreNode;
  loading: Promise<void> | undefined;
}

/** Newest first; ties by id so the order is total and stable. */
export function compareNewestFirst(a: Message, b: Message): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export class InboxModel extends Disposable {
  private readonly threads = new Map<string, Thread>();
  private loaded = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  /** `undefined`: the root (conversation list) changed; a node: that node and its children. */
  private readonly _onDidChange = this._register(new Emitter<ConversationNode | undefined>());
  readonly onDidChange = this._onDidChange.event;

  constructor(
    private readonly rpc: () => Rpc | undefined,
    readonly pageSize = 50,
    private readonly refreshDelayMs = 250,
  ) {
    super();
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  get totalUnread(): number {
    let n = 0;
    for (const t of this.threads.values()) n += t.node.unread;
    return n;
  }

  conversations(): ConversationNode[] {
    return [...this.threads.values()]
      .map((t) => t.node)
      .sort((a, b) => {
        const la = a.last?.created_at ?? '';
        const lb = b.last?.created_at ?? '';
        if (la !== lb) return la < lb ? 1 : -1;
        return a.peer.localeCompare(b.peer);
      });
  }

  conversation(peer: string): ConversationNode | undefined {
    return this.threads.get(peer)?.node;
  }

  /** Messages loaded so far for a conversation (newest first), or undefined if none fetched. */
  loadedMessages(peer: string): Message[] | undefined {
    return this.threads.get(peer)?.messages?.map((m) => m.message);
  }

  hasMore(peer: string): boolean {
    return this.threads.get(peer)?.hasMore ?? false;
  }

  /** Children of a conversation if already loaded; undefined means `ensureMessages` first. */
  children(node: ConversationNode): (MessageNode | LoadMoreNode)[] | undefined {
    const t = this.threads.get(node.peer);
    if (!t?.messages) return undefined;
    return t.hasMore ? [...t.messages, t.more] : [...t.messages];
  }

  /** Fetch the conversation list; keeps loaded pages of conversations that still exist. */
  async refresh(): Promise<void> {
    const rpc = this.rpc();
    if (!rpc) return;
    const gen = ++this.generation;
    const { conversations } = await rpc.request('conversation/list', {});
    if (gen !== this.generation) return; // a newer refresh won
    this.applyConversations(conversations);
  }

  applyConversations(conversations: Conversation[]): void {
    const seen = new Set<string>();
    for (const c of conversations) {
      seen.add(c.peer);
      const t = this.thread(c.peer);
      t.node.unread = c.unread;
      t.node.total = c.total;
      t.node.last = c.last;
    }
    for (const peer of [...this.threads.keys()]) if (!seen.has(peer)) this.threads.delete(peer);
    this.loaded = true;
    this._onDidChange.fire(undefined);
  }

  /** Load the first page of a conversation if it is not loaded yet. */
  ensureMessages(peer: string): Promise<void> {
    const t = this.thread(peer);
    if (t.messages) return Promise.resolve();
    return this.fetchPage(t, undefined);
  }

  /** Load the next page of older messages. */
  loadOlder(peer: string): Promise<void> {
    const t = this.thread(peer);
    if (!t.messages) return this.fetchPage(t, undefined);
    if (!t.hasMore) return Promise.resolve();
    const oldest = t.messages[t.messages.length - 1];
    return this.fetchPage(t, oldest?.message.id);
  }

  private fetchPage(t: Thread, before: string | undefined): Promise<void> {
    if (t.loading) return t.loading;
    const rpc = this.rpc();
    if (!rpc) return Promise.resolve();
    t.more.loading = true;
    const p = (async () => {
      try {
        const res = await rpc.request('conversation/messages', { peer: t.node.peer, limit: this.pageSize, ...(before ? { before } : {}) });
        const merged = new Map<string, MessageNode>();
        for (const m of t.messages ?? []) merged.set(m.message.id, m);
        for (const m of res.messages) {
          const existing = merged.get(m.id);
          if (existing) existing.message = m;
          else merged.set(m.id, { kind: 'message', peer: t.node.peer, message: m });
        }
        t.messages = [...merged.values()].sort((a, b) => compareNewestFirst(a.message, b.message));
        t.hasMore = res.has_more;
      } finally {
        t.more.loading = false;
        t.loading = undefined;
      }
      this._onDidChange.fire(t.node);
    })();
    t.loading = p;
    return p;
  }

  /** A `message/received` or `message/updated` event. Applies at once, then re-reads counts. */
  applyMessage(message: Message, kind: 'received' | 'updated'): void {
    const peer = message.conversation;
    const isNewThread = !this.threads.has(peer);
    const t = this.thread(peer);
    const existing = t.messages?.find((m) => m.message.id === message.id);
    if (existing) {
      if (existing.message.read !== message.read && message.direction === 'in') {
        t.node.unread = Math.max(0, t.node.unread + (message.read ? -1 : 1));
      }
      existing.message = message;
    } else {
      if (kind === 'received' || isNewThread) {
        t.node.total += 1;
        if (message.direction === 'in' && !message.read) t.node.unread += 1;
      }
      if (t.messages) {
        t.messages.push({ kind: 'message', peer, message });
        t.messages.sort((a, b) => compareNewestFirst(a.message, b.message));
      }
    }
    if (!t.node.last || compareNewestFirst(message, t.node.last) <= 0) t.node.last = message;
    this._onDidChange.fire(isNewThread ? undefined : t.node);
    if (isNewThread) this._onDidChange.fire(undefined);
    this.scheduleRefresh();
  }

  /** Optimistic local mark-read (the core's answer and events confirm it). */
  markReadLocally(filter: { ids?: string[]; peer?: string; all?: boolean }): void {
    const ids = new Set(filter.ids ?? []);
    for (const t of this.threads.values()) {
      const whole = filter.all || filter.peer === t.node.peer;
      let changed = false;
      for (const m of t.messages ?? []) {
        if (m.message.direction === 'in' && !m.message.read && (whole || ids.has(m.message.id))) {
          m.message = { ...m.message, read: true };
          if (!whole) t.node.unread = Math.max(0, t.node.unread - 1);
          changed = true;
        }
      }
      if (whole && t.node.unread) {
        t.node.unread = 0;
        changed = true;
      }
      if (changed) this._onDidChange.fire(t.node);
    }
    this._onDidChange.fire(undefined);
  }

  /** Forget everything (e.g. the core now serves another home). */
  clear(): void {
    this.threads.clear();
    this.loaded = false;
    this.generation++;
    this._onDidChange.fire(undefined);
  }

  /** Collapse bursts of events into one conversation/list call. */
  scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (!this.isDisposed) this.refresh().catch(() => undefined);
    }, this.refreshDelayMs);
  }

  override dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    super.dispose();
  }

  private thread(peer: string): Thread {
    let t = this.threads.get(peer);
    if (!t) {
      t = {
        node: { kind: 'conversation', peer, unread: 0, total: 0, last: null },
        messages: undefined,
        hasMore: false,
        more: { kind: 'loadMore', peer, loading: false },
        loading: undefined,
      };
      this.threads.set(peer, t);
    }
    return t;
  }
}
