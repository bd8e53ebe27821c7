/**
 * Accounts (user → token hash) in KV bucket `sb_accounts`, and group memberships ((group, user)
 * → role) in `sb_members`. Adding a user is a KV create (or, over a revoked account, an update
 * at the revision read): of two `relay add-user` runs for one name on different nodes exactly
 * one wins, the other is refused `UserExistsError`. A credential's id is the KV revision that
 * issued it: revoking or issuing again makes every session opened with the old one inactive.
 */
import type { KV } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { UserExistsError } from '../storage/errors';
import { clusterCall } from './errors';
import { fromToken, token } from './keys';
import { isWrongRevision } from './kv-errors';
import { accountRecord, decodeEntry, encodeRecord, memberRecord, type AccountRecord, type MemberRecord } from './records';
import { BUCKETS } from './provision';

export interface AccountToken {
  kind: 'sha256' | 'scrypt';
  hash: Buffer;
  salt: Buffer;
}

export interface Account {
  record: AccountRecord;
  /** The KV revision of the record: the active credential's id. */
  revision: number;
}

const ACCOUNTS_STREAM = `KV_${BUCKETS.accounts}`;

export class AccountTable {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Creates the account, or issues a new credential over a revoked one; an active one is refused. */
  async add(user: string, credential: AccountToken, now = new Date()): Promise<Account> {
    const key = token(user);
    const fresh = (past: AccountRecord['past']): AccountRecord =>
      accountRecord.parse({ name: user, kind: credential.kind, hash: credential.hash.toString('base64'), salt: credential.salt.toString('base64'), created_at: now.toISOString(), revoked_at: null, past });
    return clusterCall(`kv create ${BUCKETS.accounts}`, async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const entry = await this.kv.get(key);
        const existing = decodeEntry(accountRecord, entry, BUCKETS.accounts);
        try {
          if (!existing || !entry) {
            const record = fresh([]);
            return { record, revision: await this.kv.create(key, encodeRecord(record)) };
          }
          if (existing.revoked_at === null) throw new UserExistsError(user);
          const record = fresh([...existing.past, { created_at: existing.created_at, revoked_at: existing.revoked_at }].slice(-1000));
          return { record, revision: await this.kv.update(key, encodeRecord(record), entry.revision) };
        } catch (error) {
          // Lost a race with another writer of this name: read again and decide again.
          if (!isWrongRevision(error)) throw error;
        }
      }
      throw new Error(`${BUCKETS.accounts}: account ${user} kept changing; not added`);
    });
  }

  async get(user: string): Promise<Account | undefined> {
    return clusterCall(`kv get ${BUCKETS.accounts}`, async () => {
      const entry = await this.kv.get(token(user));
      const record = decodeEntry(accountRecord, entry, BUCKETS.accounts);
      return record && entry ? { record, revision: entry.revision } : undefined;
    });
  }

  /** True when the user had an active credential. */
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

  /**
   * Whether the credential issued at KV revision `id` is still the active one: the bucket keeps
   * one revision per key, so a credential revoked or issued again is no longer stored at `id`.
   */
  async isActive(id: number): Promise<boolean> {
    return clusterCall(`message ${id} of ${ACCOUNTS_STREAM}`, async () => {
      const message = await this.jsm.streams.getMessage(ACCOUNTS_STREAM, { seq: id });
      if (!message || message.data.length === 0) return false;
      try {
        return accountRecord.parse(message.json()).revoked_at === null;
      } catch {
        return false;
      }
    });
  }

  /** Every account record, by name. */
  async list(): Promise<AccountRecord[]> {
    return clusterCall(`kv keys ${BUCKETS.accounts}`, async () => {
      const keys: string[] = [];
      for await (const key of await this.kv.keys()) keys.push(key);
      const records: AccountRecord[] = [];
      for (const key of keys) {
        const record = decodeEntry(accountRecord, await this.kv.get(key), BUCKETS.accounts);
        if (record) records.push(record);
      }
      return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  /** The accounts bucket's last revision: it moves on every account change, on any node. */
  async lastRevision(): Promise<number> {
    return clusterCall(`info ${ACCOUNTS_STREAM}`, async () => (await this.jsm.streams.info(ACCOUNTS_STREAM)).state.last_seq);
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
