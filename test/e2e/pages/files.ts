/**
 * Files in the workbench: a conversation's attachments (inside the webview) and the file
 * dialogs. In code-server (a browser) VS Code's open and save dialogs are its simple dialog:
 * a quick input where a person types the path and presses Enter.
 */
import type { Locator } from 'playwright-core';
import { QuickInput } from './quickinput';
import { escapeRegExp } from './util';
import type { Webview } from './webview';

export class FileDialog {
  constructor(readonly qi: QuickInput) {}

  /**
   * Waits for the dialog titled `title`, types `path` in place of what it offers, and accepts
   * it. The simple dialog completes and re-lists as it is typed in: Enter is pressed once the
   * box holds exactly the path, and again if the dialog took the first one as "go there". On a
   * loaded machine the dialog can take seconds to close after Enter: before typing again it
   * checks the dialog is still the one open, so a retry never types into the quick input that
   * comes back after it (Send Message's message box).
   */
  async choose(title: string | RegExp, path: string, timeout = 20_000): Promise<void> {
    await this.qi.waitTitle(title, timeout);
    const dialog = this.qi.title().filter({ hasText: typeof title === 'string' ? new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) : title });
    const stillOpen = async () => (await this.qi.isOpen()) && (await dialog.isVisible());
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0 && !(await stillOpen())) return;
      await this.qi.fill(path);
      const deadline = Date.now() + 5_000;
      while ((await this.qi.value()) !== path && Date.now() < deadline) await this.qi.page.waitForTimeout(100);
      await this.qi.page.waitForTimeout(300);
      await this.qi.submit();
      // done once the dialog is gone: closed, or another quick input (the one that opened it) is back
      const gone = await Promise.race([this.qi.waitClosed(15_000), dialog.waitFor({ state: 'hidden', timeout: 15_000 })]).then(
        () => true,
        () => false,
      );
      if (gone) return;
    }
    throw new Error(`the file dialog "${String(title)}" did not take ${path} (it shows "${await this.qi.value().catch(() => '?')}")`);
  }
}

/** One message's files in the conversation view. */
export class Attachments {
  constructor(readonly view: Webview) {}

  /** The file row named `name` (its name is text: matched exactly). */
  item(name: string): Locator {
    return this.view.locator('li.attachment').filter({ has: this.view.content.locator('.attachment-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) });
  }

  meta(name: string): Promise<string> {
    return this.item(name).locator('.attachment-meta').innerText();
  }

  button(name: string, action: 'save' | 'open' | 'download'): Locator {
    return this.item(name).locator(`button[data-action="${action}"]`);
  }

  preview(name: string): Locator {
    return this.item(name).locator('img.attachment-preview');
  }

  /** The composer's picked files (names). */
  pending(): Promise<string[]> {
    return this.view.locator('#pending .pending-file .attachment-name').allInnerTexts();
  }

  attachButton(): Locator {
    return this.view.locator('#attach');
  }
}
