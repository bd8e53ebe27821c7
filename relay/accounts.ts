/** Adding and revoking relay users: what `relay add-user` and `relay revoke` do. */
import type { RelayStore } from './store';
import { generateToken, hashToken } from './tokens';

/** Names appear in frames, logs and shells: keep them plain. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function validateUserName(name: string): string | undefined {
  return USER_NAME.test(name) ? undefined : `invalid user name "${name}": use 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`;
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
