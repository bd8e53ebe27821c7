/**
 * VS Code's agent mode with no configuration: the extension offers Switchboard's MCP server
 * (`switchboard mcp`, server/mcp/) through `vscode.lm.registerMcpServerDefinitionProvider`
 * (package.json `contributes.mcpServerDefinitionProviders`). The definition runs the Node
 * runtime the extension runs its core with (runtimeResolver.ts) on the extension's own
 * dist/cli.js, for the window's home (`switchboard.home`), so the built-in agent reads and sends
 * as the person whose Inbox this is. It changes when the home or the runtime setting does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { MCP_SERVER_ENV_DROPPED, mcpServerArgs } from '../lib/node/mcp-launch';
import { MCP_PROVIDER_ID } from './ids';
import { Disposable } from './lifecycle';
import type { RuntimeResolver } from './runtimeResolver';

/** The label agent mode shows for the server. */
export const MCP_SERVER_LABEL = 'Switchboard';

export class McpProvider extends Disposable implements vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  /** False on a host without the API (code-server or an editor older than 1.101): nothing offered, nothing thrown. */
  readonly registered: boolean;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly runtimes: RuntimeResolver,
    /** The home this window uses (CoreConnection.home()). */
    private readonly home: () => string,
    /** Fires when the window connects to a core: a runtime found since is worth offering. */
    onDidConnect: (listener: () => void) => { dispose(): unknown },
  ) {
    super();
    // Typed as always there, but a host may predate it or leave it out: look before calling.
    const lm = (vscode as { lm?: Partial<typeof vscode.lm> }).lm;
    const available = typeof lm?.registerMcpServerDefinitionProvider === 'function' && typeof vscode.McpStdioServerDefinition === 'function';
    this.registered = available;
    if (!available) {
      this.log.info('this editor offers no MCP server API (vscode.lm.registerMcpServerDefinitionProvider): agent mode does not see Switchboard from the extension; `switchboard mcp install --client vscode` sets it up in mcp.json instead');
      return;
    }
    this._register(lm.registerMcpServerDefinitionProvider!(MCP_PROVIDER_ID, this));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        // App's own handler (registered before this one) has already dropped a cached runtime.
        if (e.affectsConfiguration('switchboard.home') || e.affectsConfiguration('switchboard.server.runtime')) this.changed.fire();
      }),
    );
    // Nothing was offered (no runtime yet, say) and now a core runs: ask VS Code to look again.
    this._register(onDidConnect(() => this.offeredNone && this.changed.fire()));
  }

  /** The last answer offered no server. */
  private offeredNone = false;

  async provideMcpServerDefinitions(): Promise<vscode.McpStdioServerDefinition[]> {
    const definition = await this.definition();
    this.offeredNone = definition === undefined;
    return definition ? [definition] : [];
  }

  /** The server as agent mode starts it; undefined (and said in the log) when it cannot be started here. */
  async definition(): Promise<vscode.McpStdioServerDefinition | undefined> {
    const cliPath = join(this.context.extensionPath, 'dist', 'cli.js');
    if (!existsSync(cliPath)) {
      this.log.warn(`no MCP server to offer: ${cliPath} is missing (run "npm run build")`);
      return undefined;
    }
    // The connection reports a missing runtime to the user; here it only means no server to offer.
    const runtime = await this.runtimes.resolve();
    if (!runtime.ok) {
      this.log.warn(`no MCP server to offer: ${runtime.advice}`);
      return undefined;
    }
    const env: Record<string, string | number | null> = {};
    for (const name of MCP_SERVER_ENV_DROPPED) env[name] = null;
    const version = (this.context.extension.packageJSON as { version?: string }).version;
    return new vscode.McpStdioServerDefinition(MCP_SERVER_LABEL, runtime.runtime.path, mcpServerArgs(cliPath, this.home()), env, version);
  }
}
