/** Adding and revoking relay users: what `relay add-user` and `relay revoke` do. */
import { userNameProblem } from '../protocol/limits';
import type { RelayStore } from './store';
import { generateToken, hashToken } from './tokens';

/** The one user-name rule (protocol/limits.ts), the same the core applies at `init` and `send`. */
export function validateUserName(name: string): string | undefined {
  return userNameProblem(name);
}

/** Creates the user and returns its token: the only time the token exists in clear. */
export async function addUser(store: RelayStore, name: string, now: Date = new Date()): Promise<string> {
  const invalid = validateUserName(name);
  if (invalid) throw new Error(invalid);
  const token = generateToken();
  store.insertUser(name, hashToken(token), now.toISOString());
  return token;
}

/** True when the user had an active token; a running relay notices within its poll interval. */
export function revokeUser(store: RelayStore, name: string, now: Date = new Date()): boolean {
  return store.revokeUser(name, now.toISOString());
}
