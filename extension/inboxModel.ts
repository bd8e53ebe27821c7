/**
 * The Inbox tree's model: conversations → messages (newest first) → "load older". It owns
 * the data and its freshness; the vscode TreeDataProvider in `trees.ts` only renders it.
 * Groups are conversations too (`#name`): the model keeps their members and counts from the
 * core's group/list, group/changed and message events, so the provider decides nothing.
 * Node objects are stable (mutated in place) so the provider can refresh single nodes.
 */
import { groupAddress, isGroupAddress } from '../protocol/names';
import type { Conversation, Group, Message, Peer, TrustState } from '../protocol/rpc';
import { Disposable, Emitter } from './lifecycle';
import type { Rpc } from './rpcClient';

export interface ConversationNode {
  kind: 'conversation';
  /** A user name, or `#name` for a group. */
  peer: string;
  conversationKind: 'user' | 'group';
  unread: number;
  /** Unread messages that mention this user (in a group; every unread direct message counts). */
  unreadMentions: number;
  total: number;
  last: Message | null;
  /** For a group: its member count; null for a user. */
  members: number | null;
  /** For a group: the group as this home last knew it (roles, members); null until known, and for a user. */
  group: Group | null;
  /** For a user that is an agent identity (`alice.claude`): its owner, as the relay said it; null for a person. */
  owner: string | null;
  /** Trust in the user's device keys as the core last said (`peers/list`, `trust/changed`, a send refused with key_changed); `unverified` for a group. */
  trust: TrustState;
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
  /** Resolves once the refresh last scheduled has landed (or the model is disposed). */
  private refreshLanded: { promise: Promise<void>; resolve: () => void } | undefined;
  private generation = 0;
  /** Each user's trust as the core last said, kept apart from the threads so a conversation that appears later still shows it. */
  private readonly trust = new Map<string, TrustState>();

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

  get totalUnreadMentions(): number {
    let n = 0;
    for (const t of this.threads.values()) n += t.node.unreadMentions;
    return n;
  }

  /** The groups this user is a member of now (not those left), by name. */
  currentGroups(): Group[] {
    return [...this.threads.values()]
      .map((t) => t.node.group)
      .filter((g): g is Group => g !== null && g.role !== null)
      .sort((a, b) => a.name.localeCompare(b.name));
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

  /** The conversations' order as the tree shows it (a conversation added or gone changes it too). */
  private rowOrder(): string {
    return this.conversations().map((n) => n.peer).join('\n');
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

  /**
   * Fetch the conversation list and the groups; keeps loaded pages of conversations that still
   * exist. The groups tell who is in each room (and a room nobody wrote in yet is no
   * conversation); `group/list` may ask the relay, so the refreshes that follow message events
   * (`scheduleRefresh`) ask only for the conversations and keep the groups as the events left them.
   */
  async refresh(): Promise<void> {
    const rpc = this.rpc();
    if (!rpc) return;
    const gen = ++this.generation;
    const [{ conversations }, groups, peers] = await Promise.all([
      rpc.request('conversation/list', {}),
      rpc.request('group/list', {}).then((r) => r.groups),
      // a core before trust/* answers peers without `trust`: nothing is shown for them
      rpc.request('peers/list', {}).then((r) => r.peers, () => [] as Peer[]),
    ]);
    if (gen !== this.generation) return; // a newer refresh won
    this.trust.clear();
    for (const p of peers) if (p.trust) this.trust.set(p.name, p.trust);
    this.applyConversations(conversations, groups);
  }

  /** A user's trust as the model knows it (`unverified` when nothing was said). */
  trustOf(user: string): TrustState {
    return this.trust.get(user) ?? 'unverified';
  }

  /**
   * A `trust/changed` notification, or a send the core refused with key_changed: the user's
   * row (and the conversation view's header) follow at once.
   */
  applyTrust(user: string, trust: TrustState): void {
    if (this.trust.get(user) === trust || (!this.trust.has(user) && trust === 'unverified')) return;
    this.trust.set(user, trust);
    const t = this.threads.get(user);
    if (!t) return;
    t.node.trust = trust;
    this._onDidChange.fire(t.node);
  }

  /** The conversation list alone (counts after events); the groups stay as known. */
  async refreshConversations(): Promise<void> {
    const rpc = this.rpc();
    if (!rpc) return;
    const gen = ++this.generation;
    const { conversations } = await rpc.request('conversation/list', {});
    if (gen !== this.generation) return;
    this.applyConversations(conversations);
  }

  /**
   * The core's conversation list (and its groups): a group this user is in shows even before
   * its first message; one this user left shows only while its history does.
   */
  applyConversations(conversations: Conversation[], groups?: Group[]): void {
    const seen = new Set<string>();
    const known = groups ?? [...this.threads.values()].map((t) => t.node.group).filter((g): g is Group => g !== null);
    const byAddress = new Map(known.map((g) => [groupAddress(g.name), g] as const));
    const orderBefore = this.rowOrder();
    const rowsBefore = new Map([...this.threads].map(([peer, t]) => [peer, rowState(t.node)] as const));
    for (const c of conversations) {
      seen.add(c.peer);
      const t = this.thread(c.peer);
      t.node.conversationKind = c.kind;
      t.node.unread = c.unread;
      t.node.unreadMentions = c.unread_mentions;
      t.node.total = c.total;
      t.node.last = c.last;
      t.node.members = c.members;
      t.node.group = byAddress.get(c.peer) ?? null;
      t.node.owner = c.owner ?? null;
      t.node.trust = this.trustOf(c.peer);
    }
    for (const [address, g] of byAddress) {
      if (seen.has(address) || g.role === null) continue;
      seen.add(address);
      this.setGroup(this.thread(address).node, g);
    }
    for (const peer of [...this.threads.keys()]) if (!seen.has(peer)) this.threads.delete(peer);
    const wasLoaded = this.loaded;
    this.loaded = true;
    // Only what changed is refreshed: this runs after every burst of message events, and a tree
    // refresh that changes nothing still costs the view a round trip (and VS Code batches tree
    // refreshes, so a needless one can hold up the next real one).
    if (!wasLoaded || this.rowOrder() !== orderBefore) this._onDidChange.fire(undefined);
    else for (const t of this.threads.values()) if (rowsBefore.get(t.node.peer) !== rowState(t.node)) this._onDidChange.fire(t.node);
  }

  /**
   * A `group/changed` event (or a group/* answer): members, role and counts at once, then the
   * conversation list again. A group this user is in appears; a rename moves the room.
   */
  applyGroup(group: Group): void {
    const address = groupAddress(group.name);
    let rootChanged = false;
    for (const [peer, t] of this.threads) {
      // renamed: the same group under its old name is gone (its history moves with it)
      if (peer !== address && t.node.group?.group_id === group.group_id) {
        this.threads.delete(peer);
        rootChanged = true;
      }
    }
    const existing = this.threads.get(address);
    if (!existing && group.role === null) {
      if (rootChanged) this._onDidChange.fire(undefined);
      return;
    }
    const t = existing ?? this.thread(address);
    this.setGroup(t.node, group);
    this._onDidChange.fire(existing && !rootChanged ? t.node : undefined);
    this.scheduleRefresh();
  }

  private setGroup(node: ConversationNode, group: Group): void {
    node.conversationKind = 'group';
    node.group = group;
    node.members = group.members.length;
    node.unread = group.unread;
    node.unreadMentions = group.unread_mentions;
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
    if (isNewThread) t.node.conversationKind = message.group !== null ? 'group' : 'user';
    // A direct message from an agent says whose it is: the row shows it before the next refresh.
    if (message.group === null && message.direction === 'in' && message.from_owner !== undefined) t.node.owner = message.from_owner;
    if (existing) {
      if (existing.message.read !== message.read && message.direction === 'in') {
        t.node.unread = Math.max(0, t.node.unread + (message.read ? -1 : 1));
        if (message.mentions_me) t.node.unreadMentions = Math.max(0, t.node.unreadMentions + (message.read ? -1 : 1));
      }
      existing.message = message;
    } else {
      if (kind === 'received' || isNewThread) {
        t.node.total += 1;
        if (message.direction === 'in' && !message.read) {
          t.node.unread += 1;
          if (message.mentions_me) t.node.unreadMentions += 1;
        }
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
          if (!whole) {
            t.node.unread = Math.max(0, t.node.unread - 1);
            if (m.message.mentions_me) t.node.unreadMentions = Math.max(0, t.node.unreadMentions - 1);
          }
          m.message = { ...m.message, read: true };
          changed = true;
        }
      }
      if (whole && (t.node.unread || t.node.unreadMentions)) {
        t.node.unread = 0;
        t.node.unreadMentions = 0;
        changed = true;
      }
      // Its row (and with it its messages') only: a read moves no conversation.
      if (changed) this._onDidChange.fire(t.node);
    }
  }

  /** Forget everything (e.g. the core now serves another home). */
  clear(): void {
    this.threads.clear();
    this.trust.clear();
    this.loaded = false;
    this.generation++;
    this._onDidChange.fire(undefined);
  }

  /** Collapse bursts of events into one conversation/list call (not group/list: see refresh). */
  scheduleRefresh(): void {
    if (this.refreshTimer) return;
    let resolve!: () => void;
    const landed = { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
    this.refreshLanded = landed;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      (this.isDisposed ? Promise.resolve() : this.refreshConversations()).catch(() => undefined).finally(landed.resolve);
    }, this.refreshDelayMs);
  }

  /**
   * Resolves once the refresh the latest events scheduled has landed (at once when none is
   * pending). A refresh that finds nothing new changes no row, so it cannot be waited for as a change.
   */
  refreshSettled(): Promise<void> {
    return this.refreshLanded?.promise ?? Promise.resolve();
  }

  override dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.refreshLanded?.resolve();
    super.dispose();
  }

  private thread(peer: string): Thread {
    let t = this.threads.get(peer);
    if (!t) {
      t = {
        node: { kind: 'conversation', peer, conversationKind: isGroupAddress(peer) ? 'group' : 'user', unread: 0, unreadMentions: 0, total: 0, last: null, members: null, group: null, owner: null, trust: this.trustOf(peer) },
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

/** What a conversation row shows: equal when refreshing the row would change nothing. */
function rowState(node: ConversationNode): string {
  return JSON.stringify([node.conversationKind, node.unread, node.unreadMentions, node.total, node.last, node.members, node.group, node.owner, node.trust]);
}
