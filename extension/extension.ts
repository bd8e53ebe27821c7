/** Entry point: activation on startup (and when a conversation panel is restored). */
import type * as vscode from 'vscode';
import { App } from './app';

let app: App | undefined;

export function activate(context: vscode.ExtensionContext): { app: App } {
  app = new App(context);
  context.subscriptions.push(app);
  app.start();
  return { app };
}

/** Leave the core politely (LSP shutdown + exit); it keeps serving other windows and the CLI. */
export async function deactivate(): Promise<void> {
  const a = app;
  app = undefined;
  if (a) await a.connection.stop().catch(() => undefined);
}
