/** Notification toasts (bottom right) and their action buttons. */
import type { Locator, Page } from 'playwright-core';
import { exact } from './util';

export class Notifications {
  readonly toasts: Locator;

  constructor(readonly page: Page) {
    this.toasts = page.locator('.notifications-toasts .notification-toast');
  }

  /** The visible toast whose message contains `text`. */
  toast(text: string | RegExp): Locator {
    return this.toasts
      .filter({ has: this.page.locator('.notification-list-item-message', { hasText: text }) })
      .first();
  }

  /** Waits for a toast containing `text` and returns it. */
  async waitFor(text: string | RegExp, timeout?: number): Promise<Locator> {
    const t = this.toast(text);
    await t.waitFor({ state: 'visible', timeout });
    return t;
  }

  async message(toast: Locator): Promise<string> {
    return (await toast.locator('.notification-list-item-message').innerText()).trim();
  }

  /** Clicks the action button labelled `button` on the toast containing `text`. */
  async clickAction(text: string | RegExp, button: string): Promise<void> {
    const t = await this.waitFor(text);
    await t.locator('.notification-list-item-buttons-container .monaco-button', { hasText: exact(button) }).click();
  }

  /** Closes the toast containing `text` (its close icon). */
  async dismiss(text: string | RegExp): Promise<void> {
    const t = await this.waitFor(text);
    await t.hover();
    await t.locator('.codicon-notifications-clear').first().click();
    await t.waitFor({ state: 'hidden' });
  }

  /** Messages of all visible toasts. */
  async messages(): Promise<string[]> {
    return (await this.toasts.locator('.notification-list-item-message').allInnerTexts()).map((t) => t.trim());
  }
}
