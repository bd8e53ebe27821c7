/**
 * The envelope's CPU per message beside the plain send frame (issue 18: ≤ 15% more CPU per
 * message with encryption on). In process, no I/O: per-message µs for building a 1 KiB send
 * frame (the baseline: what the core does for every send) and for sealing and opening a 1 KiB
 * body for 1, 3 and 8 devices, both with the general envelope (envelope.ts: an ephemeral X25519
 * and an Ed25519 signature each) and with the direct-message seal the wire uses (direct.ts:
 * pairwise keys, cached). Bounded: a fixed count per figure.
 */
import { openDirect, sealDirect } from '../lib/node/e2e/direct';
import { open, seal, type RecipientDevice } from '../lib/node/e2e/envelope';
import { generateIdentity } from '../lib/node/e2e/identity';
import { sendFrameOf } from '../server/sync/send-frame';

export interface EnvelopeFigures {
  frameUs: number;
  byDevices: { devices: number; sealUs: number; openUs: number; directSealUs: number; directOpenUs: number }[];
}

function perCallUs(count: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(50, count); i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

export function envelopeBench(count = 2000): EnvelopeFigures {
  const body = 'x'.repeat(1024);
  const plaintext = new TextEncoder().encode(body);
  const frameUs = perCallUs(count * 10, (i) => {
    const message = sendFrameOf({ id: `m-${i}`, client_message_id: `c-${i}`, to: 'bob', body, reply_to: null, request_id: null, created_at: '2026-12-03T14:00:00.000Z' });
    JSON.stringify({ type: 'send', message });
  });
  const sender = { user: 'alice', device: 'a1' };
  const identity = generateIdentity();
  const byDevices = [1, 3, 8].map((devices) => {
    const ids = Array.from({ length: devices }, () => generateIdentity());
    const recipients: RecipientDevice[] = ids.map((id, i) => ({ user: 'bob', device: `b${i}`, dh: id.dhPublic }));
    const sealUs = perCallUs(count, (i) => JSON.stringify(seal({ sender, identity, recipients, plaintext, context: `c-${i}` })));
    const envelope = seal({ sender, identity, recipients, plaintext, context: 'c-open' });
    const me = { user: 'bob', device: `b${devices - 1}` };
    const opener = ids[devices - 1]!;
    const openUs = perCallUs(count, () => open({ envelope, me, identity: opener, senderKey: () => identity.signPublic, context: 'c-open' }));
    const payload = { body, reply_to: null, request_id: null };
    const context = (i: number) => ({ id: `m-${i}`, client_message_id: `c-${i}`, from: 'alice', to: 'bob', created_at: '2026-12-03T14:00:00.000Z' });
    const directSealUs = perCallUs(count, (i) => sealDirect({ sender, identity, recipients, payload, context: context(i) }));
    const sealed = sealDirect({ sender, identity, recipients, payload, context: context(0) });
    const directOpenUs = perCallUs(count, () => openDirect({ sealed, me, identity: opener, context: context(0), senderKey: () => identity.dhPublic }));
    return { devices, sealUs, openUs, directSealUs, directOpenUs };
  });
  return { frameUs, byDevices };
}
