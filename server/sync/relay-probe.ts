/**
 * Testing relay settings for a person: one connection attempt, hello with the token, and what
 * it found in one line (connected, token refused, unreachable, TLS, not a relay). `init` runs
 * it when no core is running; a core reports the same for its own first attempt after
 * `config/set` (see SyncEngine.whenConfigured), so both paths say the same thing.
 */
import type { RelayCheck } from '../../protocol/rpc';
import { RelayLink, type RelayLinkConnectResult } from './relay-link';

/** How long `init` waits for the relay's welcome before saying it got no answer. */
export const RELAY_CHECK_MS = 10_000;

/** What a connection attempt with `url` as `user` found, in words a person can act on. */
export function relayCheckOf(result: RelayLinkConnectResult, url: string, user: string): RelayCheck {
  if (result.ok) return { outcome: 'connected', message: `connected as ${result.welcome.user} to ${url}` };
  const { close } = result;
  if (close.unauthorized) {
    return { outcome: 'unauthorized', message: `the relay at ${url} refused the token for ${user}; get a new one with \`switchboard relay add-user ${user}\` on the relay's machine` };
  }
  return { outcome: close.failure ?? 'refused', message: close.reason || `the relay at ${url} closed the connection (code ${close.code})` };
}

/**
 * Dials the relay with these settings, says hello and hangs up at once after the welcome.
 * `device` should be the home's own device: the relay then learns nothing new about it, and
 * anything it starts to deliver is simply offered again to the next connection.
 */
export async function probeRelay(options: { url: string; user: string; token: string; device: string; timeoutMs?: number }): Promise<RelayCheck> {
  const link = new RelayLink();
  const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
  const result = await link.connect({ url: options.url, user: options.user, token: options.token, device: options.device, cursor: 0, handshakeTimeoutMs: options.timeoutMs ?? RELAY_CHECK_MS });
  if (result.ok) {
    link.close(1000, 'settings checked');
    // The goodbye is a courtesy: never wait long for it.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
  return relayCheckOf(result, options.url, options.user);
}
