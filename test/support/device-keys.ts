/**
 * Direct messages are sent only end-to-end encrypted, to the device keys a recipient published
 * (docs/security.md): a test whose recipient has no core running yet publishes them for it, from
 * the home its core will use later, so that core opens what was sealed for it.
 */
import assert from 'node:assert/strict';
import type { KeysResultFrame } from '../../protocol/relay';
import { RELAY_PROTOCOL_V6 } from '../../protocol/relay';
import { signDeviceRecord } from '../../lib/node/e2e/device-record';
import { loadOrCreateIdentity } from '../../lib/node/e2e/identity';
import { RawRelayClient } from './relay';

/** Publishes the device record of `home`'s identity (made now if it has none) as `user`'s device `device`. */
export async function publishHomeKeys(url: string, user: string, token: string, home: string, device: string): Promise<void> {
  const record = signDeviceRecord(loadOrCreateIdentity(home), user, device, Date.now());
  const client = await RawRelayClient.login(url, user, token, device, 0, RELAY_PROTOCOL_V6);
  try {
    client.sendText(JSON.stringify({ type: 'keys_publish', request_id: 'publish', record }));
    const answer = (await client.next('keys_result' as never)) as unknown as KeysResultFrame;
    assert.equal(answer.result, 'ok', JSON.stringify(answer));
  } finally {
    await client.closeAndWait().catch(() => undefined);
  }
}
