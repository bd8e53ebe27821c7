/**
 * Issue 15: rendering a 500-message conversation in the real conversation webview (dist/webview.js
 * and media/webview.css as built, the HTML and CSP of extension/webviewHtml.ts) in real Chromium
 * (Debian's, driven by playwright-core), each message with a highlighted fenced code block,
 * against the same 500 messages as plain text (the same words and lines, no fence) in the same run.
 *
 * No VS Code: `acquireVsCodeApi` is stubbed (an init script records what the view posts), and
 * the page posts the `init` message the host would send (protocol/webview.ts, checked with the
 * webview's own schema first). Files are served by request interception from an origin that is
 * never resolved. The figure: from posting `init` to the frame after the render (a listener
 * added after the view's own one asks for an animation frame, and a task queued from it runs
 * once that frame has been painted). Bounded: a fixed count of fresh pages per mode.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { WEBVIEW_PROTOCOL_VERSION, type HostToWebview, type ThreadMessage } from '../protocol/webview';
import { parseHostToWebview } from '../protocol/webview-schemas';
import { conversationHtml } from '../extension/webviewHtml';
import { CHROMIUM_ARGS } from '../test/e2e/harness';
import { CHROMIUM_PATH } from '../test/e2e/paths';

const ORIGIN = 'http://switchboard-bench.invalid';

export interface RenderFigures {
  /** ms from posting init to the painted frame after the render, one per fresh page. */
  code: number[];
  plain: number[];
  /** What the last code page rendered (a check that the figure is of highlighted blocks). */
  articles: number;
  highlighted: number;
  messages: number;
}

const SNIPPETS: { lang: string; lines: string[] }[] = [
  {
    lang: 'ts',
    lines: ['export async function load(id: string): Promise<User | null> {', '  const row = await db.get("SELECT name, email FROM users WHERE id = ?", id);', '  if (!row) return null;', '  // the cache is filled on the way out', '  cache.set(id, row);', '  return { id, name: row.name, email: row.email };', '}'],
  },
  {
    lang: 'python',
    lines: ['def retry(fn, attempts=3, delay=0.5):', '    for i in range(attempts):', '        try:', '            return fn()', '        except TimeoutError as e:', '            last = e', '            time.sleep(delay * (2 ** i))', '    raise last'],
  },
  {
    lang: 'bash',
    lines: ['set -euo pipefail', 'for f in logs/*.log; do', '  grep -c "ERROR" "$f" || true', 'done | sort -n | tail -5', 'echo "done: $(date -u)"'],
  },
];

/** The bodies: message i asks about a snippet (code), or says the same words and lines with no fence (plain). */
export function bodies(n: number, mode: 'code' | 'plain'): string[] {
  return Array.from({ length: n }, (_, i) => {
    const s = SNIPPETS[i % SNIPPETS.length]!;
    const note = `Message ${i}: does this look right to you, or should the loop go first`;
    return mode === 'code' ? `${note}\n\n\`\`\`${s.lang}\n${s.lines.join('\n')}\n\`\`\`` : `${note}\n\n${s.lines.join('\n')}`;
  });
}

function thread(n: number, mode: 'code' | 'plain'): ThreadMessage[] {
  const start = Date.parse('2026-12-01T09:00:00Z');
  return bodies(n, mode).map((body, i) => {
    const inbound = i % 2 === 0;
    return {
      id: `m${String(i).padStart(4, '0')}`,
      direction: inbound ? 'in' : 'out',
      from: inbound ? 'bob' : 'alice',
      to: inbound ? 'alice' : 'bob',
      body,
      created_at: new Date(start + i * 60_000).toISOString(),
      state: inbound ? 'received' : 'delivered',
      read: true,
      reply_to: null,
      group: null,
      mentions: [],
      mentions_me: inbound,
      receipts: null,
      attachments: [],
    };
  });
}

function initMessage(n: number, mode: 'code' | 'plain'): HostToWebview {
  const init: HostToWebview = { type: 'init', v: WEBVIEW_PROTOCOL_VERSION, peer: 'bob', self: 'alice', messages: thread(n, mode), hasMore: false, draft: '' };
  // the view drops what its schema refuses: a figure of an empty thread would be no figure
  if (!parseHostToWebview(JSON.parse(JSON.stringify(init)))) throw new Error('the bench init message does not pass the webview schema');
  return init;
}

async function onePage(browser: Browser, root: string, init: HostToWebview): Promise<{ ms: number; articles: number; highlighted: number }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  try {
    const nonce = 'benchnonce0123456789';
    const html = conversationHtml({ cspSource: ORIGIN, nonce, scriptUri: `${ORIGIN}/dist/webview.js`, styleUri: `${ORIGIN}/media/webview.css`, codiconUri: `${ORIGIN}/dist/codicons/codicon.css` });
    const file = (rel: string): Buffer => readFileSync(join(root, ...rel.split('/')));
    const files: Record<string, [Buffer, string]> = {
      '/index.html': [Buffer.from(html), 'text/html'],
      '/dist/webview.js': [file('dist/webview.js'), 'text/javascript'],
      '/media/webview.css': [file('media/webview.css'), 'text/css'],
      '/dist/codicons/codicon.css': [file('dist/codicons/codicon.css'), 'text/css'],
      '/dist/codicons/codicon.ttf': [file('dist/codicons/codicon.ttf'), 'font/ttf'],
    };
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      const f = url.origin === ORIGIN ? files[url.pathname] : undefined;
      if (f) await route.fulfill({ status: 200, contentType: f[1], body: f[0] });
      else await route.fulfill({ status: 404, body: '' });
    });
    // a string, not a function: tsx's compiled functions call a `__name` helper the page lacks
    await context.addInitScript(
      'window.__posts = []; let state; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posts.push(m), getState: () => state, setState: (s) => { state = s; } });',
    );
    const page = await context.newPage();
    await page.goto(`${ORIGIN}/index.html`, { timeout: 60_000 });
    await page.waitForFunction(() => (window as unknown as { __posts: { type?: string }[] }).__posts.some((m) => m.type === 'ready'), undefined, { timeout: 60_000 });
    return await page.evaluate(
      (msg) =>
        new Promise<{ ms: number; articles: number; highlighted: number }>((resolve) => {
          // added after the view's own listener, so it runs once the view has rendered the thread
          window.addEventListener(
            'message',
            () =>
              requestAnimationFrame(() =>
                setTimeout(() => {
                  performance.mark('painted');
                  const m = performance.measure('init-to-paint', 'init-posted', 'painted');
                  resolve({ ms: m.duration, articles: document.querySelectorAll('article.msg').length, highlighted: document.querySelectorAll('code.hljs.highlighted').length });
                }),
              ),
            { once: true },
          );
          performance.mark('init-posted');
          window.postMessage(msg, '*');
        }),
      init,
    );
  } finally {
    await context.close();
  }
}

/** `rounds` fresh pages per mode, alternating (after one warm-up of each), `n` messages each. */
export async function webviewRenderBench(root: string, n = 500, rounds = 7): Promise<RenderFigures> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
  try {
    const inits = { code: initMessage(n, 'code'), plain: initMessage(n, 'plain') };
    const out: RenderFigures = { code: [], plain: [], articles: 0, highlighted: 0, messages: n };
    await onePage(browser, root, inits.code);
    await onePage(browser, root, inits.plain);
    for (let i = 0; i < rounds; i++) {
      for (const mode of i % 2 ? (['plain', 'code'] as const) : (['code', 'plain'] as const)) {
        const r = await onePage(browser, root, inits[mode]);
        if (r.articles !== n) throw new Error(`the ${mode} page rendered ${r.articles} of ${n} messages`);
        out[mode].push(r.ms);
        if (mode === 'code') {
          out.articles = r.articles;
          out.highlighted = r.highlighted;
        }
      }
    }
    return out;
  } finally {
    await browser.close();
  }
}
