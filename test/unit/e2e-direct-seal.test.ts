/**
 * The direct-message seal (lib/node/e2e/direct.ts): pairwise keys, one content key per message,
 * wraps bound to the message, both devices and the ciphertext. Pure, in process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SealedBody } from '../../protocol/e2e';
import { E2eError, fromB64, toB64 } from '../../lib/node/e2e/bytes';
import { xchacha20poly1305 } from '../../lib/node/e2e/aead';
import { directAadForTests, openDirect, pairwiseKey, sealDirect, type DirectContext } from '../../lib/node/e2e/direct';
import { generateIdentity, type DeviceIdentity } from '../../lib/node/e2e/identity';

interface Device {
  user: string;
  device: string;
  identity: DeviceIdentity;
}
const device = (user: string, id: string): Device => ({ user, device: id, identity: generateIdentity() });
const alice = device('alice', 'a1');
const alice2 = device('alice', 'a2');
const bob = device('bob', 'b1');
const bob2 = device('bob', 'b2');
const mallory = device('mallory', 'm1');
const all = [alice, alice2, bob, bob2, mallory];
const address = (d: Device) => ({ user: d.user, device: d.device });
const asRecipient = (d: Device) => ({ ...address(d), dh: d.identity.dhPublic });
const dhOf = (from: { user: string; device: string }) => all.find((d) => d.user === from.user && d.device === from.device)?.identity.dhPublic;

const context: DirectContext = { id: 'm1', client_message_id: 'c1', from: 'alice', to: 'bob', created_at: '2026-12-03T16:00:00.000Z' };
// Each marker holds a character base64url has not ('.', ' '), so ciphertext can never contain one by chance.
const payload = { body: 'SECRET body', reply_to: 'reply.m0', request_id: 'request.r1', mentions: ['bob'] };
const sealFor = (recipients: Device[], ctx = context) => sealDirect({ sender: address(alice), identity: alice.identity, recipients: recipients.map(asRecipient), payload, context: ctx });
const openAs = (d: Device, sealed: string, ctx = context, senderKey = dhOf) => openDirect({ sealed, me: address(d), identity: d.identity, context: ctx, senderKey });
const refused = (fn: () => unknown, reason: E2eError['reason']) => assert.throws(fn, (e: unknown) => e instanceof E2eError && e.reason === reason, `expected ${reason}`);

test('both of bob’s devices and alice’s other device open it, fields intact; the sealed text holds none of them', () => {
  const sealed = sealFor([bob, bob2, alice2]);
  assert.ok(!sealed.includes('SECRET body') && !sealed.includes('reply.m0') && !sealed.includes('request.r1'));
  for (const d of [bob, bob2, alice2]) assert.deepEqual(openAs(d, sealed), payload);
  assert.notEqual(sealFor([bob]), sealFor([bob]), 'a new content key and nonce each time');
});

test('the pairwise key is the same from both sides and differs per pair', () => {
  const ab = pairwiseKey(alice.identity, address(alice), asRecipient(bob));
  assert.deepEqual(pairwiseKey(bob.identity, address(bob), asRecipient(alice)), ab);
  assert.notDeepEqual(pairwiseKey(alice.identity, address(alice), asRecipient(bob2)), ab);
});

test('moved to another message (id, client id, time, recipient, sender) it does not open', () => {
  const sealed = sealFor([bob]);
  for (const change of [{ id: 'm2' }, { client_message_id: 'c2' }, { created_at: '2026-12-03T16:00:01.000Z' }, { to: 'carol' }]) refused(() => openAs(bob, sealed, { ...context, ...change }), 'forged');
  refused(() => openAs(bob, sealed, { ...context, from: 'mallory' }), 'forged');
});

test('a flipped character of the ciphertext, of a wrapped key or of the nonce is refused; a device left out is told so', () => {
  const sealed = sealFor([bob]);
  const body = JSON.parse(sealed) as SealedBody;
  const flip = (s: string) => (s[3] === 'A' ? 'B' : 'A') + s.slice(1, 3) + (s[3] === 'A' ? 'B' : 'A') + s.slice(4);
  const tamper = (change: Partial<SealedBody>) => JSON.stringify({ ...body, ...change });
  refused(() => openAs(bob, tamper({ ct: flip(body.ct) })), 'forged');
  refused(() => openAs(bob, tamper({ keys: [{ ...body.keys[0]!, k: flip(body.keys[0]!.k) }] })), 'forged');
  refused(() => openAs(bob, tamper({ nonce: toB64(new Uint8Array(24)) })), 'forged');
  refused(() => openAs(bob2, sealed), 'not-a-recipient');
  refused(() => openAs(bob, 'not json'), 'malformed');
});

test('a sender device that is not pinned is reported, and a wrap made by another device (mallory, or claiming alice) does not open', () => {
  const sealed = sealFor([bob]);
  refused(() => openAs(bob, sealed, context, () => undefined), 'unknown-sender');
  // Mallory seals under her own pair with bob, but names alice's device as the sender.
  const forged = sealDirect({ sender: address(mallory), identity: mallory.identity, recipients: [asRecipient(bob)], payload, context });
  const relabelled = JSON.stringify({ ...(JSON.parse(forged) as SealedBody), from: address(alice) });
  refused(() => openAs(bob, relabelled), 'forged');
});

test('one recipient device cannot hand another a different body under the same wraps (each wrap covers the ciphertext)', () => {
  const sealed = JSON.parse(sealFor([bob, bob2])) as SealedBody;
  const { contextBytes, contentAad, wrapAad, ctDigest } = directAadForTests;
  const ctx = contextBytes(context);
  const nonce = fromB64(sealed.nonce, 24);
  // bob's device opens its wrap, as it may, and so holds the content key...
  const mine = sealed.keys.find((k) => k.device === bob.device)!;
  const key = pairwiseKey(bob.identity, address(bob), asRecipient(alice));
  const contentKey = xchacha20poly1305(key, nonce, wrapAad(ctx, address(alice), address(bob), nonce, ctDigest(fromB64(sealed.ct)))).decrypt(fromB64(mine.k, 48));
  // ...and encrypts another payload under it, correctly, for bob2 (with alice's wrap for bob2 untouched).
  const forgedCt = xchacha20poly1305(contentKey, nonce, contentAad(ctx, address(alice))).encrypt(new TextEncoder().encode('{"body":"FORGED","reply_to":null,"request_id":null}'));
  refused(() => openAs(bob2, JSON.stringify({ ...sealed, ct: toB64(forgedCt) })), 'forged');
  assert.equal(openAs(bob2, JSON.stringify(sealed)).body, payload.body, 'the honest one opens');
});
