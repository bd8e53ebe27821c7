/** The status bar (footer[role="status"]) and its items. */
import type { Locator, Page } from 'playwright-core';
import { cssString } from './util';

export class StatusBar {
  readonly root: Locator;
  readonly items: Locator;

  constructor(readonly page: Page) {
    this.root = page.locator('footer[role="status"]');
    this.items = this.root.locator('.statusbar-item');
  }

  /**
   * The item whose text contains `text` or whose aria-label contains it (a RegExp is
   * matched against the text only).
   */
  item(text: string | RegExp): Locator {
    const byText = this.items.filter({ hasText: text });
    if (typeof text !== 'string') return byText;
    const byLabel = this.items.filter({ has: this.page.locator(`[aria-label*=${cssString(text)}]`) });
    return byText.or(byLabel).first();
  }

  /** The item with this entry id (`<publisher>.<extension>.<id>` for StatusBarItem ids). */
  byId(id: string): Locator {
    return this.root.locator(`.statusbar-item[id=${cssString(id)}]`);
  }

  async text(item: Locator): Promise<string> {
    return (await item.innerText()).trim();
  }

  async ariaLabel(item: Locator): Promise<string | null> {
    const labelled = item.locator('[aria-label]').first();
    return (await labelled.count()) ? labelled.getAttribute('aria-label') : item.getAttribute('aria-label');
  }

  async click(text: string | RegExp): Promise<void> {
    await this.item(text).click();
  }

  /** Texts of all visible items (useful in failure messages). */
  async texts(): Promise<string[]> {
    return (await this.items.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  }
}
