/**
 * `switchboard mcp [--agent <name>]`: serve MCP on stdio (server/mcp/). The server is its own
 * bundle, dist/mcp.js, required only here, so the SDK never weighs on the other verbs.
 * `mcp install` (client setup, mcp-install.ts) is its one sub-command.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentHome, homePaths, type HomePaths } from '../../lib/node/paths';
import { canonicalUserName, isValidUserName } from '../../protocol/names';
import { group } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { usage } from '../../lib/node/cli/errors';
import { ownerName } from './mcp-owner';
import { mcpInstall } from './mcp-install';

export const mcp = group(
  {
    name: 'mcp',
    summary: 'serve the Model Context Protocol on stdio, for coding agents (tools, resources; see docs/agents.md)',
    details: [
      'Speaks MCP on stdin/stdout (only MCP frames on stdout; logs on stderr) until stdin closes.',
      'A client of the home\'s core: starts one (detached) when none runs, and survives it restarting.',
      'With --agent, runs as an agent identity this home owns (`switchboard agent create <name>`).',
    ],
    flags: {
      agent: { type: 'string', value: 'name', description: "run as the agent identity <user>.<name> this home owns (its home is <home>/agents/<name>)" },
    },
    examples: ['switchboard mcp', 'switchboard mcp --agent claude', 'switchboard --home ~/.switchboard mcp --agent review-bot', 'switchboard mcp install --client claude-code'],
  },
  [mcpInstall],
  { handler: async ({ values }, context: VerbContext) => {
    const paths = values.agent === undefined ? context.paths : agentPaths(context.paths, values.agent);
    const server = require(join(__dirname, 'mcp.js')) as { runMcpServer(paths: HomePaths): Promise<number> };
    const code = await server.runMcpServer(paths);
    // The core connections and timers are this process's only business: end it with the session.
    process.exit(code);
  } },
);

/** The agent's home, which must exist: this verb never creates an identity. */
function agentPaths(owner: HomePaths, name: string): HomePaths {
  // An agent is named `<owner>.<name>`; `--agent alice.claude` and `--agent claude` name the same one.
  const user = ownerName(owner);
  const short = user !== undefined && canonicalUserName(name).startsWith(`${user}.`) ? name.slice(user.length + 1) : name;
  if (!isValidUserName(short) || short.includes('/')) throw usage(`--agent takes an agent name such as claude (got "${name}")`);
  const home = agentHome(owner.home, short);
  if (!existsSync(join(home, 'config.json'))) {
    const full = user === undefined ? short : `${user}.${canonicalUserName(short)}`;
    throw usage(`no agent ${full} here; create it with \`switchboard agent create ${canonicalUserName(short)}\``);
  }
  return homePaths(home);
}
