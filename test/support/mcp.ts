/**
 * The MCP server under test, driven by the SDK's own client over stdio: `node dist/cli.js mcp
 * --home <home>` as a child process of this test file. Also: the cores such a server starts on
 * its own (detached, so not our children) are found by their home's holder file and killed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { homePaths } from '../../lib/node/paths';
import { socketAnswers } from '../../server/socket-probe';
import { CLI } from './cli';
import { waitFor } from './wait';

/** Every tool the server lists: the names are part of the contract (issue 14). */
export const TOOLS = [
  'send_message', 'reply', 'ask', 'wait_for_messages', 'list_inbox', 'read_message', 'mark_read', 'search_messages', 'list_conversations', 'outbox_status', 'status',
  'create_group', 'add_members', 'remove_members', 'leave_group', 'rename_group', 'set_member_role', 'list_groups', 'show_group',
];

/** The shapes the tools answer with, as the tests read them (server/mcp/schemas.ts has the real ones). */
export type Untrusted = { untrusted: true; source: string; text: string; hidden_characters: number };
export type McpMessage = { id: string; from: string; conversation: string; body: Untrusted; reply_to: string | null; request_id: string | null; read: boolean; group: string | null };
export type Waited = { messages: McpMessage[]; next_cursor: number; timed_out: boolean };

export interface McpSession {
  client: Client;
  /** What the server wrote to stderr so far. */
  stderr: () => string;
  pid: number;
  /** Calls a tool and returns its result (tool errors included: the caller checks isError). */
  call: (name: string, args?: Record<string, unknown>, options?: Parameters<Client['callTool']>[2]) => Promise<CallToolResult>;
  /** Calls a tool that must succeed; returns its structuredContent. */
  ok: <T = Record<string, unknown>>(name: string, args?: Record<string, unknown>) => Promise<T>;
  close: () => Promise<void>;
}

export async function startMcp(home: string, extraArgs: string[] = []): Promise<McpSession> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--home', home, ...extraArgs], env: { ...process.env } as Record<string, string>, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'switchboard-test', version: '1' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}, options?: Parameters<Client['callTool']>[2]) =>
    (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;
  return {
    client,
    stderr: () => stderr,
    pid: transport.pid!,
    call,
    ok: async <T>(name: string, args: Record<string, unknown> = {}) => {
      const r = await call(name, args);
      if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}; server stderr: ${stderr}`);
      return r.structuredContent as T;
    },
    close: () => client.close(),
  };
}

/** The pid in `home`'s holder file (core.json), if any. */
export function holderPid(home: string): number | undefined {
  const file = homePaths(home).holder;
  if (!existsSync(file)) return undefined;
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** kill -9 of whatever core serves `home` (ours or one an MCP server started), and waits until its socket is dead. */
export async function killHomeCore(home: string): Promise<void> {
  // Only a core that answers: a holder file left by a dead one may name a pid reused since.
  const pid = (await socketAnswers(homePaths(home).socket, 500)) ? holderPid(home) : undefined;
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(`the core of ${home} gone`, async () => ((await socketAnswers(homePaths(home).socket, 200)) ? undefined : true), 10_000, 50);
}

/** The text of a tool result's content blocks, joined. */
export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

export const agentsDir = (home: string) => join(home, 'agents');
