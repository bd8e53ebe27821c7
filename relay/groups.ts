/**
 * The relay's decisions about groups (protocol v2): who may do what, membership events in the
 * group's timeline, and group sends stored once and fanned out to every current member. Like
 * ledger.ts: synchronous, socket-free, run inside one transaction by the caller, which pushes
 * the returned deliveries after the commit. Membership is read inside the same transaction as
 * the write it decides, so a removal is effective from its commit: a send committed after it
 * does not reach the removed member, and a member added later sees nothing from before.
 */
import { newId } from '../lib/node/ids';
import { canonicalUserName, isValidUserName, USER_NAME_RULE } from '../protocol/names';
import {
  GROUP_PREFIX,
  GROUP_REJECTION_CODES,
  RELAY_PROTOCOL_V2,
  RELAY_PROTOCOL_V3,
  type DeliveryItemV2,
  type DeliveryItemV3,
  type DeliveryItemV4,
  type WireMessageV3,
  type GroupEventKind,
  type GroupFrame,
  type GroupMember,
  type GroupRejectionCode,
  type GroupRole,
  type GroupSummary,
  type GroupVerdictFrame,
  type WireMessageV2,
} from '../protocol/relay';
import type { GroupRow, GroupStore } from './group-store';
import type { CommittedDelivery, RelayStore } from './store';
import type { GroupOutcome } from './storage/types';

export type { GroupOutcome } from './storage/types';

/** Caps that keep a group send's fan-out bounded: what a stranger could make one send cost. */
export interface GroupLimits {
  /** Current members of one group, the owner included (`--max-group-members`). */
  maxGroupMembers: number;
  /** Groups one user may be a current member of (`--max-groups-per-user`). */
  maxGroupsPerUser: number;
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = { maxGroupMembers: 256, maxGroupsPerUser: 100 };

/** A refusal, thrown inside a request and turned into its verdict (nothing of it is written). */
class Refusal extends Error {
  constructor(
    readonly code: GroupRejectionCode,
    reason: string,
  ) {
    super(reason);
  }
}

interface EventDetail {
  event: GroupEventKind;
  users: string[];
  renamed_from?: string;
  role?: GroupRole;
  /** Users told besides the members after the event (the removed, the one who left). */
  alsoTell?: string[];
}

/** The wire id of a group: stable across renames. */
export function groupWireId(id: number): string {
  return `g${id}`;
}

export class GroupLedger {
  constructor(
    private readonly store: RelayStore,
    private readonly groups: GroupStore,
    private readonly limits: GroupLimits = DEFAULT_GROUP_LIMITS,
  ) {}

  /** One group request, its verdict and the membership event it produced (when it changed anything). */
  handle(actor: string, frame: GroupFrame, now: Date): GroupOutcome {
    try {
      // A savepoint: a refusal midway (an unknown user after two good ones) writes nothing.
      return this.store.transaction(() => this.apply(actor, frame, now));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return { verdict: { type: 'group_verdict', request_id: frame.request_id, result: 'rejected', code: error.code, reason: error.message, retryable: false }, deliveries: [] };
    }
  }

  private apply(actor: string, frame: GroupFrame, now: Date): GroupOutcome {
    if (frame.type === 'group_create') return this.create(actor, frame.request_id, groupName(frame.group), frame.members, now);
    const group = this.existing(groupName(frame.group));
    const role = this.groups.roleOf(group.id, actor);
    if (!role) throw new Refusal(GROUP_REJECTION_CODES.notMember, `you are not a member of #${group.name}`);
    switch (frame.type) {
      case 'group_add': {
        requireRole(role, ['owner', 'admin'], `add members to #${group.name}`);
        const users = this.activeUsers(frame.users).filter((user) => !this.groups.roleOf(group.id, user));
        if (users.length === 0) return this.unchanged(frame.request_id, group);
        this.checkRoom(group, users);
        const pos = this.groups.nextPos(group.id);
        for (const user of users) this.groups.join(group.id, user, 'member', pos);
        return this.event(actor, frame.request_id, group, pos, { event: 'added', users }, now);
      }
      case 'group_remove': {
        requireRole(role, ['owner', 'admin'], `remove members from #${group.name}`);
        const users = [...new Set(frame.users.map(memberName))];
        for (const user of users) {
          const theirs = this.groups.roleOf(group.id, user);
          if (!theirs) throw new Refusal(GROUP_REJECTION_CODES.notMember, `"${user}" is not a member of #${group.name}`);
          if (role === 'admin' && theirs !== 'member' && user !== actor) {
            throw new Refusal(GROUP_REJECTION_CODES.forbidden, `an admin may remove members only; "${user}" is ${theirs === 'owner' ? 'an owner' : 'an admin'} of #${group.name}`);
          }
        }
        this.keepAnOwner(group, users);
        const pos = this.groups.nextPos(group.id);
        for (const user of users) this.groups.leave(group.id, user, pos);
        return this.event(actor, frame.request_id, group, pos, { event: 'removed', users, alsoTell: users }, now);
      }
      case 'group_leave': {
        this.keepAnOwner(group, [actor]);
        const pos = this.groups.nextPos(group.id);
        this.groups.leave(group.id, actor, pos);
        return this.event(actor, frame.request_id, group, pos, { event: 'left', users: [actor], alsoTell: [actor] }, now);
      }
      case 'group_rename': {
        requireRole(role, ['owner', 'admin'], `rename #${group.name}`);
        const to = groupName(frame.new_name);
        if (this.groups.byName(to)) throw new Refusal(GROUP_REJECTION_CODES.groupExists, `a group named #${to} already exists`);
        this.groups.rename(group.id, to);
        const renamed = { ...group, name: to };
        return this.event(actor, frame.request_id, renamed, this.groups.nextPos(group.id), { event: 'renamed', users: [], renamed_from: group.name }, now);
      }
      case 'group_show':
        return this.unchanged(frame.request_id, group);
      case 'group_role': {
        requireRole(role, ['owner'], `change roles in #${group.name}`);
        const user = memberName(frame.user);
        const theirs = this.groups.roleOf(group.id, user);
        if (!theirs) throw new Refusal(GROUP_REJECTION_CODES.notMember, `"${user}" is not a member of #${group.name}`);
        if (theirs === frame.role) return this.unchanged(frame.request_id, group);
        if (theirs === 'owner') this.keepAnOwner(group, [user]);
        this.groups.setRole(group.id, user, frame.role);
        return this.event(actor, frame.request_id, group, this.groups.nextPos(group.id), { event: 'role', users: [user], role: frame.role }, now);
      }
    }
  }

  /** The groups `user` is a member of now (`group_list`). */
  list(user: string): GroupSummary[] {
    return this.groups.groupsOfUser(user).map((g) => ({ group_id: groupWireId(g.id), group: g.name, pos: g.last_pos, role: g.role, member_count: g.member_count }));
  }

  private create(actor: string, requestId: string, name: string, requested: string[], now: Date): GroupOutcome {
    if (this.groups.byName(name)) throw new Refusal(GROUP_REJECTION_CODES.groupExists, `a group named #${name} already exists`);
    const others = this.activeUsers(requested).filter((user) => user !== actor);
    const id = this.groups.create(name, actor, now);
    const group: GroupRow = { id, name, created_by: actor, created_at: now.toISOString(), last_pos: 0 };
    this.checkRoom(group, [actor, ...others]);
    const pos = this.groups.nextPos(id);
    this.groups.join(id, actor, 'owner', pos);
    for (const user of others) this.groups.join(id, user, 'member', pos);
    return this.event(actor, requestId, group, pos, { event: 'created', users: [] }, now);
  }

  /**
   * Writes the event at `pos` once in the timeline and fans it out to every member after it
   * (and to whoever it removed), each as a v2-only delivery referencing that one entry.
   */
  private event(actor: string, requestId: string, group: GroupRow, pos: number, detail: EventDetail, now: Date): GroupOutcome {
    const members = this.groups.members(group.id);
    const serverId = newId();
    const { alsoTell = [], ...shown } = detail;
    const item = JSON.stringify({
      kind: 'group',
      server_id: serverId,
      group_id: groupWireId(group.id),
      group: group.name,
      pos,
      by: actor,
      at: now.toISOString(),
      ...shown,
      members,
    } satisfies DeliveryItemV2);
    this.groups.appendEntry(group.id, pos, serverId, item, now);
    const audience = new Set([...members.map((m) => m.user), ...alsoTell]);
    const deliveries = [...audience].map((user) => ({
      user,
      seq: this.store.appendDelivery(user, item, now, { minVersion: RELAY_PROTOCOL_V2, ref: { group: group.id, pos } }),
      item,
      minVersion: RELAY_PROTOCOL_V2,
    }));
    return { verdict: { type: 'group_verdict', request_id: requestId, result: 'ok', group_id: groupWireId(group.id), group: group.name, pos, members }, deliveries };
  }

  private unchanged(requestId: string, group: GroupRow): GroupOutcome {
    const members = this.groups.members(group.id);
    return { verdict: { type: 'group_verdict', request_id: requestId, result: 'ok', group_id: groupWireId(group.id), group: group.name, pos: group.last_pos, members }, deliveries: [] };
  }

  private existing(name: string): GroupRow {
    const group = this.groups.byName(name);
    if (!group) throw new Refusal(GROUP_REJECTION_CODES.unknownGroup, `no group named #${name}`);
    return group;
  }

  /** Canonical names of active accounts, once each; any other name refuses the request. */
  private activeUsers(names: string[]): string[] {
    const users = [...new Set(names.map(memberName))];
    const unknown = users.filter((user) => !this.store.isUserActive(user));
    if (unknown.length > 0) throw new Refusal(GROUP_REJECTION_CODES.unknownUser, `no user ${unknown.map((u) => `"${u}"`).join(', ')} at this relay`);
    return users;
  }

  /** The caps: members per group, groups per user. */
  private checkRoom(group: GroupRow, joining: string[]): void {
    const { maxGroupMembers, maxGroupsPerUser } = this.limits;
    const size = this.groups.members(group.id).length + joining.length;
    if (size > maxGroupMembers) {
      throw new Refusal(GROUP_REJECTION_CODES.limit, `#${group.name} would have ${size} members; this relay allows at most ${maxGroupMembers} per group`);
    }
    const full = joining.filter((user) => this.groups.groupCount(user) >= maxGroupsPerUser);
    if (full.length > 0) {
      throw new Refusal(GROUP_REJECTION_CODES.limit, `${full.map((u) => `"${u}"`).join(', ')} already in ${maxGroupsPerUser} groups, the most this relay allows per user`);
    }
  }

  /** Refuses when `leaving` (or demoting) these users would leave the group without an owner. */
  private keepAnOwner(group: GroupRow, leaving: string[]): void {
    const owners = this.groups.members(group.id).filter((m) => m.role === 'owner' && !leaving.includes(m.user));
    if (owners.length > 0) return;
    throw new Refusal(GROUP_REJECTION_CODES.lastOwner, `that would leave #${group.name} without an owner; make another member an owner first (group role)`);
  }

  // ---- group sends --------------------------------------------------------------------------

  /**
   * Checks a group send (the caller has done dedupe, id ownership and the body size) and, when it
   * may go, stores it once at the group's next position and fans it out to every current member:
   * the sender's own row skips the device that sent it. A member whose undelivered messages are
   * at their quota is passed over and named in `skipped` (the sender is told, per member), so
   * one member who never reads cannot stop the group. Returns a refusal or the deliveries.
   */
  recordGroupSend(
    sender: string,
    device: string | undefined,
    message: Omit<WireMessageV3, 'from'>,
    serverId: string,
    now: Date,
    room: (user: string, itemBytes: number) => { reason: string; retryable: boolean } | undefined,
    maxItemBytes: number,
    /** The sender's owner when it is an agent (protocol v4): the item says so. */
    fromOwner?: string,
  ):
    | { refusal: { reason: string; retryable: boolean; code: string }; deliveries?: undefined }
    | { refusal?: undefined; pos: number; deliveries: CommittedDelivery[]; skipped: string[]; recipients: string[] } {
    const name = canonicalUserName(message.to.slice(GROUP_PREFIX.length));
    const group = this.groups.byName(name);
    if (!group) return { refusal: { reason: `no group named #${name}`, retryable: false, code: 'unknown_group' } };
    if (!this.groups.roleOf(group.id, sender)) return { refusal: { reason: `you are not a member of #${name}`, retryable: false, code: 'not_member' } };
    const members = this.groups.members(group.id).map((m) => m.user);
    const pos = group.last_pos + 1;
    const wire: WireMessageV3 = { ...message, to: `${GROUP_PREFIX}${group.name}`, from: sender, ...(message.mentions ? { mentions: message.mentions.filter((u) => members.includes(u)) } : {}) };
    const item = JSON.stringify({
      kind: 'message',
      server_id: serverId,
      message: wire,
      group_id: groupWireId(group.id),
      pos,
      ...(fromOwner !== undefined ? { from_owner: fromOwner } : {}),
    } satisfies DeliveryItemV4);
    const itemBytes = Buffer.byteLength(item, 'utf8');
    // What each member's quota is charged: the item and the files it names (docs/relay.md, "Files").
    let heldBytes = itemBytes;
    for (const a of message.attachments ?? []) heldBytes += a.size;
    // A message naming files goes to v3 devices only.
    const minVersion = message.attachments && message.attachments.length > 0 ? RELAY_PROTOCOL_V3 : RELAY_PROTOCOL_V2;
    // The group item carries more than the send frame did (from, group_id, pos): refused here
    // rather than stored and never deliverable.
    if (itemBytes > maxItemBytes) return { refusal: { reason: 'message is too large to deliver once encoded', retryable: false, code: 'rejected' } };
    const skipped: string[] = [];
    const receiving: string[] = [];
    for (const member of members) {
      const refusal = member === sender ? undefined : room(member, heldBytes);
      // A message larger than any quota would be refused for every member alike: refuse it.
      if (refusal && !refusal.retryable) return { refusal: { ...refusal, code: 'quota' } };
      (refusal ? skipped : receiving).push(member);
    }
    this.groups.nextPos(group.id);
    this.groups.appendEntry(group.id, pos, serverId, item, now);
    const deliveries = receiving.map((member) => {
      const own = member === sender;
      const seq = this.store.appendDelivery(member, item, now, { minVersion, ref: { group: group.id, pos }, ...(own && device ? { originDevice: device } : {}) });
      // The sender's copy is not waiting for anyone: only the others' count against quotas.
      if (!own) this.store.addUndelivered(member, 1, heldBytes);
      return { user: member, seq, item, minVersion, ...(own && device ? { originDevice: device } : {}) };
    });
    for (const member of skipped) {
      const notice = JSON.stringify({ kind: 'expired', id: message.id, server_id: serverId, to: member, at: now.toISOString(), group_id: groupWireId(group.id), reason: 'quota' } satisfies DeliveryItemV2);
      const options = { minVersion: RELAY_PROTOCOL_V2 };
      deliveries.push({ user: sender, seq: this.store.appendDelivery(sender, notice, now, options), item: notice, ...options });
    }
    return { pos, deliveries, skipped, recipients: receiving.filter((member) => member !== sender) };
  }
}

function requireRole(role: GroupRole, allowed: GroupRole[], what: string): void {
  if (!allowed.includes(role)) throw new Refusal(GROUP_REJECTION_CODES.forbidden, `a ${role} may not ${what}; ask an ${allowed.join(' or ')}`);
}

/** A group name under the user-name rule, canonical (lower case); `#` in front is allowed. */
function groupName(raw: string): string {
  const name = raw.startsWith(GROUP_PREFIX) ? raw.slice(GROUP_PREFIX.length) : raw;
  if (!isValidUserName(name)) throw new Refusal(GROUP_REJECTION_CODES.badName, `invalid group name "${raw}": ${USER_NAME_RULE.replace('account', 'group')}`);
  return canonicalUserName(name);
}

function memberName(raw: string): string {
  if (!isValidUserName(raw)) throw new Refusal(GROUP_REJECTION_CODES.unknownUser, `invalid user name "${raw}": ${USER_NAME_RULE}`);
  return canonicalUserName(raw);
}
