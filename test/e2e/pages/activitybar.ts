/** The activity bar: opening a view container (sidebar) by its title. */
import type { Locator, Page } from 'playwright-core';
import { cssString } from './util';

export class ActivityBar {
  readonly root: Locator;

  constructor(readonly page: Page) {
    this.root = page.locator('.part.activitybar');
  }

  /** The activity bar entry of a view container (its aria-label starts with the title). */
  item(title: string): Locator {
    return this.root.locator(`.action-item a.action-label[aria-label^=${cssString(title)}]`).first();
  }

  /** Whether the entry is the active (checked) one, whatever the side bar shows yet. */
  async isActive(title: string): Promise<boolean> {
    const cls = await this.item(title).locator('xpath=..').getAttribute('class', { timeout: 1_000 }).catch(() => null);
    return cls !== null && /\bchecked\b/.test(cls);
  }

  /**
   * Opens (shows) the view container titled `title` in the side bar.
   * A click on the active entry toggles the side bar closed, and right after a window reload
   * the restored container can be active before its title renders: so click only when the
   * entry is not active, and click again if a click did not take.
   */
  async open(title: string, timeout = 30_000): Promise<ViewContainer> {
    const container = new ViewContainer(this.page, title);
    const deadline = Date.now() + timeout;
    let lastClick = 0;
    while (!(await container.isOpen())) {
      if (Date.now() > deadline) throw new Error(`view container "${title}" did not open`);
      const sidebarShown = await container.sidebar.isVisible();
      if (Date.now() - lastClick > 5_000 && !(sidebarShown && (await this.isActive(title)))) {
        await this.item(title).click();
        lastClick = Date.now();
      }
      await this.page.waitForTimeout(100);
    }
    return container;
  }
}

/** A view container shown in the side bar. */
export class ViewContainer {
  readonly sidebar: Locator;

  constructor(readonly page: Page, readonly title: string) {
    this.sidebar = page.locator('.part.sidebar');
  }

  /** The side bar title shows the container title (or "TITLE: VIEW" with a single view). */
  private titleLocator(): Locator {
    return this.sidebar.locator('.composite.title .title-label h2');
  }

  async isOpen(): Promise<boolean> {
    if (!(await this.sidebar.isVisible())) return false;
    const t = await this.titleLocator().getAttribute('title').catch(() => null);
    const text = t ?? (await this.titleLocator().innerText().catch(() => ''));
    return text.toLowerCase().startsWith(this.title.toLowerCase());
  }

  /** A view's pane (by its title) inside this container. */
  pane(viewTitle: string): Locator {
    return this.sidebar
      .locator('.pane')
      .filter({ has: this.page.locator(`.pane-header[aria-label^=${cssString(viewTitle)}]`) });
  }
}
