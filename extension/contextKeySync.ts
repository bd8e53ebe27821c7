/**
 * Keeps VS Code's context keys (and so the welcome views and menus that switch on them) at the
 * values the status model derives, setting only the keys whose value changed.
 */
import * as vscode from 'vscode';
import { ContextKeys, type ContextKey, type ContextValues } from './contextKeys';
import { Disposable } from './lifecycle';
import type { StatusModel } from './statusModel';

/** The one typed way to set a context key. */
export function setContext<K extends ContextKey>(key: K, value: ContextValues[K]): Thenable<unknown> {
  return vscode.commands.executeCommand('setContext', key, value);
}

export class ContextKeySync extends Disposable {
  private readonly last = new Map<ContextKey, unknown>();

  constructor(model: Pick<StatusModel, 'current' | 'onDidChange'>) {
    super();
    this.apply(model.current.context);
    this._register(model.onDidChange((s) => this.apply(s.context)));
  }

  private apply(values: ContextValues): void {
    for (const key of Object.values(ContextKeys)) {
      const value = values[key];
      if (this.last.has(key) && this.last.get(key) === value) continue;
      this.last.set(key, value);
      void setContext(key, value);
    }
  }
}
