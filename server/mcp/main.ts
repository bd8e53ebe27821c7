/**
 * dist/mcp.js: the MCP server as a bundle of its own. The SDK is heavy, so the CLI loads this
 * only for `switchboard mcp` (server/cli/mcp-verb.ts); every other verb stays as lean as before.
 */
export { runMcpServer } from './server';
