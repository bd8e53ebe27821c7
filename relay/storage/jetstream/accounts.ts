/**
 * `AccountStorage` on the cluster (relay/storage/types.ts), over the accounts table in KV
 * (relay/jetstream/accounts.ts). Every node sees the same accounts; a revocation on one node
 * reaches the others through `watchCredentials`, which polls the bucket's last revision.
 */
import { canonicalUserName } from '../../../protocol/names';
import type { AccountTable } from '../../jetstream/accounts';
import type { AccountStorage, Credential, Unsubscribe, UserListing } from '../types';

export function jetstreamAccounts(table: AccountTable, onWatchError: (error: unknown) => void = () => undefined): AccountStorage {
  return {
    addUser: async (name, token, now) => {
      await table.add(name, token, now);
    },
    revokeUser: (name, now) => table.revoke(name, now),
    activeCredential: async (name): Promise<Credential | undefined> => {
      const account = await table.get(name);
      if (!account || account.record.revoked_at !== null) return undefined;
      const { record } = account;
      return { id: account.revision, name: record.name, kind: record.kind, hash: Buffer.from(record.hash, 'base64'), salt: Buffer.from(record.salt, 'base64') };
    },
    inactiveCredentials: async (ids) => {
      const unique = [...new Set(ids)];
      const active = await Promise.all(unique.map((id) => table.isActive(id)));
      return new Set(unique.filter((_, i) => !active[i]));
    },
    listUsers: async (): Promise<UserListing[]> => {
      const rows: UserListing[] = [];
      for (const record of await table.list()) {
        for (const past of record.past) rows.push({ name: record.name, ...past });
        rows.push({ name: record.name, created_at: record.created_at, revoked_at: record.revoked_at });
      }
      return rows;
    },
    // Names reach the cluster already canonical (the callers fold them), so a collision is only
    // possible if something else wrote the bucket; reported the same way as on SQLite.
    caseCollisions: async () => {
      const records = await table.list();
      return records
        .filter((r) => r.revoked_at === null && r.name !== canonicalUserName(r.name))
        .map((r) => ({ name: r.name, others: records.filter((o) => o.name !== r.name && canonicalUserName(o.name) === canonicalUserName(r.name)).map((o) => o.name) }));
    },
    watchCredentials: (listener, pollMs): Unsubscribe => {
      let seen: number | undefined;
      let busy = false;
      const poll = () => {
        if (busy) return;
        busy = true;
        table
          .lastRevision()
          .then((revision) => {
            if (seen !== undefined && revision !== seen) listener();
            seen = revision;
          })
          // A poll the cluster cannot answer is tried again at the next tick.
          .catch(onWatchError)
          .finally(() => (busy = false));
      };
      poll(); // the baseline, taken at once
      const timer = setInterval(poll, pollMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
