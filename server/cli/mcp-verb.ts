/**
 * `switchboard mcp [--agent <name>]`: serve MCP on stdio (server/mcp/). The server is its own
 * bundle, dist/mcp.js, required only here, so the SDK never weighs on the other verbs.
 * `mcp install` (client setup, mcp-install-verb.ts; its work in dist/mcp-install.js) is its one sub-command.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentHome, homePaths, type HomePaths } from '../../lib/node/paths';
import { agentIdentityName, canonicalUserName, isValidUserName } from '../../protocol/names';
import { group } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { usage } from '../../lib/node/cli/errors';
import { ownerName } from './mcp-owner';
import { mcpInstall } from './mcp-install-verb';

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
      agent: { type: 'string', value: 'name', description: "run as the agent identity <user>.<name> this home owns (its home is <home>/agents/<user>.<name>)" },
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
  // `--agent claude` is this user's alice.claude; `--agent alice.claude` names it in full.
  const user = ownerName(owner);
  if (!isValidUserName(name)) throw usage(`--agent takes an agent name such as claude (got "${name}")`);
  if (user === undefined && !name.includes('.')) throw usage(`--agent ${name}: this home has no user yet (run \`switchboard init\`), so name the agent in full, such as alice.${canonicalUserName(name)}`);
  const full = user === undefined ? canonicalUserName(name) : agentIdentityName(user, name);
  const home = agentHome(owner.home, full);
  if (!existsSync(join(home, 'config.json'))) {
    // Only the owner can create it (the relay refuses anyone else), so only the owner is told to.
    if (user !== undefined && !full.startsWith(`${user}.`)) throw usage(`no agent ${full} here; this home's agents are named ${user}.<name>, and ${full} is created from its owner's home`);
    const short = user !== undefined ? full.slice(user.length + 1) : full;
    throw usage(`no agent ${full} here; create it with \`switchboard agent create ${short}\``);
  }
  return homePaths(home);
}
