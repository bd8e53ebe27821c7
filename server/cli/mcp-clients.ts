/**
 * Where each MCP client keeps its server list, and how an entry looks there. Pure: the
 * environment, platform and working directory are passed in, so tests (and a temp HOME) decide.
 */
import { join, posix, win32 } from 'node:path';
import type { McpClient, McpScope, ServerLaunch } from './mcp-entry';

export interface ClientPlace {
  /** Shown in messages: "Claude Code". */
  label: string;
  file: string;
  format: 'json' | 'toml';
  /** For JSON: the object holding the servers, and whether the file may hold comments. */
  container?: string;
  jsonc?: boolean;
  /** The entry as this client writes it (JSON clients only; Codex's is a TOML table of command and args). */
  entry: (launch: ServerLaunch) => Record<string, unknown>;
  /** What to do next, one line. */
  next: string;
}

export interface PlaceEnv {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The user's home directory (`os.homedir()`, which follows $HOME on Unix). */
  userHome: string;
  cwd: string;
}

/** A client that has no project-scope file: the reason, for the usage error. */
export function scopeProblem(client: McpClient, scope: McpScope): string | undefined {
  if (client === 'codex' && scope === 'project') return 'codex reads MCP servers only from its user configuration ($CODEX_HOME/config.toml); drop --scope project';
  return undefined;
}

/** VS Code's user settings folder: `Code/User` under the platform's application-data folder. */
export function vscodeUserDir(p: PlaceEnv): string {
  if (p.platform === 'win32') return win32.join(p.env.APPDATA || win32.join(p.userHome, 'AppData', 'Roaming'), 'Code', 'User');
  if (p.platform === 'darwin') return posix.join(p.userHome, 'Library', 'Application Support', 'Code', 'User');
  return posix.join(p.env.XDG_CONFIG_HOME || posix.join(p.userHome, '.config'), 'Code', 'User');
}

export function clientPlace(client: McpClient, scope: McpScope, p: PlaceEnv): ClientPlace {
  switch (client) {
    case 'claude-code':
      return {
        label: 'Claude Code',
        // user scope: the top-level mcpServers of ~/.claude.json (or $CLAUDE_CONFIG_DIR/.claude.json), what `claude mcp add -s user` writes
        file: scope === 'project' ? join(p.cwd, '.mcp.json') : join(p.env.CLAUDE_CONFIG_DIR || p.userHome, '.claude.json'),
        format: 'json',
        container: 'mcpServers',
        jsonc: false,
        entry: (l) => ({ type: 'stdio', command: l.command, args: l.args }),
        next: 'a new Claude Code session starts it (`/mcp` lists it)',
      };
    case 'codex':
      return {
        label: 'Codex',
        file: join(p.env.CODEX_HOME || join(p.userHome, '.codex'), 'config.toml'),
        format: 'toml',
        entry: (l) => ({ command: l.command, args: l.args }),
        next: 'a new Codex session starts it (`/mcp` lists it)',
      };
    case 'vscode':
      return {
        label: 'VS Code',
        file: scope === 'project' ? join(p.cwd, '.vscode', 'mcp.json') : join(vscodeUserDir(p), 'mcp.json'),
        format: 'json',
        container: 'servers',
        jsonc: true,
        entry: (l) => ({ type: 'stdio', command: l.command, args: l.args }),
        next: 'VS Code lists it under "MCP: List Servers" (the Switchboard extension also offers its own, needing no file)',
      };
  }
}
