/** The group verbs as tools, one per core `group/*` method. The relay decides each; a refusal is a tool error saying why. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { groupNameOf } from '../../protocol/names';
import type { Group } from '../../protocol/rpc';
import { guarded, ok } from './results';
import { groupSchema, toGroup } from './schemas';
import type { ToolContext } from './message-tools';

const groupArg = z.string().min(1).describe('the group: team or #team');
const usersArg = z.array(z.string().min(1)).min(1).max(1024).describe('user names');

function groupLine(g: Group, what: string): string {
  return `#${g.name} ${what}: ${g.members.length} members, your role ${g.role ?? 'none (no longer a member)'}`;
}

export function registerGroupTools(server: McpServer, { link }: ToolContext): void {
  const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true } as const;
  const answer = (what: string) => (g: Group) => ok(groupLine(g, what), { group: toGroup(g) });
  const output = { group: groupSchema };

  server.registerTool(
    'create_group',
    { title: 'Create a group', description: 'Create a group with you as its owner; address it afterwards as #name.', inputSchema: { name: groupArg, members: usersArg.optional() }, outputSchema: output, annotations: write },
    (a) => guarded(async () => answer('created')(await link.call('group/create', { name: groupNameOf(a.name), ...(a.members ? { members: a.members } : {}) }))),
  );
  server.registerTool(
    'add_members',
    { title: 'Add members', description: 'Add users to a group (owner or admin).', inputSchema: { group: groupArg, users: usersArg }, outputSchema: output, annotations: { ...write, idempotentHint: true } },
    (a) => guarded(async () => answer('updated')(await link.call('group/add', { name: groupNameOf(a.group), users: a.users }))),
  );
  server.registerTool(
    'remove_members',
    { title: 'Remove members', description: 'Remove users from a group (owner or admin).', inputSchema: { group: groupArg, users: usersArg }, outputSchema: output, annotations: { ...write, destructiveHint: true, idempotentHint: true } },
    (a) => guarded(async () => answer('updated')(await link.call('group/remove', { name: groupNameOf(a.group), users: a.users }))),
  );
  server.registerTool(
    'leave_group',
    { title: 'Leave a group', description: 'Leave a group; its history stays in the store.', inputSchema: { group: groupArg }, outputSchema: output, annotations: { ...write, destructiveHint: true, idempotentHint: true } },
    (a) => guarded(async () => answer('left')(await link.call('group/leave', { name: groupNameOf(a.group) }))),
  );
  server.registerTool(
    'rename_group',
    { title: 'Rename a group', description: 'Rename a group (owner or admin); its history follows.', inputSchema: { group: groupArg, new_name: groupArg }, outputSchema: output, annotations: write },
    (a) => guarded(async () => answer('renamed')(await link.call('group/rename', { name: groupNameOf(a.group), new_name: groupNameOf(a.new_name) }))),
  );
  server.registerTool(
    'set_member_role',
    {
      title: "Set a member's role",
      description: 'Make a member owner, admin or member (owner only).',
      inputSchema: { group: groupArg, user: z.string().min(1), role: z.enum(['owner', 'admin', 'member']) },
      outputSchema: output,
      annotations: { ...write, idempotentHint: true },
    },
    (a) => guarded(async () => answer('updated')(await link.call('group/role', { name: groupNameOf(a.group), user: a.user, role: a.role }))),
  );
  server.registerTool(
    'list_groups',
    { title: 'List groups', description: 'The groups this account knows, current ones first.', inputSchema: {}, outputSchema: { groups: z.array(groupSchema) }, annotations: { readOnlyHint: true, openWorldHint: false } },
    () =>
      guarded(async () => {
        const r = await link.call('group/list', {});
        return ok(`${r.groups.length} groups: ${r.groups.map((g) => `#${g.name}`).join(', ') || 'none'}`, { groups: r.groups.map(toGroup) });
      }),
  );
  server.registerTool(
    'show_group',
    { title: 'Show a group', description: 'A group with its members and roles, from the relay when it answers.', inputSchema: { group: groupArg }, outputSchema: output, annotations: { readOnlyHint: true, openWorldHint: true } },
    (a) => guarded(async () => answer('as the relay knows it')(await link.call('group/show', { name: groupNameOf(a.group) }))),
  );
}
