/**
 * The Outbox tree's model: items still queued (pending / in flight) and those that failed
 * (dead, or expired undelivered at the relay). Done and aborted items leave the tree. The vscode provider is `outboxTree.ts`.
 */
import type { OutboxItem, OutboxState } from '../protocol/rpc';
import { Disposable, Emitter } from './lifecycle';
import type { Rpc } from './rpcClient';

export type OutboxGroupKind = 'queued' | 'failed';

export interface OutboxGroupNode {
  kind: 'group';
  group: OutboxGroupKind;
}

export interface OutboxItemNode {
  kind: 'item';
  item: OutboxItem;
}

export type OutboxNode = OutboxGroupNode | OutboxItemNode;

export function groupOf(state: OutboxState): OutboxGroupKind | undefined {
  if (state === 'pending' || state === 'inflight') return 'queued';
  if (state === 'dead' || state === 'expired') return 'failed';
  return undefined;
}

export class OutboxModel extends Disposable {
  private readonly items = new Map<string, OutboxItemNode>();
  private readonly groups: Record<OutboxGroupKind, OutboxGroupNode> = {
    queued: { kind: 'group', group: 'queued' },
    failed: { kind: 'group', group: 'failed' },
  };
  private generation = 0;

  private readonly _onDidChange = this._register(new Emitter<void>());
  readonly onDidChange = this._onDidChange.event;

  constructor(private readonly rpc: () => Rpc | undefined) {
    super();
  }

  counts(): { queued: number; failed: number } {
    let queued = 0;
    let failed = 0;
    for (const { item } of this.items.values()) {
      const g = groupOf(item.state);
      if (g === 'queued') queued++;
      else if (g === 'failed') failed++;
    }
    return { queued, failed };
  }

  roots(): OutboxGroupNode[] {
    const c = this.counts();
    const out: OutboxGroupNode[] = [];
    if (c.queued) out.push(this.groups.queued);
    if (c.failed) out.push(this.groups.failed);
    return out;
  }

  /** Oldest first: the order the core sends them. */
  children(group: OutboxGroupKind): OutboxItemNode[] {
    return [...this.items.values()]
      .filter((n) => groupOf(n.item.state) === group)
      .sort((a, b) => (a.item.created_at < b.item.created_at ? -1 : a.item.created_at > b.item.created_at ? 1 : a.item.id.localeCompare(b.item.id)));
  }

  get(id: string): OutboxItem | undefined {
    return this.items.get(id)?.item;
  }

  async refresh(): Promise<void> {
    const rpc = this.rpc();
    if (!rpc) return;
    const gen = ++this.generation;
    const states: OutboxState[] = ['pending', 'inflight', 'dead', 'expired'];
    const lists = await Promise.all(states.map((state) => rpc.request('outbox/list', { state })));
    if (gen !== this.generation) return;
    this.replace(lists.flatMap((l) => l.items));
  }

  replace(items: OutboxItem[]): void {
    const keep = new Set<string>();
    for (const item of items) {
      if (!groupOf(item.state)) continue;
      keep.add(item.id);
      const n = this.items.get(item.id);
      if (n) n.item = item;
      else this.items.set(item.id, { kind: 'item', item });
    }
    for (const id of [...this.items.keys()]) if (!keep.has(id)) this.items.delete(id);
    this._onDidChange.fire();
  }

  /** An `outbox/changed` event. */
  apply(item: OutboxItem): void {
    const existing = this.items.get(item.id);
    if (existing && existing.item.updated_at > item.updated_at) return; // stale event
    if (!groupOf(item.state)) this.items.delete(item.id);
    else if (existing) existing.item = item;
    else this.items.set(item.id, { kind: 'item', item });
    this._onDidChange.fire();
  }

  clear(): void {
    this.items.clear();
    this.generation++;
    this._onDidChange.fire();
  }
}
