/**
 * A webview's content. VS Code nests it two frames deep: the host iframe
 * (`iframe.webview.ready`) holds `#active-frame`, which holds the extension's HTML.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';

export class Webview {
  /**
   * `which`: index among the ready webview iframes (default 0), or a selector/text that must
   * be present inside the content (the first webview containing it is chosen by `find`).
   */
  constructor(readonly page: Page, readonly index = 0) {}

  /** All host iframes of ready webviews. */
  static hosts(page: Page): Locator {
    return page.locator('iframe.webview.ready');
  }

  /** The webview whose content has an element matching `selector` (waits up to `timeout`). */
  static async find(page: Page, selector: string, timeout = 20_000): Promise<Webview> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const n = await Webview.hosts(page).count();
      for (let i = 0; i < n; i++) {
        const wv = new Webview(page, i);
        if ((await wv.locator(selector).count().catch(() => 0)) > 0) return wv;
      }
      if (Date.now() > deadline) throw new Error(`no webview contains ${selector} (${n} webviews ready)`);
      await page.waitForTimeout(200);
    }
  }

  /** The host iframe element. */
  get host(): Locator {
    return Webview.hosts(this.page).nth(this.index);
  }

  /** The extension's document (inside #active-frame). */
  get content(): FrameLocator {
    return this.host.contentFrame().locator('#active-frame').contentFrame();
  }

  locator(selector: string): Locator {
    return this.content.locator(selector);
  }

  /** Waits until the webview's document has a body (and, if given, `selector`). */
  async waitReady(selector = 'body', timeout = 20_000): Promise<void> {
    await this.host.waitFor({ state: 'attached', timeout });
    await this.locator(selector).first().waitFor({ state: 'attached', timeout });
  }

  async text(selector = 'body'): Promise<string> {
    return (await this.locator(selector).first().innerText()).trim();
  }

  /**
   * Waits until the element's text is `expected`: the view renders what the host posts after it
   * loads, so an element can be there before its text is. Fails saying the text last seen.
   */
  async waitText(selector: string, expected: string, timeout = 20_000): Promise<void> {
    const deadline = Date.now() + timeout;
    let seen = '';
    for (;;) {
      seen = await this.text(selector).catch(() => seen);
      if (seen === expected) return;
      if (Date.now() > deadline) throw new Error(`${selector} reads ${JSON.stringify(seen)}, not ${JSON.stringify(expected)}, after ${timeout} ms`);
      await this.page.waitForTimeout(100);
    }
  }
}
