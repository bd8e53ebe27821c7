/**
 * One real hello with the home's settings, for `doctor`: reaches the relay, presents the
 * token and closes right after the welcome. It stores nothing and acks nothing (cursor 0
 * moves nothing at the relay), so whatever the relay starts sending is simply sent again
 * next time. Run only when no core holds the home: a core's own link already says all this.
 */
import type { SyncProblem } from '../../protocol/rpc';
import { cleartextRelayProblem } from '../../protocol/relay-url';
import { readConfig, readToken } from '../config';
import type { HomePaths } from '../paths';
import { badUrl, notConfigured, problemOfClose } from './problem';
import { RelayLink } from './relay-link';

export type RelayCheck = { ok: true; relay: string; user: string } | { ok: false; problem: SyncProblem };

export async function checkRelay(paths: HomePaths, timeoutMs: number): Promise<RelayCheck> {
  const config = readConfig(paths);
  const token = readToken(paths);
  if (!config.relay || !config.user || !token) return { ok: false, problem: notConfigured() };
  const cleartext = cleartextRelayProblem(config.relay, config.insecure);
  if (cleartext) return { ok: false, problem: badUrl(`refusing to connect: ${cleartext}`, config) };
  const link = new RelayLink();
  // Errors arrive again as the close that ends the attempt; a listener keeps them informational.
  link.on('error', () => {});
  const result = await link.connect({ url: config.relay, user: config.user, token, device: config.device, cursor: 0, handshakeTimeoutMs: timeoutMs });
  if (!result.ok) return { ok: false, problem: problemOfClose(result.close, config) };
  const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
  link.close(1000, 'checked');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  return { ok: true, relay: config.relay, user: result.welcome.user };
}
