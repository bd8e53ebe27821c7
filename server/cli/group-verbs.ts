/**
 * `switchboard group create|add|remove|leave|list|show|rename|role`. A group lives on the
 * relay: each change goes there through the core's link (a verb without a core brings the link
 * up for it) and the answer is the group as the relay's verdict left it. Names are taken with
 * or without `#` (quoted: an unquoted `#` starts a shell comment) and checked here before
 * anything leaves, so a bad one is the same usage error on both paths.
 */
import { canonicalUserName, groupNameOf } from '../../protocol/names';
import type { Group, GroupRole, Method, ParamsOf, ResultOf } from '../../protocol/rpc';
import { ExitCode, usage } from '../../lib/node/cli/errors';
import { command, group, spec } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import type { VerbContext } from './context';
import { groupFull, groupList, groupTag, inertJson, memberSummary } from './format';
import { preflight } from './preflight';
import { withCore } from './session';
import type { OpenOptions } from './transport';

export const GROUP_ROLES = ['owner', 'admin', 'member'] as const satisfies readonly GroupRole[];

const NAME = { name: 'name', description: 'the group, with or without # (quote it: an unquoted # starts a shell comment)' } as const;

/** `--members bob,carol` (spaces around commas allowed); an empty entry is a usage error, not a silent skip. */
export function memberList(text: string): string[] {
  const users = text.split(',').map((u) => u.trim());
  if (users.some((u) => u.length === 0)) throw usage(`--members takes user names separated by commas, got "${text}"`);
  return users;
}

/** As the relay knows it: canonical, with `#`. */
function tagOf(name: string): string {
  return groupTag(canonicalUserName(groupNameOf(name)));
}

/**
 * One group request: checked before it leaves (exit 2), then sent through the core. A refusal
 * from the relay is exit 1 with the relay's code (rpc-errors.ts).
 */
async function request<M extends Method>(context: VerbContext, method: M, params: ParamsOf<M>, options: Partial<OpenOptions>): Promise<ResultOf<M>> {
  // Before opening anything: without a core, a bad name would otherwise bring up the relay link first.
  preflight(method, params);
  return withCore(context.paths, (core) => core.call(method, params), options);
}

/** Changes go to the relay: a verb without a core brings the link up for them. */
const CHANGE = { sync: true } as const;
/** Reading: without a core, first fetch what the relay holds (membership events, messages), quietly. */
const READ = { pull: 'quiet' } as const;

function print(context: VerbContext, json: boolean | undefined, value: unknown, human: () => string): number {
  context.out(json ? inertJson(value) : human());
  return ExitCode.Ok;
}

const createSpec = spec({
  name: 'create',
  summary: 'create a group; you become its owner',
  details: ['Members are users of the same relay; add more later with `group add`. Prints the group (--json: the Group).'],
  flags: {
    members: { type: 'string', value: 'u1,u2,…', description: 'members besides you, separated by commas (at most 1024; the relay may cap a group lower)' },
    json: JSON_FLAG,
  },
  positionals: [NAME],
  examples: ['switchboard group create team --members bob,carol', "switchboard group create '#ops' --json"],
});

export const groupCreate = command(createSpec, async ({ values, positionals }, context: VerbContext) => {
  const name = positionals[0]!;
  const members = values.members === undefined ? undefined : memberList(values.members);
  const g: Group = await request(context, 'group/create', { name, members }, CHANGE);
  return print(context, values.json, g, () => `created ${groupTag(g.name)}: ${memberSummary(g.members)}`);
});

const addSpec = spec({
  name: 'add',
  summary: 'add members to a group (owners and admins may)',
  details: ['A member added now sees the messages sent from now on, not the ones before.'],
  flags: { json: JSON_FLAG },
  positionals: [NAME, { name: 'user', description: 'who to add (one or more)', variadic: true }],
  examples: ['switchboard group add team dave erin'],
});

export const groupAdd = command(addSpec, async ({ values, positionals }, context: VerbContext) => {
  const [name, ...users] = positionals as [string, ...string[]];
  const g: Group = await request(context, 'group/add', { name, users }, CHANGE);
  return print(context, values.json, g, () => `added ${users.map(canonicalUserName).join(', ')} to ${groupTag(g.name)}; members: ${memberSummary(g.members)}`);
});

const removeSpec = spec({
  name: 'remove',
  summary: 'remove members from a group (owners may; admins may remove members)',
  details: ['A removed member receives nothing sent after the removal; what they had stays theirs.'],
  flags: { json: JSON_FLAG },
  positionals: [NAME, { name: 'user', description: 'who to remove (one or more)', variadic: true }],
  examples: ['switchboard group remove team dave'],
});

export const groupRemove = command(removeSpec, async ({ values, positionals }, context: VerbContext) => {
  const [name, ...users] = positionals as [string, ...string[]];
  const g: Group = await request(context, 'group/remove', { name, users }, CHANGE);
  return print(context, values.json, g, () => `removed ${users.map(canonicalUserName).join(', ')} from ${groupTag(g.name)}; members: ${memberSummary(g.members)}`);
});

const leaveSpec = spec({
  name: 'leave',
  summary: 'leave a group (its last owner must make another member owner first)',
  details: ['Its history stays here; nothing more arrives. --json: the Group, with "role": null.'],
  flags: { json: JSON_FLAG },
  positionals: [NAME],
  examples: ['switchboard group leave team'],
});

export const groupLeave = command(leaveSpec, async ({ values, positionals }, context: VerbContext) => {
  const name = positionals[0]!;
  const g: Group = await request(context, 'group/leave', { name }, CHANGE);
  return print(context, values.json, g, () => `left ${groupTag(g.name)}; its history stays here`);
});

const listSpec = spec({
  name: 'list',
  summary: 'the groups you are in, then the ones you left (`group` alone is `group list`)',
  details: ['Each with your role, its member count, and unread messages and mentions of you.'],
  flags: { json: JSON_FLAG },
  examples: ['switchboard group list', 'switchboard group list --json | jq -r ".groups[].name"'],
});

export const groupListVerb = command(listSpec, async ({ values }, context: VerbContext) => {
  const result = await withCore(context.paths, (core) => core.call('group/list', {}), READ);
  return print(context, values.json, result, () => groupList(result.groups));
});

const showSpec = spec({
  name: 'show',
  summary: 'one group: its members and their roles, your role, unread messages and mentions',
  details: ['Asks the relay when it answers in time, else shows the group as this home last knew it.'],
  flags: { json: JSON_FLAG },
  positionals: [NAME],
  examples: ["switchboard group show '#team'", 'switchboard group show team --json | jq -r ".members[].user"'],
});

export const groupShow = command(showSpec, async ({ values, positionals }, context: VerbContext) => {
  const name = positionals[0]!;
  const g: Group = await request(context, 'group/show', { name }, READ);
  return print(context, values.json, g, () => groupFull(g));
});

const renameSpec = spec({
  name: 'rename',
  summary: 'rename a group (owners and admins may); its history and members stay',
  flags: { json: JSON_FLAG },
  positionals: [NAME, { name: 'new', description: 'the new name, with or without # (the same rule as user names)' }],
  examples: ['switchboard group rename team crew'],
});

export const groupRename = command(renameSpec, async ({ values, positionals }, context: VerbContext) => {
  const [name, newName] = positionals as [string, string];
  const g: Group = await request(context, 'group/rename', { name, new_name: newName }, CHANGE);
  return print(context, values.json, g, () => `renamed ${tagOf(name)} to ${groupTag(g.name)}`);
});

const roleSpec = spec({
  name: 'role',
  summary: 'give a member the role owner, admin or member (owners may)',
  details: ['Owners manage everything; admins add members and remove plain members; a group always keeps an owner.'],
  flags: { json: JSON_FLAG },
  positionals: [NAME, { name: 'user', description: 'the member' }, { name: 'role', description: `one of ${GROUP_ROLES.join(', ')}` }],
  examples: ['switchboard group role team bob admin', 'switchboard group role team carol owner'],
});

export const groupRole = command(roleSpec, async ({ values, positionals }, context: VerbContext) => {
  const [name, user, given] = positionals as [string, string, string];
  const role = GROUP_ROLES.find((r) => r === given);
  if (!role) throw usage(`group role: the role is one of ${GROUP_ROLES.join(', ')}, got "${given}"`);
  const g: Group = await request(context, 'group/role', { name, user, role }, CHANGE);
  return print(context, values.json, g, () => `${canonicalUserName(user)} is now ${role} of ${groupTag(g.name)}; members: ${memberSummary(g.members)}`);
});

export const groupVerb = group(
  {
    name: 'group',
    summary: 'rooms of several people: create, manage and look at groups (`group` alone is `group list`)',
    details: ['Send to one with `send --to \'#team\'` or `send --group team`; read it with `inbox --in \'#team\'`.'],
    flags: {},
    examples: ['switchboard group create team --members bob,carol', "switchboard send --to '#team' -m 'standup in 5'"],
  },
  [groupCreate, groupAdd, groupRemove, groupLeave, groupListVerb, groupShow, groupRename, groupRole],
  { defaultSubcommand: 'list' },
);
