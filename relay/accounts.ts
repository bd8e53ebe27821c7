/** Adding and revoking relay users: what `relay add-user` and `relay revoke` do, on any storage. */
import { canonicalUserName, userNameProblem } from '../protocol/names';
import type { AccountStorage } from './storage/types';
import { generateToken, hashToken } from './tokens';

/** The one user-name rule (protocol/names.ts), the same the core applies at `init` and `send`. */
export function validateUserName(name: string): string | undefined {
  return userNameProblem(name);
}

/**
 * Creates the user under its canonical name (protocol/names.ts) and returns its token: the
 * only time the token exists in clear. `Bob` when `bob` exists is the same user: refused.
 */
export async function addUser(accounts: AccountStorage, name: string, now: Date = new Date()): Promise<string> {
  const invalid = validateUserName(name);
  if (invalid) throw new Error(invalid);
  const token = generateToken();
  await accounts.addUser(canonicalUserName(name), hashToken(token), now);
  return token;
}

/**
 * True when the user had an active token; a running relay notices within its poll interval.
 * The exact spelling is tried first, so an account the names migration left under another
 * spelling (a case collision, see RelayStore.caseCollisions) can be revoked by that name
 * without touching the canonical one; otherwise the name is matched case-insensitively.
 */
export async function revokeUser(accounts: AccountStorage, name: string, now: Date = new Date()): Promise<boolean> {
  if (await accounts.revokeUser(name, now)) return true;
  const canonical = canonicalUserName(name);
  return canonical !== name && (await accounts.revokeUser(canonical, now));
}
