/**
 * `switchboard agent create|list|revoke`: agent identities this user owns (issue 14). Each asks
 * the relay through the core's link (a verb without a core brings the link up for it); the core
 * writes a created agent's home beside this one, so delegated and direct answer the same.
 */
import { USER_NAME_RULE, isValidUserName } from '../../protocol/names';
import type { AgentEntry } from '../../protocol/rpc';
import { ExitCode, usage } from '../../lib/node/cli/errors';
import { command, group, spec } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import type { VerbContext } from './context';
import { inert, inertJson, shortTime } from './format';
import { withCore } from './session';

const NAME = { name: 'name', description: 'the agent: `claude` (yours: <you>.claude) or the full `alice.claude`' } as const;

/** Checked before anything opens: a bad name is the same usage error (exit 2) delegated or direct. */
function checkedName(name: string): string {
  if (!isValidUserName(name)) throw usage(`invalid agent name "${name}": ${USER_NAME_RULE}`);
  return name;
}

/** The relay is asked: without a core, the link comes up for the request. */
const RELAY = { sync: true } as const;

const createSpec = spec({
  name: 'create',
  summary: 'create an agent identity under your name and write its home',
  details: [
    'The relay creates the account <you>.<name> (only under your own name) and gives its token once.',
    'Its home is written under <your home>/agents/<you>.<name> (the full name): the same relay, its token (0600), its own device.',
    'Prints the name, the home and how to run as it (--json: {"agent", "token"}).',
  ],
  flags: { json: JSON_FLAG },
  positionals: [NAME],
  examples: ['switchboard agent create claude', 'switchboard agent create alice.review-bot --json'],
});

export const agentCreate = command(createSpec, async ({ values, positionals }, context: VerbContext) => {
  const name = checkedName(positionals[0]!);
  const result = await withCore(context.paths, (core) => core.call('agent/create', { name }), RELAY);
  if (values.json) {
    context.out(inertJson(result));
    return ExitCode.Ok;
  }
  const a = result.agent;
  context.out(
    [
      `created agent ${inert(a.name)} (owned by ${inert(a.owner)})`,
      `home:  ${inert(a.home)} (its token is in the home's token file, 0600)`,
      `use:   switchboard --home ${inert(a.home)} send --to ${inert(a.owner)} -m hi`,
      // The owner's home in full, like the line above: right whatever --home or $SWITCHBOARD_HOME this ran with.
      `       switchboard --home ${inert(context.paths.home)} mcp --agent ${inert(a.name)}`,
    ].join('\n'),
  );
  return ExitCode.Ok;
});

function agentRow(a: AgentEntry): string[] {
  return [inert(a.name), shortTime(a.created_at), a.revoked ? `yes ${shortTime(a.revoked_at)}` : 'no', String(a.sent), shortTime(a.last_sent_at), a.home_present ? 'yes' : 'no'];
}

/** `agent list`: a table with a header, columns padded to the widest cell. */
export function agentTable(agents: readonly AgentEntry[]): string {
  if (agents.length === 0) return 'no agents yet; create one with `switchboard agent create <name>`';
  const rows = [['name', 'created', 'revoked', 'sent', 'last sent', 'home'], ...agents.map(agentRow)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

const listSpec = spec({
  name: 'list',
  summary: 'your agents: created, revoked, what each sent, whether its home is here (`agent` alone is `agent list`)',
  details: ['Asks the relay (the counts are its own); --json: {"agents": [...]}.'],
  flags: { json: JSON_FLAG },
  examples: ['switchboard agent list', 'switchboard agent list --json | jq -r ".agents[] | select(.revoked | not) | .name"'],
});

export const agentList = command(listSpec, async ({ values }, context: VerbContext) => {
  const result = await withCore(context.paths, (core) => core.call('agent/list', {}), RELAY);
  context.out(values.json ? inertJson(result) : agentTable(result.agents));
  return ExitCode.Ok;
});

const revokeSpec = spec({
  name: 'revoke',
  summary: "revoke an agent: its tokens stop working and its live connections close at once",
  details: ['Its home stays on this machine (its store is its history), but the relay no longer lets it in.'],
  flags: { json: JSON_FLAG },
  positionals: [NAME],
  examples: ['switchboard agent revoke claude', 'switchboard agent revoke alice.review-bot --json'],
});

export const agentRevoke = command(revokeSpec, async ({ values, positionals }, context: VerbContext) => {
  const name = checkedName(positionals[0]!);
  const result = await withCore(context.paths, (core) => core.call('agent/revoke', { name }), RELAY);
  if (values.json) {
    context.out(inertJson(result));
    return ExitCode.Ok;
  }
  const a = result.agent;
  const home = a.home_present ? `its home stays at ${inert(a.home)}, but is revoked: the relay refuses it` : 'it has no home here';
  context.out(`revoked agent ${inert(a.name)}; ${home}`);
  return ExitCode.Ok;
});

export const agentVerb = group(
  {
    name: 'agent',
    summary: 'agent identities you own: create, list and revoke them (`agent` alone is `agent list`)',
    details: ['An agent is an account <you>.<name> at the relay, with its own home, store and token; anyone can message it.'],
    flags: {},
    examples: ['switchboard agent create claude', 'switchboard agent revoke claude'],
  },
  [agentCreate, agentList, agentRevoke],
  { defaultSubcommand: 'list' },
);
