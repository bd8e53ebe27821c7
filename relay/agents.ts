/**
 * Agent identities a person owns (protocol v4, docs/relay.md "Agents"): accounts named
 * `<owner>.<suffix>` that the owner creates, lists and revokes over their own session. The
 * rules live here, synchronous and socket-free like the ledger: the caller runs `handle` inside
 * a write (lib/node/write-batcher.ts) and acts on the outcome after the commit.
 */
import type { Database, Statement } from 'better-sqlite3';
import { AGENT_REJECTION_CODES, DEFAULT_MAX_AGENTS_PER_OWNER, type AgentFrame, type AgentInfo, type AgentRejectionCode, type AgentResultFrame } from '../protocol/relay';
import { USER_NAME_RULE, canonicalUserName, claimedOwner, isValidUserName } from '../protocol/names';
import type { RelayStore } from './store';
import { generateToken, hashToken } from './tokens';
import type { AgentOutcome } from './storage/types';

export type { AgentOutcome } from './storage/types';

export interface AgentLimits {
  /** Active (not revoked) agents one owner may hold at once. */
  maxAgentsPerOwner: number;
}

export const DEFAULT_AGENT_LIMITS: AgentLimits = { maxAgentsPerOwner: DEFAULT_MAX_AGENTS_PER_OWNER };

/**
 * Most agents one `agent_list` names (about 250 bytes each: well inside a frame). Above the
 * highest `--max-agents-per-owner`, so every active agent is always listed; revoked ones beyond
 * it drop off, oldest first.
 */
export const MAX_AGENTS_LISTED = 512;

interface AgentRow {
  name: string;
  owner: string;
  created_at: string;
  revoked_at: string | null;
  messages: number | null;
  last_sent_at: string | null;
}

export class AgentTables {
  private readonly s: {
    ownerOf: Statement<[string], { owner: string }>;
    activeCount: Statement<[string], { n: number }>;
    insert: Statement<[string, Buffer, Buffer, string, string, string]>;
    revoke: Statement<[string, string, string]>;
    list: Statement<[string], AgentRow>;
    one: Statement<[string, string], AgentRow>;
    countSend: Statement<[string, string]>;
  };

  constructor(db: Database) {
    // The newest row of each name: an agent revoked and created again is listed once, as it is now.
    const row = `SELECT u.name, u.owner, u.created_at, u.revoked_at, s.messages, s.last_sent_at
      FROM users u LEFT JOIN agent_sends s ON s.user = u.name
      WHERE u.owner = ? AND u.id = (SELECT max(v.id) FROM users v WHERE v.name = u.name)`;
    this.s = {
      // Answered from the users_active_name index: one lookup per send.
      ownerOf: db.prepare('SELECT owner FROM users WHERE name = ? AND revoked_at IS NULL AND owner IS NOT NULL'),
      activeCount: db.prepare('SELECT count(*) AS n FROM users WHERE owner = ? AND revoked_at IS NULL'),
      insert: db.prepare("INSERT INTO users (name, token_hash, salt, hash_kind, created_at, owner) VALUES (?, ?, ?, ?, ?, ?)"),
      revoke: db.prepare('UPDATE users SET revoked_at = ? WHERE name = ? AND owner = ? AND revoked_at IS NULL'),
      // Active agents first, then the most recently revoked: bounded, so one answer always fits a frame.
      list: db.prepare(`${row} ORDER BY u.revoked_at IS NOT NULL, u.id DESC LIMIT ${MAX_AGENTS_LISTED}`),
      one: db.prepare(`${row} AND u.name = ?`),
      countSend: db.prepare(
        'INSERT INTO agent_sends (user, messages, last_sent_at) VALUES (?, 1, ?) ON CONFLICT (user) DO UPDATE SET messages = messages + 1, last_sent_at = excluded.last_sent_at',
      ),
    };
  }

  /** The owner of an active agent account; undefined for a person (or no active account). */
  ownerOf(user: string): string | undefined {
    return this.s.ownerOf.get(user)?.owner;
  }

  /** An accepted send of an agent: counted for its owner's `agent_list`. */
  countSend(user: string, now: Date): void {
    this.s.countSend.run(user, now.toISOString());
  }

  /** By name: every active agent and the most recently revoked ones, at most MAX_AGENTS_LISTED. */
  list(owner: string): AgentInfo[] {
    return this.s.list
      .all(owner)
      .map(toInfo)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(owner: string, name: string): AgentInfo | undefined {
    const row = this.s.one.get(owner, name);
    return row && toInfo(row);
  }

  activeCount(owner: string): number {
    return this.s.activeCount.get(owner)?.n ?? 0;
  }

  insert(name: string, owner: string, token: string, now: Date): void {
    const hashed = hashToken(token);
    this.s.insert.run(name, hashed.hash, hashed.salt, hashed.kind, now.toISOString(), owner);
  }

  revoke(name: string, owner: string, now: Date): boolean {
    return this.s.revoke.run(now.toISOString(), name, owner).changes > 0;
  }
}

function toInfo(row: AgentRow): AgentInfo {
  return {
    name: row.name,
    owner: row.owner,
    created_at: row.created_at,
    revoked: row.revoked_at !== null,
    revoked_at: row.revoked_at,
    sent: row.messages ?? 0,
    last_sent_at: row.last_sent_at,
  };
}

export class AgentLedger {
  constructor(
    private readonly store: RelayStore,
    readonly tables: AgentTables,
    private readonly limits: AgentLimits = DEFAULT_AGENT_LIMITS,
  ) {}

  /** One agent request of `user`, decided and written in the caller's transaction. */
  handle(user: string, frame: AgentFrame, now: Date): AgentOutcome {
    const reject = (code: AgentRejectionCode, reason: string, retryable = false): AgentOutcome => ({
      answer: { type: 'agent_result', request_id: frame.request_id, result: 'rejected', code, reason, retryable },
    });
    const ok = (agents: AgentInfo[], token?: string): AgentResultFrame => ({
      type: 'agent_result',
      request_id: frame.request_id,
      result: 'ok',
      agents,
      ...(token !== undefined ? { token } : {}),
    });
    // An agent acts for its owner; it does not get to multiply itself.
    const ownOwner = this.tables.ownerOf(user);
    if (ownOwner !== undefined) return reject(AGENT_REJECTION_CODES.forbidden, `${user} is an agent of ${ownOwner}; only a person can create or manage agents`);
    if (frame.type === 'agent_list') return { answer: ok(this.tables.list(user)) };
    if (!isValidUserName(frame.name)) return reject(AGENT_REJECTION_CODES.badName, `invalid agent name "${frame.name}": ${USER_NAME_RULE}`);
    const name = canonicalUserName(frame.name);
    const claimed = claimedOwner(name);
    if (claimed === undefined) return reject(AGENT_REJECTION_CODES.badName, `invalid agent name "${name}": an agent is named <owner>.<name>, e.g. ${user}.claude`);
    if (claimed !== user) return reject(AGENT_REJECTION_CODES.notOwner, `"${name}" is under the name "${claimed}", not yours (${user})`);
    if (frame.type === 'agent_revoke') {
      if (!this.tables.revoke(name, user, now)) return reject(AGENT_REJECTION_CODES.unknownAgent, `you have no active agent named "${name}"`);
      return { answer: ok([this.tables.get(user, name)!]), revoked: name };
    }
    if (this.store.isUserActive(name)) return reject(AGENT_REJECTION_CODES.exists, `an account named "${name}" exists at the relay`);
    const held = this.tables.activeCount(user);
    if (held >= this.limits.maxAgentsPerOwner) {
      return reject(AGENT_REJECTION_CODES.limit, `you hold ${held} agents, this relay's most per person (${this.limits.maxAgentsPerOwner}); revoke one first`, true);
    }
    const token = generateToken();
    this.tables.insert(name, user, token, now);
    return { answer: ok([this.tables.get(user, name)!], token) };
  }
}
