/**
 * Find in Messages…: a quick pick that asks the core's `search` as the user types (debounced,
 * and an answer to an older query is dropped), and opens the picked message's conversation
 * scrolled to it.
 */
import * as vscode from 'vscode';
import type { CoreConnection } from './connection';
import { errorText } from './format';
import { searchItem, type SearchItem } from './searchItems';

/** How long typing must pause before the core is asked. */
const DEBOUNCE_MS = 150;
const LIMIT = 50;
/** The core refuses longer queries (docs/protocol.md). */
const MAX_QUERY = 1000;

type Item = vscode.QuickPickItem & Partial<Pick<SearchItem, 'id' | 'conversation'>>;

export function findMessages(connection: Pick<CoreConnection, 'request'>, open: (peer: string, messageId: string) => void): void {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = 'Find in Messages';
  qp.placeholder = 'Type words to search every conversation';
  // the core already matched: VS Code must not filter the rows again by their labels
  qp.matchOnDescription = false;
  qp.matchOnDetail = false;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async (query: string, mine: number) => {
    if (!query.trim()) {
      qp.items = [];
      qp.busy = false;
      return;
    }
    try {
      const res = await connection.request('search', { query: query.slice(0, MAX_QUERY), limit: LIMIT });
      if (mine !== seq) return;
      const now = Date.now();
      qp.items = res.messages.length ? res.messages.map((m) => ({ ...searchItem(m, query, now), alwaysShow: true })) : [{ label: 'No messages match', alwaysShow: true }];
    } catch (err) {
      if (mine !== seq) return;
      qp.items = [{ label: 'Search failed', detail: errorText(err), alwaysShow: true }];
    } finally {
      if (mine === seq) qp.busy = false;
    }
  };
  qp.onDidChangeValue((v) => {
    const mine = ++seq;
    if (timer) clearTimeout(timer);
    qp.busy = v.trim().length > 0;
    timer = setTimeout(() => void run(v, mine), DEBOUNCE_MS);
  });
  qp.onDidAccept(() => {
    const pick = qp.selectedItems[0];
    if (!pick?.id || !pick.conversation) return;
    qp.hide();
    open(pick.conversation, pick.id);
  });
  qp.onDidHide(() => {
    if (timer) clearTimeout(timer);
    qp.dispose();
  });
  qp.show();
}
