/** Errors any storage throws with the same meaning, whatever the engine. */

/** `AccountStorage.addUser` for a name an active user has. */
export class UserExistsError extends Error {
  constructor(name: string) {
    super(`user "${name}" already exists; revoke it first to issue a new token`);
  }
}
