/**
 * Issue 15: a message arriving at alice's core → visible in the real workbench (the packed
 * extension in code-server + chromium, the e2e harness), in the Inbox tree and in the open
 * conversation view, against the core's own `message/received` notification reaching a plain
 * socket client of the same core, in the same run.
 *
 * bob (a real core, test/e2e/peer.ts) sends one message at a time through a real relay. The
 * times are wall-clock milliseconds taken where each thing happens: in this process when the
 * socket client's notification arrives, and inside the pages by MutationObservers (the
 * workbench's document for the Inbox rows, the webview's own document for the thread) when the
 * message's text is first in the DOM. All of them are measured from bob's send call. Bounded:
 * a fixed count of messages, each waited for at most 30 s.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { PROTOCOL_VERSION, type MessageEvent } from '../protocol/rpc';
import { SocketClient } from '../server/cli/socket-client';
import { homePaths } from '../lib/node/paths';
import { TestRelay } from '../test/support/relay';
import { startWorkbench, type WorkbenchSession } from '../test/e2e/harness';
import { missingTools } from '../test/e2e/paths';
import { ActivityBar, Tree, Webview, Workbench } from '../test/e2e/pages';
import { killCoreOf, Peer } from '../test/e2e/peer';
import { eventually, packSwitchboard } from '../test/e2e/world';

export interface ArrivalFigures {
  /** ms from bob's send call, one per message. */
  socket: number[];
  tree: number[];
  view: number[];
}

// Strings, not functions: tsx's compiled functions call a `__name` helper the pages lack.
const TREE_OBSERVER = `(() => {
  window.__seen = {};
  const scan = () => {
    for (const el of document.querySelectorAll('.part.sidebar .monaco-list-row .label-name')) {
      const t = (el.textContent || '').trim();
      if (/^arrival-\\d+$/.test(t) && !(t in window.__seen)) window.__seen[t] = Date.now();
    }
  };
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true });
  return true;
})()`;
const VIEW_OBSERVER = `(() => {
  window.__seen = {};
  const thread = document.getElementById('thread');
  const scan = () => {
    for (const el of thread.querySelectorAll('article.msg .body')) {
      const t = (el.textContent || '').trim();
      if (/^arrival-\\d+$/.test(t) && !(t in window.__seen)) window.__seen[t] = Date.now();
    }
  };
  new MutationObserver(scan).observe(thread, { childList: true, subtree: true, characterData: true });
  return true;
})()`;

const seenIn = (f: { evaluate(expr: string): Promise<unknown> }, body: string) => f.evaluate(`window.__seen[${JSON.stringify(body)}]`) as Promise<number | undefined>;

/** The frame holding the conversation view's document (two frames below the workbench). */
async function conversationFrame(wb: WorkbenchSession): Promise<Frame> {
  return eventually('the conversation view frame', async () => {
    for (const f of wb.page.frames()) if (await f.$('#composer').catch(() => null)) return f;
    return undefined;
  }, 60_000);
}

/**
 * One workbench, then each run in turn: `count` messages from bob, each sent once the previous
 * one is visible everywhere and then `quietMs` have passed. Back to back (0) every message lands
 * inside the 200 ms window in which VS Code batches a tree's refreshes after the last one (the
 * previous message's read); after a quiet gap it is the first refresh of a window, shown at once.
 */
export async function workbenchArrivalBench(runs: readonly { count: number; quietMs: number }[]): Promise<ArrivalFigures[]> {
  const missing = missingTools();
  if (missing) throw new Error(missing);
  const root = mkdtempSync(join(tmpdir(), 'sb-bench-arrival-'));
  const aliceHome = join(root, 'alice');
  const vsixDir = join(root, 'vsix');
  mkdirSync(vsixDir);
  const relay = new TestRelay();
  const bob = new Peer('bob', join(root, 'bob'));
  let wb: WorkbenchSession | undefined;
  let client: SocketClient | undefined;
  try {
    const packed = packSwitchboard(vsixDir);
    await relay.start();
    await relay.configureHome(aliceHome, 'alice');
    await bob.start(relay);
    wb = await startWorkbench({ scenario: 'bench-arrival', vsix: await packed, env: { SWITCHBOARD_HOME: aliceHome } });
    const workbench = new Workbench(wb.page);
    await workbench.waitReady();
    await new ActivityBar(wb.page).open('Switchboard');
    const inbox = new Tree(wb.page, 'Inbox');
    await inbox.expandPane();
    const first = await bob.call('message/send', { to: 'alice', body: 'hello', client_message_id: 'arrival-hello', wait_ms: 30_000 });
    if (first.status !== 'sent') throw new Error(`bob's first send was ${first.status}`);
    await inbox.row('bob').waitFor({ state: 'visible', timeout: 60_000 });
    await inbox.expand('bob', 30_000);
    await inbox.contextMenu('bob', 'Open Conversation…');
    const view = await Webview.find(wb.page, '#composer', 60_000);
    await view.waitReady('#thread article.msg', 60_000);

    // the extension started alice's core: this plain client is the baseline's reader
    client = await SocketClient.connect(homePaths(aliceHome).socket, 10_000);
    await client.call('initialize', { client: { name: 'bench-arrival', version: '1' }, protocol: PROTOCOL_VERSION });
    const socketSeen = new Map<string, number>();
    client.onNotification((method, params) => {
      if (method === 'message/received') socketSeen.set((params as MessageEvent).message.body, Date.now());
    });
    await client.call('events/subscribe', {});
    await wb.page.evaluate(TREE_OBSERVER);
    const frame = await conversationFrame(wb);
    await frame.evaluate(VIEW_OBSERVER);

    const results: ArrivalFigures[] = [];
    let i = 0;
    for (const { count, quietMs } of runs) {
      const out: ArrivalFigures = { socket: [], tree: [], view: [] };
      for (let k = 0; k < count; k++, i++) {
        // the workload's pace, not a wait for anything: a person's next message comes later than this
        if (quietMs > 0) await new Promise((r) => setTimeout(r, quietMs));
        const body = `arrival-${i}`;
        const sentAt = Date.now();
        const sent = await bob.call('message/send', { to: 'alice', body, client_message_id: `arrival-${i}`, wait_ms: 30_000 });
        if (sent.status !== 'sent') throw new Error(`bob's send ${i} was ${sent.status}`);
        const [s, t, v] = await eventually(
          `${body} at the socket client, in the Inbox and in the view`,
          async () => {
            const r = [socketSeen.get(body), await seenIn(wb!.page, body), await seenIn(frame, body)] as const;
            return r.every((x) => typeof x === 'number') ? (r as readonly [number, number, number]) : undefined;
          },
          30_000,
          100,
        );
        out.socket.push(s - sentAt);
        out.tree.push(t - sentAt);
        out.view.push(v - sentAt);
      }
      results.push(out);
    }
    return results;
  } finally {
    client?.close();
    if (wb) {
      await wb.screenshot('bench-arrival').catch(() => undefined);
      await wb.close();
    }
    await killCoreOf(aliceHome);
    await bob.stop();
    await relay.dispose();
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
}
