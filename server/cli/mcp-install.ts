/**
 * `switchboard mcp install --client <claude-code|codex|vscode>`: writes one MCP server entry into
 * the client's own configuration file, so the client starts `switchboard mcp` for this home.
 * The entry names an absolute node and an absolute dist/cli.js and passes `--home`, so it works
 * from any working directory. Only the entry changes: the file's other servers, settings and
 * comments stay byte for byte (mcp-json-entry.ts, mcp-toml-entry.ts). A file that does not parse
 * is refused with its path and line and never rewritten.
 *
 * The entry point of its own bundle, dist/mcp-install.js: the editors and their parsers
 * (jsonc-parser, smol-toml) weigh on no other verb. The verb's declaration (flags, help) is in
 * dist/cli.js (mcp-install-verb.ts), which requires this bundle only to run it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CliError, ExitCode, usage } from '../../lib/node/cli/errors';
import { errorMessage } from '../../lib/error-message';
import { safeText } from '../../lib/text-safety';
import { agentHome } from '../../lib/node/paths';
import { agentIdentityName, canonicalUserName, isValidUserName, USER_NAME_RULE } from '../../protocol/names';
import type { VerbContext } from './context';
import { inert, inertJson } from './format';
import { clientPlace, scopeProblem, type ClientPlace } from './mcp-clients';
import { serverLaunch, serverName, type EditOutcome, type McpClient, type McpScope } from './mcp-entry';
import type { InstallValues } from './mcp-install-spec';
import { setJsonEntry } from './mcp-json-entry';
import { setTomlEntry } from './mcp-toml-entry';
import { ownerName } from './mcp-owner';

interface InstallReport {
  client: McpClient;
  scope: McpScope;
  file: string;
  server: string;
  action: 'added' | 'replaced' | 'unchanged';
  dry_run: boolean;
  command: string;
  args: string[];
}

/** The file's text, or '' when it does not exist yet. */
function readConfig(file: string): string {
  if (!existsSync(file)) return '';
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`mcp install: cannot read ${file}: ${errorMessage(error)}`);
  }
}

/**
 * Replaces the file's content atomically (a reader sees the old text or the new). A symbolic
 * link (dotfiles kept elsewhere) is written through, its target replaced; the mode is kept.
 */
function writeConfig(file: string, text: string): void {
  try {
    const target = existsSync(file) ? realpathSync(file) : file;
    mkdirSync(dirname(target), { recursive: true });
    const mode = existsSync(target) ? statSync(target).mode & 0o7777 : undefined;
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, text, mode === undefined ? {} : { mode });
      if (mode !== undefined) chmodSync(tmp, mode);
      renameSync(tmp, target);
    } catch (error) {
      if (existsSync(tmp)) unlinkSync(tmp);
      throw error;
    }
  } catch (error) {
    throw new CliError(`mcp install: cannot write ${file}: ${errorMessage(error)}`);
  }
}

function edit(place: ClientPlace, text: string, name: string, launch: ReturnType<typeof serverLaunch>): EditOutcome {
  if (place.format === 'toml') return setTomlEntry(text, name, launch);
  return setJsonEntry(text, { container: place.container!, name, entry: place.entry(launch), jsonc: place.jsonc === true });
}

/**
 * The agent as `mcp --agent` takes it (protocol/names.ts `agentIdentityName`): `alice.claude`
 * and `claude` name one agent of alice's. The entry names it short when it is the owner's
 * (`switchboard-claude`, `--agent claude`), so both spellings give the same server.
 */
function agentName(given: string | undefined, context: VerbContext): { short: string; full: string; owner: string | undefined } | undefined {
  if (given === undefined) return undefined;
  if (!isValidUserName(given)) throw usage(`mcp install: --agent takes an agent name such as claude (got "${inert(given)}")`, USER_NAME_RULE);
  const owner = ownerName(context.paths);
  const full = owner === undefined ? canonicalUserName(given) : agentIdentityName(owner, given);
  const short = owner !== undefined && full.startsWith(`${owner}.`) && !full.slice(owner.length + 1).includes('.') ? full.slice(owner.length + 1) : full;
  return { short, full, owner };
}

/** Whether this home holds the agent's home (named by the agent's full name). */
function agentExists(context: VerbContext, full: string): boolean {
  return existsSync(join(agentHome(context.paths.home, full), 'config.json'));
}

/** The entry as it is written, indented under the headline (paths shown safely, line breaks kept). */
const indent = (text: string) => safeText(text, 'block').replace(/\r?\n$/, '').split(/\r?\n/).map((l) => `  ${l}`).join('\n');

/** Runs `mcp install` with its parsed flags; the exit code, or a CliError of this bundle's (mcp-install-verb.ts rebuilds it). */
export async function runMcpInstall(values: InstallValues, context: VerbContext): Promise<number> {
  const client = values.client as McpClient;
  const scope = values.scope as McpScope;
  const problem = scopeProblem(client, scope);
  if (problem) throw usage(`mcp install: ${problem}`);
  const agent = agentName(values.agent, context);

  const place = clientPlace(client, scope, { env: process.env, platform: process.platform, userHome: homedir(), cwd: process.cwd() });
  const name = serverName(agent?.short);
  // This bundle is dist/cli.js; the node running it can load the core's native module.
  const launch = serverLaunch(process.execPath, join(__dirname, 'cli.js'), context.paths.home, agent?.short);
  const outcome = edit(place, readConfig(place.file), name, launch);
  if (outcome.kind === 'refused') {
    const where = outcome.line === undefined ? place.file : `${place.file}:${outcome.line}`;
    throw new CliError(`mcp install: ${where} ${outcome.reason}`, ExitCode.Failed, { hint: 'it was left as it is; fix it (or move it aside) and run again' });
  }
  const dryRun = values['dry-run'] === true;
  if (!dryRun && outcome.kind !== 'unchanged') writeConfig(place.file, outcome.text);

  const report: InstallReport = { client, scope, file: place.file, server: name, action: outcome.kind, dry_run: dryRun, command: launch.command, args: launch.args };
  if (values.json) {
    context.out(inertJson(report));
    return ExitCode.Ok;
  }
  const where = `${inert(place.file)} (${place.label}, ${scope} scope)`;
  const headline =
    outcome.kind === 'unchanged'
      ? `unchanged: ${where} already has "${name}"`
      : dryRun
        ? `would ${outcome.kind === 'added' ? `add "${name}" to` : `replace "${name}" in`} ${where}; nothing written (--dry-run)`
        : `${outcome.kind === 'added' ? `added "${name}" to` : `replaced "${name}" in`} ${where}`;
  const lines = [headline, indent(outcome.snippet)];
  if (agent !== undefined && !agentExists(context, agent.full)) {
    // Only its owner can create an agent (the relay refuses anyone else): say so rather than suggest it here.
    const foreign = agent.owner !== undefined && !agent.full.startsWith(`${agent.owner}.`);
    lines.push(
      foreign
        ? `note: this home has no agent "${inert(agent.full)}"; its agents are named ${inert(agent.owner!)}.<name>, and ${inert(agent.full)} is created from its owner's home`
        : `note: this home has no agent "${inert(agent.full)}" yet; create it with \`switchboard agent create ${inert(agent.short)}\``,
    );
  }
  if (!dryRun) lines.push(`next: ${place.next}`);
  context.out(lines.join('\n'));
  return ExitCode.Ok;
}
