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

  /** Opens (shows) the view container titled `title` in the side bar. */
  async open(title: string): Promise<ViewContainer> {
    const container = new ViewContainer(this.page, title);
    if (!(await container.isOpen())) await this.item(title).click();
    await container.waitOpen();
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

  async waitOpen(timeout = 20_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!(await this.isOpen())) {
      if (Date.now() > deadline) throw new Error(`view container "${this.title}" did not open`);
      await this.page.waitForTimeout(100);
    }
  }

  /** A view's pane (by its title) inside this container. */
  pane(viewTitle: string): Locator {
    return this.sidebar
      .locator('.pane')
      .filter({ has: this.page.locator(`.pane-header[aria-label^=${cssString(viewTitle)}]`) });
  }
}
