import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSha256Token, deriveScrypt, generateToken, hashToken, LegacyTokenChecks, type StoredToken } from '../../relay/tokens';

test('a generated token is sbr_ and 32 random bytes in base64url, different each time', () => {
  const token = generateToken();
  assert.match(token, /^sbr_[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(token.slice(4), 'base64url').length, 32);
  assert.notEqual(generateToken(), token);
});

test('a stored token is the SHA-256 of its UTF-8 bytes, with no salt', () => {
  const stored = hashToken('é');
  assert.equal(stored.kind, 'sha256');
  assert.equal(stored.salt.length, 0);
  // SHA-256 of C3 A9 (é in UTF-8); Latin-1 would hash the single byte E9 instead.
  assert.equal(stored.hash.toString('hex'), '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
});

test('only the same token checks against a SHA-256 row; an unknown user or a malformed row is refused, not thrown', () => {
  const token = generateToken();
  const stored = hashToken(token).hash;
  assert.equal(checkSha256Token(token, stored), true);
  assert.equal(checkSha256Token(`${token}x`, stored), false);
  assert.equal(checkSha256Token(token, undefined), false, 'an unknown user');
  assert.equal(checkSha256Token(token, stored.subarray(0, 31)), false, 'a stored hash of the wrong length');
});

const salt = Buffer.from('0011223344556677', 'hex');

test('scrypt rows written by older relays verify with their parameters (N=2^15, r=8, p=1, 32 bytes)', async () => {
  // Computed once with those parameters: a change to them would lock every such user out.
  const expected = '74465eae5a1bda964da50ebefdd079b0246fcef7777e70b32481694696f7f297';
  assert.equal((await deriveScrypt('sbr_legacy', salt)).toString('hex'), expected);
  const row: StoredToken = { kind: 'scrypt', hash: Buffer.from(expected, 'hex'), salt };
  const checks = new LegacyTokenChecks();
  assert.equal(await checks.check('sbr_legacy', row), true);
  assert.equal(await checks.check('sbr_legacx', row), false, 'a wrong token of the same length');
  assert.equal(await checks.check('sbr_legacy', { ...row, hash: row.hash.subarray(0, 16) }), false, 'a malformed row is refused, not thrown');
  assert.equal(checks.started, 3);
});

test('legacy checks run a bounded few at a time, the rest wait in a bounded line, and slots are handed back', async () => {
  const row: StoredToken = { kind: 'scrypt', hash: await deriveScrypt('sbr_legacy', salt), salt };
  const checks = new LegacyTokenChecks(2, 1);
  assert.equal(checks.hasRoom(), true);
  const first = [checks.check('sbr_legacy', row), checks.check('sbr_legacy', row)];
  assert.equal(checks.started, 2, 'two slots: both start at once');
  assert.equal(checks.hasRoom(), true, 'the line is still empty');
  const third = checks.check('sbr_legacy', row);
  assert.equal(checks.started, 2, 'the third waits for a slot');
  assert.equal(checks.hasRoom(), false, 'the line (one place) is full');
  assert.deepEqual(await Promise.all([...first, third]), [true, true, true]);
  assert.equal(checks.started, 3);
  assert.equal(checks.hasRoom(), true);
  // Every slot came back: two more start at once again.
  const again = [checks.check('sbr_legacy', row), checks.check('sbr_legacx', row)];
  assert.equal(checks.started, 5);
  assert.deepEqual(await Promise.all(again), [true, false]);
});
