/**
 * The MCP server (issue 14) against the core it fronts, in the same run, on one live system
 * (a relay and two cores, bench/live.ts):
 * - `send_message` round trips per second through MCP over stdio (the SDK's client spawning
 *   `switchboard mcp`), against the same sequential sends straight to the core's socket. Each
 *   send waits for the relay's verdict (`sent`) either way.
 * - `wait_for_messages` wake-up latency: bob sends, and alice's pending `wait_for_messages`
 *   answers; against a plain socket client of alice's core subscribed to events, which hears
 *   `message/received` for the same message. Both are timed from bob's send, so the difference
 *   is what the MCP hop adds to a message's arrival at the core.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startLive } from './live';

export interface McpFigures {
  mcpSendsPerSecond: number;
  socketSendsPerSecond: number;
  sends: number;
  wake: { mcp: { p50: number; p99: number }; socket: { p50: number; p99: number }; count: number };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function mcpBench(root: string, sends: number, wakes: number): Promise<McpFigures> {
  const live = await startLive(root, ['alice', 'bob'] as const);
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(root, 'dist', 'cli.js'), 'mcp', '--home', live.cores.alice.home], env: { ...process.env } as Record<string, string>, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  try {
    await client.connect(transport);
    const alice = live.cores.alice.client;
    const viaSocket = (i: number) => alice.call('message/send', { to: 'bob', body: `socket ${i}`, wait_ms: 10_000 });
    const viaMcp = async (i: number) => {
      const r = await client.callTool({ name: 'send_message', arguments: { to: 'bob', body: `mcp ${i}` } });
      const status = (r.structuredContent as { status?: string } | undefined)?.status;
      if (status !== 'sent') throw new Error(`send_message answered ${JSON.stringify(r.content)}`);
    };
    const rate = async (send: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < 20; i++) await send(-i); // warm-up
      const started = now();
      for (let i = 0; i < sends; i++) await send(i);
      return (sends * 1000) / (now() - started);
    };
    const socketSendsPerSecond = await rate(viaSocket);
    const mcpSendsPerSecond = await rate(viaMcp);

    // Wake-up: a plain subscriber and a pending wait_for_messages, both on alice's core.
    let heard: ((t: number) => void) | undefined;
    alice.onNotification((name, params) => {
      if (name === 'message/received' && params.message.from === 'bob') heard?.(now());
    });
    await alice.call('events/subscribe', {});
    const bob = live.cores.bob.client;
    let cursor = ((await client.callTool({ name: 'wait_for_messages', arguments: { timeout: 0 } })).structuredContent as { next_cursor: number }).next_cursor;
    const mcpMs: number[] = [];
    const socketMs: number[] = [];
    for (let i = 0; i < wakes + 5; i++) {
      const socketHeard = new Promise<number>((resolve) => (heard = resolve));
      const waited = client.callTool({ name: 'wait_for_messages', arguments: { cursor, timeout: 30 } }).then((r) => ({ r, t: now() }));
      // Let the call reach the server and subscribe before the message leaves.
      await sleep(30);
      const t0 = now();
      await bob.call('message/send', { to: 'alice', body: `wake ${i}`, wait_ms: 0 });
      const [{ r, t }, ts] = await Promise.all([waited, socketHeard]);
      const out = r.structuredContent as { next_cursor: number; messages: unknown[] };
      if (out.messages.length !== 1) throw new Error(`wait_for_messages returned ${out.messages.length} messages`);
      cursor = out.next_cursor;
      if (i < 5) continue; // warm-up
      mcpMs.push(t - t0);
      socketMs.push(ts - t0);
    }
    return {
      mcpSendsPerSecond,
      socketSendsPerSecond,
      sends,
      wake: { mcp: { p50: percentile(mcpMs, 50), p99: percentile(mcpMs, 99) }, socket: { p50: percentile(socketMs, 50), p99: percentile(socketMs, 99) }, count: mcpMs.length },
    };
  } finally {
    await client.close().catch(() => {});
    await live.close();
  }
}
