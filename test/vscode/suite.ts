/**
 * Runs inside a real VS Code extension host (see run.ts). Drives the extension through its
 * public surface — activation, commands, views, the core it starts — against a real core in
 * a temporary SWITCHBOARD_HOME. No relay is configured, so sends are honestly `queued`.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { App } from '../../extension/app';

type Test = { name: string; fn: () => Promise<void> };
const tests: Test[] = [];
const test = (name: string, fn: () => Promise<void>) => tests.push({ name, fn });

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let app: App;

test('activates on startup and connects to a core it starts (Node runtime detected)', async () => {
  const ext = vscode.extensions.getExtension<{ app: App }>('switchboard.switchboard');
  assert.ok(ext, 'extension is installed');
  const api = await ext.activate();
  app = api.app;
  await until('connected', () => app.connection.connected, 60_000);
  assert.equal(app.connection.current.phase, 'connected');
  await until('sync status', () => app.sync);
  assert.equal(app.sync?.state, 'disabled', 'no relay configured in a fresh home');
});

test('contributes every command', async () => {
  const all = new Set(await vscode.commands.getCommands(true));
  for (const id of ['sendMessage', 'reply', 'markRead', 'markAllRead', 'openConversation', 'requeue', 'abort', 'reconnect', 'showLog', 'configure', 'showActions', 'refresh']) {
    assert.ok(all.has(`switchboard.${id}`), `switchboard.${id}`);
  }
});

test('a send without a relay is reported as queued, never as sent, and shows in the outbox', async () => {
  const r = await app.connection.request('message/send', { to: 'bob', body: 'hello from the vscode suite', client_message_id: 'vscode-suite-1', wait_ms: 200 });
  assert.equal(r.status, 'queued');
  await until('outbox item', () => app.outbox.counts().queued === 1);
  await until('conversation', () => app.inbox.conversation('bob'));
});

test('opens a conversation webview', async () => {
  await vscode.commands.executeCommand('switchboard.openConversation', 'bob');
  await until('panel', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'bob'));
});

test('reconnects when the core goes away, starting a new one', async () => {
  const before = await app.connection.request('status/get', {});
  await app.connection.request('daemon/shutdown', {}).catch(() => undefined);
  await until('reconnected to a new core', async () => {
    if (!app.connection.connected) return false;
    const s = await app.connection.request('status/get', {}).catch(() => undefined);
    return s && s.pid !== before.pid;
  }, 60_000);
  await until('outbox reloaded', () => app.outbox.counts().queued === 1);
});

test('stops the core it started (clean-up)', async () => {
  const { pid } = await app.connection.request('status/get', {});
  await app.connection.shutdownCore();
  await until('core exited', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
});

/** Entry point for @vscode/test-electron. */
export function run(): Promise<void> {
  return runWith((line) => console.log(line));
}

/** Entry point for the code-server runner (test/vscode/runner): reports each line. */
export async function runWith(report: (line: string) => void): Promise<void> {
  const failures: string[] = [];
  for (const t of tests) {
    const start = Date.now();
    try {
      await t.fn();
      report(`  ✓ ${t.name} (${Date.now() - start} ms)`);
    } catch (err) {
      report(`  ✗ ${t.name}\n    ${err instanceof Error ? err.message : String(err)}`);
      failures.push(t.name);
      if (!app) break;
    }
  }
  if (failures.length) throw new Error(`${failures.length} of ${tests.length} failed: ${failures.join('; ')}`);
}
