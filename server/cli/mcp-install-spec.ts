/**
 * `switchboard mcp install`'s flags and help, shared by its declaration (mcp-install-verb.ts, in
 * dist/cli.js) and its work (mcp-install.ts, dist/mcp-install.js), which imports only the type.
 */
import { spec, type Values } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import { MCP_CLIENTS, MCP_SCOPES } from './mcp-entry';

export const installSpec = spec({
  name: 'install',
  summary: "add Switchboard's MCP server to a client's configuration (Claude Code, Codex, VS Code)",
  details: [
    'Writes one server entry, named "switchboard" ("switchboard-<agent>" with --agent), that runs this',
    'node and this dist/cli.js with `mcp --home <this home>`: absolute paths, so it works from any folder.',
    'Files: claude-code ~/.claude.json (project: ./.mcp.json); codex ~/.codex/config.toml;',
    'vscode the user mcp.json (~/.config/Code/User on Linux; project: ./.vscode/mcp.json).',
    "Only that entry changes; other servers, settings and comments stay as they are. An entry that",
    'already says the same is left alone ("unchanged"). A file that does not parse is refused, never rewritten.',
    'A project file holds absolute paths of this machine: commit it only if everyone shares them.',
  ],
  flags: {
    client: { type: 'string', value: 'client', required: true, choices: MCP_CLIENTS, description: 'the MCP client to set up' },
    agent: { type: 'string', value: 'name', description: 'run the server as this agent identity of yours (`switchboard agent create`)' },
    scope: { type: 'string', value: 'scope', default: 'user', choices: MCP_SCOPES, description: "user: the client's user file; project: the file in the current folder (claude-code, vscode)" },
    'dry-run': { type: 'boolean', description: 'show the file and the entry, write nothing' },
    json: JSON_FLAG,
  },
  examples: [
    'switchboard mcp install --client claude-code',
    'switchboard mcp install --client codex --agent alice.codex',
    'switchboard mcp install --client vscode --scope project --dry-run',
  ],
});

export type InstallValues = Values<typeof installSpec.flags>;
