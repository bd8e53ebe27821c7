/** A modal dialog of the workbench (in a browser VS Code draws its own: `.monaco-dialog-box`). */
import type { Locator, Page } from 'playwright-core';
import { exact } from './util';

export class Dialog {
  readonly box: Locator;

  constructor(readonly page: Page) {
    this.box = page.locator('.monaco-dialog-box');
  }

  /** Waits for a dialog whose message is `text`. */
  async waitFor(text: string | RegExp, timeout?: number): Promise<void> {
    await this.box.filter({ has: this.page.locator('.dialog-message-text', { hasText: typeof text === 'string' ? exact(text) : text }) }).first().waitFor({ state: 'visible', timeout });
  }

  /** The dialog's detail text (below its message). */
  async detail(): Promise<string> {
    return (await this.box.locator('.dialog-message-detail').first().innerText()).trim();
  }

  /** The labels of its buttons, in order. */
  async buttons(): Promise<string[]> {
    return (await this.box.locator('.dialog-buttons .monaco-button').allInnerTexts()).map((t) => t.trim());
  }

  async click(button: string): Promise<void> {
    await this.box.locator('.dialog-buttons .monaco-button', { hasText: exact(button) }).first().click();
    await this.box.waitFor({ state: 'hidden' });
  }
}
