import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toB64 } from '../../lib/node/e2e/bytes';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { generateIdentity } from '../../lib/node/e2e/identity';
import { acceptChange, reconcile, trustState, verifiedRecords } from '../../lib/node/e2e/pins';

const b1 = signDeviceRecord(generateIdentity(), 'bob', 'b1', 1);
const b2 = signDeviceRecord(generateIdentity(), 'bob', 'b2', 1);
const swapped = signDeviceRecord(generateIdentity(), 'bob', 'b1', 2);

test('only records of the user that verify count, one per device, by device id', () => {
  const forged = { ...b2, dh: toB64(generateIdentity().dhPublic) };
  const carol = signDeviceRecord(generateIdentity(), 'carol', 'c1', 1);
  assert.deepEqual(verifiedRecords('bob', [b2, b1, forged, carol]), [b1, b2], 'the forged copy of b2 does not replace the real one');
  assert.deepEqual(verifiedRecords('bob', [forged, carol]), [], 'a forged record and another user’s are dropped');
});

test('the first set is pinned unverified; the same set or part of it keeps the pin and its verification', () => {
  assert.equal(reconcile(undefined, []), undefined, 'nothing to pin');
  const first = reconcile(undefined, [b1, b2])!;
  assert.deepEqual(first, { pinned: [b1, b2], pending: null, verified: false });
  assert.equal(trustState(first), 'unverified');
  const verified = { ...first, verified: true };
  assert.deepEqual(reconcile(verified, [b1, b2]), verified);
  assert.deepEqual(reconcile(verified, [b1]), { pinned: [b1], pending: null, verified: true }, 'a device gone narrows the pin');
  assert.equal(reconcile(verified, []), verified, 'an empty answer changes nothing');
});

test('a replaced key or an added device is a change: the pin stays, the new set waits, until accepted', () => {
  const pinned = { pinned: [b1], pending: null, verified: true };
  const replaced = reconcile(pinned, [swapped])!;
  assert.equal(trustState(replaced), 'changed');
  assert.deepEqual(replaced.pinned, [b1]);
  assert.deepEqual(replaced.pending, [swapped]);
  assert.equal(trustState(reconcile(pinned, [b1, b2])), 'changed', 'an added device');
  const back = reconcile(replaced, [b1])!;
  assert.equal(trustState(back), 'verified', 'the relay showing the pinned keys again clears the change');
  const accepted = acceptChange(replaced);
  assert.deepEqual(accepted, { pinned: [swapped], pending: null, verified: false });
  assert.equal(trustState(accepted), 'unverified');
});
