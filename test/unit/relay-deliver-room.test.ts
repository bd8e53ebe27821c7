/**
 * A message the relay accepts must fit, once wrapped as a deliver frame, under the frame
 * limit the recipient's link enforces: the ledger keeps room for the wrapping. Checked at the
 * boundary, and end to end with the core's own RelayLink as the recipient.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { RELAY_MAX_FRAME_BYTES, type DeliverFrame, type SendFrame } from '../../protocol/relay';
import { addUser } from '../../relay/accounts';
import { sqliteAccounts } from '../../relay/storage/sqlite/storage';
import { RelayLedger } from '../../relay/ledger';
import { RelayStore } from '../../relay/store';
import { addTestUser, makeTempDir, RawRelayClient, startTestRelay } from '../support/relay';
import { RelayLink } from '../../server/sync/relay-link';
import { withTimeout } from '../../lib/node/with-timeout';
import type { DeliverFrameV2 } from '../../protocol/relay';

const OVERHEAD = 64;
const SERVER_ID = '0'.repeat(36); // a UUID's length: the item's size does not depend on its value

function message(cmid: string, body: string): SendFrame['message'] {
  return { id: `id-${cmid}`, client_message_id: cmid, to: 'bob', body, reply_to: null, request_id: null, created_at: '2026-01-01T00:00:00.000Z' };
}

/** A body that makes the stored delivery item exactly `bytes` long. */
function bodyForItem(cmid: string, bytes: number): string {
  const empty = JSON.stringify({ kind: 'message', server_id: SERVER_ID, message: { ...message(cmid, ''), from: 'alice' } });
  return 'x'.repeat(bytes - Buffer.byteLength(empty));
}

test('the ledger accepts an item that leaves room for the deliver frame around it, and refuses one byte more', async () => {
  const dir = makeTempDir();
  const store = RelayStore.open(join(dir.path, 'data'));
  try {
    await addUser(sqliteAccounts(store), 'alice');
    await addUser(sqliteAccounts(store), 'bob');
    const ledger = new RelayLedger(store, RELAY_MAX_FRAME_BYTES);
    const fits = ledger.recordSend('alice', message('fits', bodyForItem('fits', RELAY_MAX_FRAME_BYTES - OVERHEAD)), new Date());
    assert.equal(fits.verdict.result, 'accepted');
    const item = fits.deliveries[0]!.item;
    assert.equal(Buffer.byteLength(item), RELAY_MAX_FRAME_BYTES - OVERHEAD);
    const frame = `{"type":"deliver","seq":${Number.MAX_SAFE_INTEGER},"item":${item}}`;
    assert.ok(Buffer.byteLength(frame) <= RELAY_MAX_FRAME_BYTES, 'even with the largest seq, the frame fits');
    const over = ledger.recordSend('alice', message('over', bodyForItem('over', RELAY_MAX_FRAME_BYTES - OVERHEAD + 1)), new Date());
    assert.ok(over.verdict.result === 'rejected' && !over.verdict.retryable && /too large to deliver once encoded/.test(over.verdict.reason), JSON.stringify(over.verdict));
    assert.deepEqual(over.deliveries, []);
    // Under the frame limit on its own, over it once wrapped: refused, not stored.
    const wrapped = ledger.recordSend('alice', message('wrapped', bodyForItem('wrapped', RELAY_MAX_FRAME_BYTES - 20)), new Date());
    assert.equal(wrapped.verdict.result, 'rejected');
    assert.equal(store.lastSeq('bob'), 1, 'only the one that fits was stored');
  } finally {
    store.close();
    dir.remove();
  }
});

test('the largest accepted message reaches a core through its RelayLink, whose frame limit is the relay frame limit', async () => {
  const dir = makeTempDir();
  const dataDir = join(dir.path, 'data');
  const aliceToken = await addTestUser(dataDir, 'alice');
  const bobToken = await addTestUser(dataDir, 'bob');
  const relay = await startTestRelay({ dataDir, maxBodyBytes: RELAY_MAX_FRAME_BYTES, ratePerSecond: 0 });
  const link = new RelayLink();
  let alice: RawRelayClient | undefined;
  try {
    const delivered = new Promise<DeliverFrameV2>((resolve) => link.on('deliver', resolve));
    const closed = new Promise<unknown>((resolve) => link.once('close', resolve));
    const connected = await withTimeout(link.connect({ url: relay.url, user: 'bob', token: bobToken, device: 'bob-core', cursor: 0 }), 10_000, 'bob to connect');
    assert.equal(connected.ok, true);
    alice = await RawRelayClient.login(relay.url, 'alice', aliceToken, 'a');
    const body = bodyForItem('big', RELAY_MAX_FRAME_BYTES - OVERHEAD);
    alice.sendMessage('bob', body, 'big', { id: 'id-big', created_at: '2026-01-01T00:00:00.000Z' });
    assert.equal((await alice.next('verdict', 10_000)).result, 'accepted');
    const frame = await withTimeout(Promise.race([delivered, closed.then(() => assert.fail('the link was closed instead'))]), 10_000, 'the delivery');
    assert.ok(frame.item.kind === 'message' && frame.item.message.body === body);
  } finally {
    link.close();
    await alice?.closeAndWait().catch(() => undefined);
    await relay.close();
    dir.remove();
  }
});
