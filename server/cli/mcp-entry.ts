/**
 * What `switchboard mcp install` writes into a client's configuration, and what an editor of one
 * file format answers. Pure: no file access, so the editors are tested on strings.
 */
import { mcpServerArgs } from '../../lib/node/mcp-launch';

/** Every MCP client `mcp install` knows, in the order help lists them. */
export const MCP_CLIENTS = ['claude-code', 'codex', 'vscode'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

export const MCP_SCOPES = ['user', 'project'] as const;
export type McpScope = (typeof MCP_SCOPES)[number];

/** How the server is started: an absolute node, an absolute dist/cli.js, so any cwd works. */
export interface ServerLaunch {
  command: string;
  args: string[];
}

/** What an editor did to a file's text (or would do: the caller decides whether to write). */
export type EditOutcome =
  | { kind: 'added'; text: string; snippet: string; previous?: undefined }
  | { kind: 'replaced'; text: string; snippet: string; previous: unknown }
  | { kind: 'unchanged'; text: string; snippet: string }
  /** The file is not one we may edit; `line` is where the trouble is, when known. Never written. */
  | { kind: 'refused'; reason: string; line: number | undefined };

/**
 * The server's name in the client: `switchboard`, or `switchboard-<agent>` so a person's server
 * and an agent's can be configured side by side. Claude Code and Codex accept only letters,
 * digits, `-` and `_` in a server name, so anything else in an agent's name (`alice.claude`)
 * becomes `-`.
 */
export function serverName(agent: string | undefined): string {
  if (agent === undefined) return 'switchboard';
  return `switchboard-${agent.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`;
}

/** `node <cli.js> mcp --home <home> [--agent <name>]`, every path absolute. */
export function serverLaunch(node: string, cliPath: string, home: string, agent: string | undefined): ServerLaunch {
  return { command: node, args: mcpServerArgs(cliPath, home, agent) };
}

/** Deep equality of JSON-like values; object key order does not matter (a client may reorder keys). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  return ka.length === Object.keys(rb).length && ka.every((k) => Object.hasOwn(rb, k) && sameValue(ra[k], rb[k]));
}
