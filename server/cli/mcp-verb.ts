/**
 * `switchboard mcp …` on this branch: only the `install` sub-command. The MCP server itself
 * (`switchboard mcp [--agent <name>]`, server/mcp/) declares the `mcp` verb with its own handler
 * and lists `mcpInstall` as its sub-command; when both are merged this file gives way to that one.
 */
import { group } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { mcpInstall } from './mcp-install';

export const mcpVerb = group<Record<string, never>, VerbContext>(
  {
    name: 'mcp',
    summary: "Switchboard's MCP server for coding agents, and setting up the clients that run it",
    flags: {},
    examples: ['switchboard mcp install --client claude-code'],
  },
  [mcpInstall],
);
