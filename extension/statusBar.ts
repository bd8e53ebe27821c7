/** The status bar item: state icon + word, unread / queued / failed counts, freshness tooltip. */
import * as vscode from 'vscode';
import { formatStatus, type StatusInput } from './format';
import { Disposable } from './lifecycle';

export const STATUS_BAR_ID = 'switchboard.status';

export class StatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly input: () => StatusInput) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'Switchboard';
    this.item.command = 'switchboard.showActions';
    this.update();
    this.item.show();
    // freshness ("last inbound 3m ago") ages without events
    const t = setInterval(() => this.update(), 30_000);
    this._register({ dispose: () => clearInterval(t) });
  }

  update(): void {
    const p = formatStatus(this.input());
    this.item.text = p.text;
    this.item.tooltip = p.tooltip;
    this.item.accessibilityInformation = { label: p.accessibility, role: 'button' };
    this.item.backgroundColor = p.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : p.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }
}
