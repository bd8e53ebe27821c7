import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DeviceKeyRecord, EncryptedEnvelope } from '../../protocol/e2e';
import { deviceKeyRecordSchema, encryptedEnvelopeSchema } from '../../protocol/e2e-schemas';
import { E2eError, fromB64, toB64 } from '../../lib/node/e2e/bytes';
import { signDeviceRecord, verifyDeviceRecord } from '../../lib/node/e2e/device-record';
import { open, seal, signedBytes, type DeviceAddress } from '../../lib/node/e2e/envelope';
import { ed25519Sign } from '../../lib/node/e2e/node-keys';
import { deviceKeysPath, generateIdentity, identityFromSecrets, identityKeys, loadOrCreateIdentity, type DeviceIdentity } from '../../lib/node/e2e/identity';
import { groupSafetyNumber, normaliseSafetyNumber, safetyNumber } from '../../lib/node/e2e/safety-number';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

interface Device extends DeviceAddress {
  identity: DeviceIdentity;
}

function device(user: string, id: string): Device {
  return { user, device: id, identity: generateIdentity() };
}

const alice = device('alice', 'a1');
const bob = device('bob', 'b1');
const bob2 = device('bob', 'b2');
const alice2 = device('alice', 'a2');
const mallory = device('mallory', 'm1');
const known = new Map([alice, bob, bob2, alice2, mallory].map((d) => [`${d.user}/${d.device}`, d.identity.signPublic]));
const lookup = (from: DeviceAddress) => known.get(`${from.user}/${from.device}`);

function sealFor(recipients: Device[], plaintext = 'hello bob', context = 'msg-1'): EncryptedEnvelope {
  return seal({ sender: alice, identity: alice.identity, recipients: recipients.map((r) => ({ user: r.user, device: r.device, dh: r.identity.dhPublic })), plaintext: new TextEncoder().encode(plaintext), context });
}

function openAs(me: Device, envelope: EncryptedEnvelope, context = 'msg-1'): string {
  return text(open({ envelope, me, identity: me.identity, senderKey: lookup, context }));
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof E2eError, `an E2eError, not ${String(error)}`);
    return error.reason;
  }
  return 'opened';
}

/** The same base64url value with one bit of byte `at` flipped. */
function flip(value: string, at = 0): string {
  const bytes = fromB64(value);
  bytes[at] = bytes[at]! ^ 0x01;
  return toB64(bytes);
}

test('every recipient device, and the sender’s own other device, opens the envelope; the ciphertext is not the plaintext', () => {
  const envelope = sealFor([bob, bob2, alice2], 'marker-7f3a secret stack trace');
  assert.equal(openAs(bob, envelope), 'marker-7f3a secret stack trace');
  assert.equal(openAs(bob2, envelope), 'marker-7f3a secret stack trace');
  assert.equal(openAs(alice2, envelope), 'marker-7f3a secret stack trace');
  assert.ok(!JSON.stringify(envelope).includes('marker-7f3a'));
  assert.equal(encryptedEnvelopeSchema.safeParse(envelope).success, true, 'what seal makes, the schema accepts');
  assert.notEqual(sealFor([bob]).ct, sealFor([bob]).ct, 'a fresh key and nonce each time');
});

test('a device not among the recipients cannot open it, even holding the envelope', () => {
  const envelope = sealFor([bob]);
  assert.equal(reason(() => openAs(mallory, envelope)), 'not-a-recipient');
  // Mallory relabels Bob's wrapped key as hers: the signature no longer covers it.
  const relabelled = { ...envelope, keys: [{ ...envelope.keys[0]!, user: 'mallory', device: 'm1' }] };
  assert.equal(reason(() => openAs(mallory, relabelled)), 'forged');
});

test('a flipped byte of the ciphertext, of the wrapped key, of the nonce, of the ephemeral key or of the signature is refused', () => {
  const envelope = sealFor([bob]);
  assert.equal(openAs(bob, envelope), 'hello bob');
  assert.equal(reason(() => openAs(bob, { ...envelope, ct: flip(envelope.ct, 3) })), 'forged', 'ciphertext');
  assert.equal(reason(() => openAs(bob, { ...envelope, keys: [{ ...envelope.keys[0]!, k: flip(envelope.keys[0]!.k, 5) }] })), 'forged', 'wrapped key');
  assert.equal(reason(() => openAs(bob, { ...envelope, nonce: flip(envelope.nonce) })), 'forged', 'nonce');
  assert.equal(reason(() => openAs(bob, { ...envelope, epk: flip(envelope.epk) })), 'forged', 'ephemeral key');
  assert.equal(reason(() => openAs(bob, { ...envelope, sig: flip(envelope.sig, 10) })), 'forged', 'signature');
});

test('a recipient rewrapped by someone else is refused: the signature is the sender’s, over every wrapped key', () => {
  // Mallory seals her own content for Bob, then grafts Alice's name and signature onto it.
  const mine = seal({ sender: { user: 'alice', device: 'a1' }, identity: mallory.identity, recipients: [{ user: 'bob', device: 'b1', dh: bob.identity.dhPublic }], plaintext: new TextEncoder().encode('pay mallory'), context: 'msg-1' });
  assert.equal(reason(() => openAs(bob, mine)), 'forged', 'signed by a key that is not the one pinned for alice/a1');
  const real = sealFor([bob]);
  assert.equal(reason(() => openAs(bob, { ...real, ct: mine.ct, nonce: mine.nonce })), 'forged');
});

test('an envelope moved to another context (another message) does not open', () => {
  const envelope = sealFor([bob], 'hi', 'msg-1');
  assert.equal(reason(() => openAs(bob, envelope, 'msg-2')), 'forged');
});

test('a sender whose key is not known is reported as such, never opened', () => {
  const envelope = seal({ sender: { user: 'carol', device: 'c1' }, identity: generateIdentity(), recipients: [{ user: 'bob', device: 'b1', dh: bob.identity.dhPublic }], plaintext: new Uint8Array([1]), context: 'x' });
  assert.equal(reason(() => openAs(bob, envelope, 'x')), 'unknown-sender');
});

test('a device record verifies under its own key; any change to it is refused', () => {
  const record = signDeviceRecord(bob.identity, 'bob', 'b1', 1_700_000_000_000);
  assert.equal(deviceKeyRecordSchema.safeParse(record).success, true);
  assert.deepEqual(verifyDeviceRecord(record).dh, bob.identity.dhPublic);
  assert.throws(() => verifyDeviceRecord({ ...record, dh: toB64(mallory.identity.dhPublic) }), E2eError, 'a swapped key-agreement key');
  assert.throws(() => verifyDeviceRecord({ ...record, user: 'bobby' }), E2eError, 'another user');
  assert.throws(() => verifyDeviceRecord({ ...record, device: 'b9' }), E2eError, 'another device');
  assert.throws(() => verifyDeviceRecord({ ...record, created_at: 1 }), E2eError, 'another time');
  assert.throws(() => verifyDeviceRecord({ ...record, sig: flip(record.sig) }), E2eError, 'a flipped signature');
  assert.throws(() => verifyDeviceRecord({ ...record, sign: toB64(mallory.identity.signPublic) }), E2eError, 'a swapped signing key');
});

test('the device keys are made once per home, 0600, and the same keys come back', () => {
  const home = mkdtempSync(join(tmpdir(), 'sb-e2e-'));
  try {
    const first = loadOrCreateIdentity(home);
    const again = loadOrCreateIdentity(home);
    assert.deepEqual(again.signPublic, first.signPublic);
    assert.deepEqual(again.dhSecret, first.dhSecret);
    const path = deviceKeysPath(home);
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    const stored = readFileSync(path, 'utf8');
    assert.ok(!stored.includes(toB64(first.signPublic)), 'public halves are derived, not stored');
    chmodSync(path, 0o644);
    loadOrCreateIdentity(home);
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600, 'a loosened file is tightened');
    writeFileSync(path, '{"v":1}');
    assert.throws(() => loadOrCreateIdentity(home), /version-1 device keys/, 'a damaged file is refused, never replaced by new keys');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a safety number is 60 digits, the same from both sides, and changes with either side’s keys', () => {
  const a = { user: 'alice', signKeys: [alice.identity.signPublic, alice2.identity.signPublic] };
  const b = { user: 'bob', signKeys: [bob.identity.signPublic] };
  const n = safetyNumber(a, b);
  assert.match(n, /^\d{60}$/);
  assert.equal(safetyNumber(b, a), n, 'symmetric');
  assert.equal(safetyNumber({ ...a, signKeys: [...a.signKeys].reverse() }, b), n, 'device order does not matter');
  assert.notEqual(safetyNumber(a, { ...b, signKeys: [mallory.identity.signPublic] }), n, 'a swapped key changes it');
  assert.notEqual(safetyNumber(a, { ...b, signKeys: [bob.identity.signPublic, bob2.identity.signPublic] }), n, 'a new device changes it');
  assert.equal(n.slice(0, 30), safetyNumber(a, { user: 'carol', signKeys: [mallory.identity.signPublic] }).slice(0, 30), 'each half is one user’s');
  const grouped = groupSafetyNumber(n);
  assert.match(grouped, /^(\d{5} ){11}\d{5}$/);
  assert.equal(normaliseSafetyNumber(grouped), n);
});

/**
 * Known answers, made by the first implementation (the pure-JS @noble curves and hashes) from
 * fixed secrets and fixed randomness: the node:crypto one must derive the same public keys,
 * open that envelope and make it again byte for byte, so envelopes, key records and key files
 * from before the switch stay valid, and the wire format did not move.
 */
const fill = (b: number, n = 32) => new Uint8Array(n).fill(b).map((v, i) => (v + i * 7) & 0xff);
const KAT: { pubs: Record<'aliceSign' | 'aliceDh' | 'bobSign' | 'bobDh' | 'bob2Dh', string>; env: EncryptedEnvelope; rec: DeviceKeyRecord } = {
  "pubs": {
    "aliceSign": "5AMJmM_VrRcjwWn5VqoLnrhhm1mSvWEsKvQo68efjfA",
    "aliceDh": "c-eZcckRAClyNjKoC3B79PYsEldjNG4ehxjWwNzDqjo",
    "bobSign": "dVxMuSVsp83ErP3Gz-7ahJAX5bn5UU6ZGRvWfgsNQnY",
    "bobDh": "905bt1FdVlJ0lnr3XYhJfcb8f81gfandkaYX24atARA",
    "bob2Dh": "pZbT_mBUiLah9eiPxp64oV_J2edeexUsZrprNT42onk"
  },
  "env": {
    "v": 1,
    "from": {
      "user": "alice",
      "device": "a1"
    },
    "epk": "G3kDo6E9WBsxVzUte5yTbJW5Hput4voHdNlu9awXoTU",
    "nonce": "ChEYHyYtNDtCSVBXXmVsc3qBiI-WnaSr",
    "ct": "6GxrJ704q7xgBsOuFpwAyLEM0_fJPECH8mmP8u9BzDPhS3926ClySg",
    "keys": [
      {
        "user": "bob",
        "device": "b1",
        "k": "WgjrFmzHMhKDPGNPYq980g7YI4XxuNQLxlYdDJQhh8dFtg1O-3NUCzKhw3kxWx8o"
      },
      {
        "user": "bob",
        "device": "b2",
        "k": "vvm38NMp1qxL5xbl5iY4f1QBAMJUH2lXfxpgEaz6gjT3IKGDP_VCxJNxYHvCJwz3"
      }
    ],
    "sig": "nkoAPClRbbksAav-TD-x-rgswocQnPYetUSK27dEjLG31BAlyeSD0TnLQD3RWgxlAtj1XT-sf0EeVYXtkGJ2Cg"
  },
  "rec": {
    "v": 1,
    "user": "bob",
    "device": "b1",
    "sign": "dVxMuSVsp83ErP3Gz-7ahJAX5bn5UU6ZGRvWfgsNQnY",
    "dh": "905bt1FdVlJ0lnr3XYhJfcb8f81gfandkaYX24atARA",
    "created_at": 1700000000000,
    "sig": "xK421D_f44utziI8ii2kzzWgYGkxIMirtCT1fzmcf6t0GzlU8ORh1bJm4VcoLJ9Nkrfu3HLbz-9d7dfAt7BcCQ"
  }
};

test('known answers from the pure-JS implementation: same public keys, same envelope byte for byte, same record; it opens', () => {
  const a = identityFromSecrets(fill(1), fill(2));
  const b = identityFromSecrets(fill(3), fill(4));
  const b2 = identityFromSecrets(fill(5), fill(6));
  assert.deepEqual([toB64(a.signPublic), toB64(a.dhPublic), toB64(b.signPublic), toB64(b.dhPublic), toB64(b2.dhPublic)], [KAT.pubs.aliceSign, KAT.pubs.aliceDh, KAT.pubs.bobSign, KAT.pubs.bobDh, KAT.pubs.bob2Dh]);
  const input = { sender: { user: 'alice', device: 'a1' }, identity: a, recipients: [{ user: 'bob', device: 'b1', dh: b.dhPublic }, { user: 'bob', device: 'b2', dh: b2.dhPublic }], plaintext: new TextEncoder().encode('known answer: marker-kat'), context: 'msg-kat' };
  assert.deepEqual(seal(input, { contentKey: fill(9), nonce: fill(10, 24), ephemeralSecret: fill(11) }), KAT.env);
  const senderKey = () => a.signPublic;
  assert.equal(text(open({ envelope: KAT.env, me: { user: 'bob', device: 'b1' }, identity: b, senderKey, context: 'msg-kat' })), 'known answer: marker-kat');
  assert.equal(text(open({ envelope: KAT.env, me: { user: 'bob', device: 'b2' }, identity: b2, senderKey, context: 'msg-kat' })), 'known answer: marker-kat');
  assert.deepEqual(signDeviceRecord(b, 'bob', 'b1', 1_700_000_000_000), KAT.rec, 'Ed25519 is deterministic: the same record and signature');
  assert.deepEqual(verifyDeviceRecord(KAT.rec).dh, b.dhPublic);
});

test('a low-order ephemeral key (an all-zero shared secret), even signed by the real sender, is refused as forged', () => {
  const envelope = sealFor([bob]);
  // 0 and 1 are points of small order on Curve25519: X25519 with them is all zeros, whatever the secret.
  for (const point of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
    const { sig: _, ...unsigned } = { ...envelope, epk: toB64(point) };
    const resigned = { ...unsigned, sig: toB64(ed25519Sign(identityKeys(alice.identity).sign, signedBytes(new TextEncoder().encode('msg-1'), unsigned))) };
    assert.equal(reason(() => openAs(bob, resigned)), 'forged');
  }
});
