/**
 * How an MCP client starts Switchboard's server for a home: `<node> <abs dist/cli.js> mcp --home
 * <abs home> [--agent <name>]`. One definition for the two places that hand it to a client —
 * `switchboard mcp install` (a client's configuration file) and the extension's
 * `mcpServerDefinitionProviders` (VS Code's agent mode) — so both start the same server.
 * Every path is absolute and the home is always named, so the server never depends on the
 * client's working directory or environment.
 */
export function mcpServerArgs(cliPath: string, home: string, agent?: string): string[] {
  return [cliPath, 'mcp', '--home', home, ...(agent === undefined ? [] : ['--agent', agent])];
}

/**
 * Variables of the launching process that must not reach the server: a debugger or loader of
 * the extension host (NODE_OPTIONS), and Electron's run-as-node switch (the runtime is a real
 * node). The extension's core spawn (extension/spawn.ts) drops the same two.
 */
export const MCP_SERVER_ENV_DROPPED = ['NODE_OPTIONS', 'ELECTRON_RUN_AS_NODE'] as const;
