/**
 * Accounts (user → SHA-256 of its token) in KV bucket `sb_accounts`, and group memberships
 * ((group, user) → role) in `sb_members`. Adding a user is a create: two `relay add-user` runs
 * for one name against the cluster make one account. Revoking keeps the record (revoked_at
 * set), so a revoked name is never silently reused with an old device's cursor.
 */
import type { KV } from '@nats-io/kv';
import { clusterCall } from './errors';
import { fromToken, token } from './keys';
import { isWrongRevision } from './kv-errors';
import { accountRecord, decodeEntry, encodeRecord, memberRecord, type AccountRecord, type MemberRecord } from './records';
import { BUCKETS } from './provision';

export class UserExistsError extends Error {
  readonly code = 'user_exists';
  constructor(readonly user: string) {
    super(`user ${user} already exists`);
    this.name = 'UserExistsError';
  }
}

export class AccountTable {
  constructor(private readonly kv: KV) {}

  /** Creates the account; a name that exists (revoked or not) is refused with UserExistsError. */
  async add(user: string, tokenSha256: string, now = new Date()): Promise<AccountRecord> {
    const record: AccountRecord = { name: user, token_sha256: tokenSha256, created_at: now.toISOString(), revoked_at: null };
    return clusterCall(`kv create ${BUCKETS.accounts}`, async () => {
      try {
        await this.kv.create(token(user), encodeRecord(accountRecord.parse(record)));
        return record;
      } catch (error) {
        if (isWrongRevision(error)) throw new UserExistsError(user);
        throw error;
      }
    });
  }

  async get(user: string): Promise<AccountRecord | undefined> {
    return clusterCall(`kv get ${BUCKETS.accounts}`, async () => decodeEntry(accountRecord, await this.kv.get(token(user)), BUCKETS.accounts));
  }

  /** True when the user had an active token. */
  async revoke(user: string, now = new Date()): Promise<boolean> {
    return clusterCall(`kv update ${BUCKETS.accounts}`, async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const entry = await this.kv.get(token(user));
        const record = decodeEntry(accountRecord, entry, BUCKETS.accounts);
        if (!record || !entry || record.revoked_at !== null) return false;
        try {
          await this.kv.update(token(user), encodeRecord({ ...record, revoked_at: now.toISOString() }), entry.revision);
          return true;
        } catch (error) {
          if (!isWrongRevision(error)) throw error;
        }
      }
      throw new Error(`${BUCKETS.accounts}: account ${user} kept changing; not revoked`);
    });
  }
}

export class MembershipTable {
  constructor(private readonly kv: KV) {}

  private key(group: string, user: string): string {
    return `${token(group)}.${token(user)}`;
  }

  /** Sets the user's role in the group (adds the member when absent). */
  async set(group: string, user: string, role: MemberRecord['role'], now = new Date()): Promise<void> {
    await clusterCall(`kv put ${BUCKETS.members}`, async () => {
      await this.kv.put(this.key(group, user), encodeRecord(memberRecord.parse({ role, added_at: now.toISOString() })));
    });
  }

  async remove(group: string, user: string): Promise<void> {
    await clusterCall(`kv delete ${BUCKETS.members}`, async () => this.kv.delete(this.key(group, user)));
  }

  async role(group: string, user: string): Promise<MemberRecord['role'] | undefined> {
    return clusterCall(`kv get ${BUCKETS.members}`, async () => decodeEntry(memberRecord, await this.kv.get(this.key(group, user)), BUCKETS.members)?.role);
  }

  /** The group's current members and roles, by user name. */
  async members(group: string): Promise<Map<string, MemberRecord['role']>> {
    return clusterCall(`kv keys ${BUCKETS.members}`, async () => {
      const prefix = `${token(group)}.`;
      const users: string[] = [];
      for await (const key of await this.kv.keys(`${prefix}*`)) users.push(fromToken(key.slice(prefix.length)));
      const out = new Map<string, MemberRecord['role']>();
      for (const user of users.sort()) {
        const role = await this.role(group, user);
        if (role) out.set(user, role);
      }
      return out;
    });
  }
}
