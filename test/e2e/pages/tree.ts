/** A tree view (e.g. a contributed TreeView) in the side bar or panel. */
import type { Locator, Page } from 'playwright-core';
import { cssString, exact } from './util';

export class Tree {
  readonly root: Locator;
  readonly rows: Locator;

  /**
   * `view`: the title of the view (its pane header's aria-label starts with it), or a
   * Locator for the element containing the tree.
   */
  constructor(readonly page: Page, view: string | Locator) {
    this.root =
      typeof view === 'string'
        ? page
            .locator('.pane')
            .filter({ has: page.locator(`.pane-header[aria-label^=${cssString(view)}]`) })
            .first()
        : view;
    this.rows = this.root.locator('.monaco-list-row');
  }

  /** Expands the view's pane if it is collapsed, clicking again if a click did not take. */
  async expandPane(timeout = 20_000): Promise<void> {
    const header = this.root.locator('.pane-header').first();
    const deadline = Date.now() + timeout;
    let lastClick = 0;
    while ((await header.getAttribute('aria-expanded', { timeout })) === 'false') {
      if (Date.now() > deadline) throw new Error("the view's pane did not expand");
      if (Date.now() - lastClick > 3_000) {
        await header.click();
        lastClick = Date.now();
      }
      await this.page.waitForTimeout(100);
    }
  }

  /** Rows whose label is exactly `label` (a RegExp is matched against the label). */
  row(label: string | RegExp): Locator {
    const re = typeof label === 'string' ? exact(label) : label;
    return this.rows.filter({ has: this.page.locator('.monaco-icon-label .label-name', { hasText: re }) }).first();
  }

  /** Labels of the rendered rows, top to bottom. */
  async labels(): Promise<string[]> {
    return (await this.rows.locator('.monaco-icon-label .label-name').allInnerTexts()).map((t) => t.trim());
  }

  /** The row's description (the dimmed text after the label). */
  async description(label: string | RegExp): Promise<string> {
    const d = this.row(label).locator('.label-description');
    return (await d.count()) ? (await d.innerText()).trim() : '';
  }

  async isExpanded(label: string | RegExp): Promise<boolean> {
    return (await this.row(label).getAttribute('aria-expanded')) === 'true';
  }

  /**
   * Expands a collapsed row (clicking its twistie) and waits until it is expanded. The row is
   * looked up afresh on every check: a tree that refreshes meanwhile replaces its elements,
   * and a click that lands during such a re-render is retried.
   */
  async expand(label: string | RegExp, timeout = 10_000): Promise<void> {
    const row = this.row(label);
    await row.waitFor({ state: 'visible', timeout });
    const deadline = Date.now() + timeout;
    for (;;) {
      if ((await row.getAttribute('aria-expanded', { timeout: 2_000 }).catch(() => 'false')) !== 'false') return;
      if (Date.now() > deadline) throw new Error(`tree row ${String(label)} did not expand`);
      await row.locator('.monaco-tl-twistie').click({ timeout: 2_000 }).catch(() => undefined);
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        if ((await row.getAttribute('aria-expanded', { timeout: 1_000 }).catch(() => 'false')) !== 'false') return;
        await this.page.waitForTimeout(100);
      }
    }
  }

  async collapse(label: string | RegExp): Promise<void> {
    const row = this.row(label);
    if ((await row.getAttribute('aria-expanded')) === 'true') await row.locator('.monaco-tl-twistie').click();
  }

  /** Clicks (selects / opens) a row. */
  async click(label: string | RegExp): Promise<void> {
    await this.row(label).click();
  }

  /** Opens the row's context menu and clicks the item titled `item`. */
  async contextMenu(label: string | RegExp, item: string): Promise<void> {
    // Under load the workbench can close a fresh context menu before its items show (a
    // notification or a view refresh takes focus): open it again, a bounded number of times.
    const attempts = 3;
    for (let attempt = 1; ; attempt++) {
      await this.row(label).click({ button: 'right' });
      try {
        await clickMenuItem(this.page, item, attempt < attempts ? 5_000 : 10_000);
        return;
      } catch (error) {
        if (attempt >= attempts) throw error;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /** The labels of the row's context menu (then closes it with Escape). */
  async contextMenuItems(label: string | RegExp): Promise<string[]> {
    await this.row(label).click({ button: 'right' });
    const labels = this.page.locator('.context-view .monaco-menu .action-item .action-label');
    await labels.first().waitFor({ state: 'visible' });
    const texts = (await labels.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    await this.page.keyboard.press('Escape');
    return texts;
  }

  /** Clicks an inline action (icon button shown on hover) of a row, by its title. */
  async inlineAction(label: string | RegExp, actionTitle: string): Promise<void> {
    const row = this.row(label);
    await row.hover();
    const action = row.locator(`.actions .action-label[aria-label^=${cssString(actionTitle)}]`).first();
    await action.waitFor({ state: 'visible' });
    await action.click();
  }
}

/**
 * Clicks an item of the open context menu. The workbench drops a click that lands in the
 * first moments after the menu appears, so hover first and retry until the menu closes.
 */
export async function clickMenuItem(page: Page, item: string, timeout = 10_000): Promise<void> {
  const menu = page.locator('.context-view .monaco-menu');
  const menuItem = menu
    .locator('.action-item')
    .filter({ has: page.locator('.action-label', { hasText: exact(item) }) })
    .first();
  await menuItem.waitFor({ state: 'visible', timeout });
  const deadline = Date.now() + timeout;
  for (;;) {
    await menuItem.hover();
    await page.waitForTimeout(100);
    if (!(await menuItem.isVisible())) return;
    await menuItem.click({ timeout: 2_000 }).catch(() => undefined);
    try {
      await menu.first().waitFor({ state: 'hidden', timeout: 1_000 });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`context menu item "${item}" did not respond to clicks`);
    }
  }
}
