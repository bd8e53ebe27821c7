/** The VS Code workbench as a whole: readiness and the command palette. */
import type { Page } from 'playwright-core';
import { QuickInput } from './quickinput';

export class Workbench {
  readonly quickInput: QuickInput;

  constructor(readonly page: Page) {
    this.quickInput = new QuickInput(page);
  }

  /** Waits until the workbench is laid out (status bar and activity bar present). */
  async waitReady(timeout = 60_000): Promise<void> {
    await this.page.locator('div.monaco-workbench').waitFor({ state: 'visible', timeout });
    await this.page.locator('footer[role="status"]').waitFor({ state: 'visible', timeout });
    await this.page.locator('.part.activitybar, .part.sidebar').first().waitFor({ state: 'visible', timeout });
  }

  /** Opens the command palette (F1, then Ctrl+Shift+P if F1 was swallowed). */
  async openCommandPalette(): Promise<QuickInput> {
    const qi = this.quickInput;
    // A quick input that is still open (or fading out) would take the keys: let it go first.
    if (await qi.isOpen()) {
      await qi.waitClosed(2_000).catch(async () => {
        await this.page.keyboard.press('Escape');
        await qi.waitClosed(5_000);
      });
    }
    await this.page.keyboard.press('F1');
    try {
      await qi.waitOpen(3_000);
    } catch {
      await this.page.keyboard.press('Control+Shift+P');
      await qi.waitOpen();
    }
    if (!(await qi.value()).startsWith('>')) await qi.fill('>');
    return qi;
  }

  /**
   * Runs a command by its palette title, like a person: F1, type the title, Enter on the
   * matching entry. `title` matches "Title" or "Category: Title" exactly.
   */
  async runCommand(title: string, timeout = 20_000): Promise<void> {
    const qi = await this.openCommandPalette();
    await qi.type(title);
    const row = qi.row(title).first();
    await row.waitFor({ state: 'visible', timeout });
    // Enter when the match is the focused (first) entry, as a person would; else click it.
    if (await row.evaluate((el) => el.classList.contains('focused'))) await qi.submit();
    else await row.click();
    // Done when the palette has gone, or turned into the command's own quick input.
    const deadline = Date.now() + timeout;
    for (;;) {
      if (!(await qi.isOpen())) return;
      const v = await qi.value().catch(() => '');
      if (!v.startsWith('>')) return;
      if (Date.now() > deadline) throw new Error(`command palette still open after running "${title}"`);
      await this.page.waitForTimeout(100);
    }
  }

  /** Presses a key chord on the workbench (e.g. 'Escape', 'Control+Shift+E'). */
  async press(keys: string): Promise<void> {
    await this.page.keyboard.press(keys);
  }
}
