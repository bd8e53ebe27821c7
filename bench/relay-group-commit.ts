/**
 * The relay's durable sends per second with and without group commit, measured in one run so
 * the two figures share a machine and a disk: phase `relay` of `npm run bench`.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addTestUser, makeTempDir, RawRelayClient, startTestRelay } from '../test/support/relay';

const SENDERS = 4;
const MESSAGES_PER_SENDER = 2000;

export async function relaySendsPerSecond(groupCommit: boolean): Promise<number> {
  const dir = makeTempDir('relay-measure-');
  try {
    const dataDir = join(dir.path, 'data');
    const tokens = await Promise.all(Array.from({ length: SENDERS }, (_, i) => addTestUser(dataDir, `sender${i}`)));
    await addTestUser(dataDir, 'sink');
    const relay = await startTestRelay({ dataDir, groupCommit, ratePerSecond: 0 });
    const clients = await Promise.all(tokens.map((token, i) => RawRelayClient.login(relay.url, `sender${i}`, token, 'bench')));
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, i) => {
        for (let n = 0; n < MESSAGES_PER_SENDER; n++) client.sendMessage('sink', `message ${n}`, `s${i}-${n}`);
        await client.take('verdict', MESSAGES_PER_SENDER, 120_000);
      }),
    );
    const elapsed = performance.now() - started;
    await Promise.all(clients.map((client) => client.closeAndWait()));
    await relay.close();
    return (SENDERS * MESSAGES_PER_SENDER) / (elapsed / 1000);
  } finally {
    dir.remove();
  }
}
