/**
 * `switchboard mcp install`'s declaration: its flags, help and usage errors, answered from
 * dist/cli.js at once. The work (mcp-install.ts: the config file editors, jsonc-parser,
 * smol-toml) is a bundle of its own, dist/mcp-install.js, required only when the verb runs, so
 * it weighs on no other verb's start (as dist/mcp.js for `switchboard mcp`).
 *
 * A sub-command of `mcp` (whose own handler runs the server): `mcp` registers it with
 * `group(mcpSpec, [mcpInstall], { handler })`.
 */
import { command } from '../../lib/node/cli/command';
import { bundle, inBundle } from './bundles';
import type { VerbContext } from './context';
import type * as Install from './mcp-install';
import { installSpec } from './mcp-install-spec';

export const mcpInstall = command(installSpec, async ({ values }, context: VerbContext) => inBundle(() => bundle<typeof Install>('mcp-install').runMcpInstall(values, context)));
