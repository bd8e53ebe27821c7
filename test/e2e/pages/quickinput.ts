/** The quick input widget (command palette, quick picks, input boxes). */
import type { Locator, Page } from 'playwright-core';
import { escapeRegExp } from './util';

export class QuickInput {
  readonly widget: Locator;
  readonly input: Locator;
  readonly rows: Locator;

  constructor(readonly page: Page) {
    this.widget = page.locator('.quick-input-widget');
    this.input = this.widget.locator('.quick-input-box input');
    this.rows = this.widget.locator('.quick-input-list .monaco-list-row');
  }

  async waitOpen(timeout?: number): Promise<void> {
    await this.input.waitFor({ state: 'visible', timeout });
  }

  async waitClosed(timeout?: number): Promise<void> {
    await this.widget.waitFor({ state: 'hidden', timeout });
  }

  async isOpen(): Promise<boolean> {
    return this.input.isVisible();
  }

  /** Types like a person (appends to what is there, e.g. the palette's '>'). */
  async type(text: string): Promise<void> {
    await this.input.pressSequentially(text, { delay: 10 });
  }

  /** Replaces the input's value. */
  async fill(text: string): Promise<void> {
    await this.input.fill(text);
  }

  async value(): Promise<string> {
    return this.input.inputValue();
  }

  /** Visible rows whose label is `label` (or, for commands, "Category: label"). */
  row(label: string | RegExp): Locator {
    const re =
      typeof label === 'string' ? new RegExp(`^\\s*(?:[^:]+:\\s*)?${escapeRegExp(label)}\\s*$`) : label;
    return this.rows.filter({ has: this.page.locator('.quick-input-list-label .label-name', { hasText: re }) });
  }

  /**
   * Waits for the row with this label to be listed; on timeout the error says what the quick
   * input showed instead (title, value, busy, the listed labels), so a CI failure explains itself.
   */
  async waitRow(label: string | RegExp, timeout = 20_000): Promise<Locator> {
    const row = this.row(label).first();
    try {
      await row.waitFor({ state: 'visible', timeout });
      return row;
    } catch (err) {
      const seen = await Promise.all([
        this.title().innerText({ timeout: 1000 }).catch(() => '(no title)'),
        this.value().catch(() => '(no input)'),
        this.widget.locator('.quick-input-progress-bar .progress-bit:visible').count().catch(() => 0),
        this.labels().catch(() => []),
      ]);
      const [title, value, busy, labels] = seen;
      throw new Error(`no row "${String(label)}" within ${timeout} ms; the quick input showed title "${title}", value "${value}", ${busy ? 'busy' : 'not busy'}, rows [${labels.map((l) => JSON.stringify(l)).join(', ')}]`, { cause: err });
    }
  }

  /** Labels of the visible rows. */
  async labels(): Promise<string[]> {
    // a row's first label-name is its label (a detail line is one too); the list keeps hidden
    // rows around for reuse, which a person does not see
    return this.rows.evaluateAll((rows) =>
      rows.filter((r) => (r as HTMLElement).getClientRects().length > 0 && getComputedStyle(r).visibility !== 'hidden').map((r) => r.querySelector('.quick-input-list-label .label-name')?.textContent?.trim() ?? ''),
    );
  }

  /** Clicks the row with this label (waits for it to be listed). */
  async pick(label: string | RegExp): Promise<void> {
    const row = this.row(label).first();
    await row.waitFor({ state: 'visible' });
    await row.click();
  }

  /** Accepts the input (Enter). */
  async submit(): Promise<void> {
    await this.input.press('Enter');
  }

  async cancel(): Promise<void> {
    await this.input.press('Escape');
  }

  /** The title bar text of a titled quick pick / input box (e.g. "Configure Relay (1/3): relay URL"). */
  title(): Locator {
    return this.widget.locator('.quick-input-title');
  }

  /** Waits until the open quick input's title is `title` (exactly, or matching a RegExp). */
  async waitTitle(title: string | RegExp, timeout?: number): Promise<void> {
    const re = typeof title === 'string' ? new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) : title;
    await this.title().filter({ hasText: re }).waitFor({ state: 'visible', timeout });
    await this.waitOpen(timeout);
  }

  /** The validation / prompt message under the input box. */
  message(): Locator {
    return this.widget.locator('.quick-input-message');
  }
}
