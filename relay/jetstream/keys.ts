/**
 * Names as JetStream keys and subject tokens. KV keys allow `[-/_=.a-zA-Z0-9]`, and `.`
 * separates subject tokens; user names may hold `.` and client message ids anything. Each
 * name is written as base64url of its UTF-8 (no padding): one token, no `.`, `*` or `>`,
 * and distinct names give distinct tokens.
 */
export function token(name: string): string {
  if (name === '') throw new Error('an empty name has no key');
  return Buffer.from(name, 'utf8').toString('base64url');
}

export function fromToken(value: string): string {
  return Buffer.from(value, 'base64url').toString('utf8');
}
