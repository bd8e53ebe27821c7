/**
 * The relay's group tables (migration 5): groups, membership spans, the group timeline and the
 * per-member receipt markers. Plain reads and writes, no decisions (those are in groups.ts);
 * every write runs inside the caller's transaction.
 */
import type { Database } from 'better-sqlite3';
import type { GroupMember, GroupRole } from '../protocol/relay';

interface MemberRow {
  user: string;
  role: GroupRole;
  owner: string | null;
}

/** A group the user is in now, as `group_list` reports it (the wire id is made by groups.ts). */
export interface UserGroupRow {
  id: number;
  name: string;
  last_pos: number;
  role: GroupRole;
  member_count: number;
}

export interface GroupRow {
  id: number;
  name: string;
  created_by: string;
  created_at: string;
  last_pos: number;
}

/** A timeline entry as a read receipt looks it up. */
export interface TimelineEntry {
  group_id: number;
  pos: number;
  item: string;
}

export type ReceiptStatus = 'delivered' | 'read';

export class GroupStore {
  private readonly statements;

  constructor(db: Database) {
    this.statements = {
      byName: db.prepare<[string], GroupRow>('SELECT id, name, created_by, created_at, last_pos FROM groups WHERE name = ?'),
      insertGroup: db.prepare<[string, string, string], { id: number }>('INSERT INTO groups (name, created_by, created_at) VALUES (?, ?, ?) RETURNING id'),
      rename: db.prepare<[string, number]>('UPDATE groups SET name = ? WHERE id = ?'),
      bumpPos: db.prepare<[number], { last_pos: number }>('UPDATE groups SET last_pos = last_pos + 1 WHERE id = ? RETURNING last_pos'),
      // An agent member names its owner (protocol v4; users.owner, relay migration 7).
      members: db.prepare<[number], MemberRow>(
        `SELECT m.user, m.role, (SELECT u.owner FROM users u WHERE u.name = m.user AND u.revoked_at IS NULL) AS owner
         FROM group_members m WHERE m.group_id = ? AND m.left_pos IS NULL ORDER BY m.user`,
      ),
      role: db.prepare<[number, string], { role: GroupRole }>('SELECT role FROM group_members WHERE group_id = ? AND user = ? AND left_pos IS NULL'),
      join: db.prepare<[number, string, GroupRole, number]>('INSERT INTO group_members (group_id, user, role, joined_pos) VALUES (?, ?, ?, ?)'),
      leave: db.prepare<[number, number, string]>('UPDATE group_members SET left_pos = ? WHERE group_id = ? AND user = ? AND left_pos IS NULL'),
      setRole: db.prepare<[GroupRole, number, string]>('UPDATE group_members SET role = ? WHERE group_id = ? AND user = ? AND left_pos IS NULL'),
      groupsOfUser: db.prepare<[string], UserGroupRow>(
        `SELECT g.id, g.name, g.last_pos, m.role,
                (SELECT count(*) FROM group_members c WHERE c.group_id = g.id AND c.left_pos IS NULL) AS member_count
         FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user = ? AND m.left_pos IS NULL ORDER BY g.name`,
      ),
      groupsOf: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM group_members WHERE user = ? AND left_pos IS NULL'),
      memberAt: db.prepare<[number, string, number, number], { one: number }>(
        'SELECT 1 AS one FROM group_members WHERE group_id = ? AND user = ? AND joined_pos < ? AND (left_pos IS NULL OR left_pos > ?) LIMIT 1',
      ),
      insertEntry: db.prepare<[number, number, string, string, number]>('INSERT INTO group_timeline (group_id, pos, server_id, item, created_at) VALUES (?, ?, ?, ?, ?)'),
      entryByServerId: db.prepare<[string], TimelineEntry>('SELECT group_id, pos, item FROM group_timeline WHERE server_id = ?'),
      markReceipt: db.prepare<[string, string, ReceiptStatus, number]>('INSERT OR IGNORE INTO member_receipts (server_id, user, status, created_at) VALUES (?, ?, ?, ?)'),
      hasReceipt: db.prepare<[string, string, ReceiptStatus], { one: number }>('SELECT 1 AS one FROM member_receipts WHERE server_id = ? AND user = ? AND status = ?'),
      pruneTimeline: db.prepare<[number, number]>(
        `DELETE FROM group_timeline WHERE (group_id, pos) IN (
           SELECT t.group_id, t.pos FROM group_timeline t
           WHERE t.created_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.ref_group = t.group_id AND d.ref_pos = t.pos)
           ORDER BY t.created_at LIMIT ?)`,
      ),
      pruneReceipts: db.prepare<[number, number]>(
        'DELETE FROM member_receipts WHERE (server_id, user, status) IN (SELECT server_id, user, status FROM member_receipts WHERE created_at < ? ORDER BY created_at LIMIT ?)',
      ),
    };
  }

  byName(name: string): GroupRow | undefined {
    return this.statements.byName.get(name);
  }

  create(name: string, by: string, now: Date): number {
    const row = this.statements.insertGroup.get(name, by, now.toISOString());
    if (!row) throw new Error(`could not create group "${name}"`);
    return row.id;
  }

  rename(groupId: number, name: string): void {
    this.statements.rename.run(name, groupId);
  }

  /** Takes the group's next timeline position. */
  nextPos(groupId: number): number {
    const row = this.statements.bumpPos.get(groupId);
    if (!row) throw new Error(`could not advance the timeline of group ${groupId}`);
    return row.last_pos;
  }

  /** The current members, by name. */
  members(groupId: number): GroupMember[] {
    return this.statements.members.all(groupId).map((m) => (m.owner === null ? { user: m.user, role: m.role } : { user: m.user, role: m.role, owner: m.owner }));
  }

  /** The user's role, when the user is a current member. */
  roleOf(groupId: number, user: string): GroupRole | undefined {
    return this.statements.role.get(groupId, user)?.role;
  }

  /** Starts a membership span at `pos`: the member sees timeline entries after it. */
  join(groupId: number, user: string, role: GroupRole, pos: number): void {
    this.statements.join.run(groupId, user, role, pos);
  }

  /** Ends the current span at `pos`: the member sees no entry after it. */
  leave(groupId: number, user: string, pos: number): void {
    this.statements.leave.run(pos, groupId, user);
  }

  setRole(groupId: number, user: string, role: GroupRole): void {
    this.statements.setRole.run(role, groupId, user);
  }

  /** The groups the user is a current member of, by name. */
  groupsOfUser(user: string): UserGroupRow[] {
    return this.statements.groupsOfUser.all(user);
  }

  /** How many groups the user is a current member of. */
  groupCount(user: string): number {
    return this.statements.groupsOf.get(user)?.n ?? 0;
  }

  /** Whether the user was a member when the entry at `pos` was written. */
  wasMemberAt(groupId: number, user: string, pos: number): boolean {
    return this.statements.memberAt.get(groupId, user, pos, pos) !== undefined;
  }

  appendEntry(groupId: number, pos: number, serverId: string, item: string, now: Date): void {
    this.statements.insertEntry.run(groupId, pos, serverId, item, now.getTime());
  }

  entryByServerId(serverId: string): TimelineEntry | undefined {
    return this.statements.entryByServerId.get(serverId);
  }

  /** True the first time only: the caller then owes the sender this receipt. */
  markReceipt(serverId: string, user: string, status: ReceiptStatus, now: Date): boolean {
    return this.statements.markReceipt.run(serverId, user, status, now.getTime()).changes > 0;
  }

  hasReceipt(serverId: string, user: string, status: ReceiptStatus): boolean {
    return this.statements.hasReceipt.get(serverId, user, status) !== undefined;
  }

  /**
   * Timeline entries older than `cutoff` that no delivery row references any more (every
   * member's row was acked and pruned, or expired): the room's history lives in the members'
   * stores, not on the relay, so what retention cleared for each member goes here too.
   */
  pruneTimeline(cutoff: Date, limit: number): number {
    return this.statements.pruneTimeline.run(cutoff.getTime(), limit).changes;
  }

  pruneReceipts(cutoff: Date, limit: number): number {
    return this.statements.pruneReceipts.run(cutoff.getTime(), limit).changes;
  }
}
