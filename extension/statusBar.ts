/** The status bar item: shows the status model's status (state, counts, freshness tooltip). */
import * as vscode from 'vscode';
import { formatStatus } from './format';
import { Commands, STATUS_BAR_ID } from './ids';
import { Disposable } from './lifecycle';
import type { StatusModel } from './statusModel';

export class StatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly model: Pick<StatusModel, 'current' | 'onDidChange'>) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'Switchboard';
    this.item.command = Commands.showActions;
    this.update();
    this.item.show();
    this._register(model.onDidChange(() => this.update()));
    // freshness ("last inbound 3m ago") ages without events
    const t = setInterval(() => this.update(), 30_000);
    this._register({ dispose: () => clearInterval(t) });
  }

  private update(): void {
    const p = formatStatus(this.model.current);
    this.item.text = p.text;
    this.item.tooltip = p.tooltip;
    this.item.accessibilityInformation = { label: p.accessibility, role: 'button' };
    this.item.backgroundColor = p.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : p.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }
}
