/**
 * Testing relay settings for a person: one connection attempt, hello with the token, hung up
 * right after the welcome. It stores nothing and acks nothing (cursor 0 moves nothing at the
 * relay), so whatever the relay starts sending is simply sent again next time.
 *
 * `init` runs it (probeRelay) when no core is running; a core reports the same for its own
 * first attempt after `config/set` (see SyncEngine.whenConfigured), so both paths say the same
 * thing. `doctor` runs it (checkRelay) with the home's stored settings when no core holds the
 * home: a core's own link already says all this.
 */
import type { RelayCheck, SyncProblem } from '../../protocol/rpc';
import { cleartextRelayProblem } from '../../protocol/relay-url';
import { readConfig, readToken } from '../config';
import type { HomePaths } from '../../lib/node/paths';
import { badUrl, notConfigured, problemOfClose } from './problem';
import { RelayLink, type RelayLinkConnectResult, type RelayLinkFailure } from './relay-link';
import { RELAY_PROTOCOL_V1, RELAY_PROTOCOL_V2 } from '../../protocol/relay';

/** How long `init` waits for the relay's welcome before saying it got no answer. */
export const RELAY_CHECK_MS = 10_000;
/** The goodbye is a courtesy: never wait long for it. */
const GOODBYE_MS = 1000;

/**
 * A link failure as `check.outcome`. That field is part of the wire contract (`config/set`,
 * docs/protocol.md), where a URL that cannot be dialled has always been `url`; everywhere else
 * (a link failure, a `SyncProblem` code) it is `bad_url`.
 */
export function checkOutcome(failure: RelayLinkFailure): RelayCheck['outcome'] {
  return failure === 'bad_url' ? 'url' : failure;
}

/** The stored URL was not dialled at all: what `config/set` with `wait_ms` answers. */
export function badUrlCheck(message: string): RelayCheck {
  return { outcome: checkOutcome('bad_url'), message };
}

/** What a connection attempt with `url` as `user` found, in words a person can act on. */
export function relayCheckOf(result: RelayLinkConnectResult, url: string, user: string): RelayCheck {
  if (result.ok) {
    const v1 = result.welcome.v === RELAY_PROTOCOL_V1 ? ' (the relay speaks protocol v1: direct messages work; upgrade it for groups)' : '';
    return { outcome: 'connected', message: `connected as ${result.welcome.user} to ${url}${v1}` };
  }
  const { close } = result;
  if (close.unauthorized) {
    return { outcome: 'unauthorized', message: `the relay at ${url} refused the token for ${user}; get a new one with \`switchboard relay add-user ${user}\` on the relay's machine` };
  }
  return { outcome: checkOutcome(close.failure ?? 'refused'), message: close.reason || `the relay at ${url} closed the connection (code ${close.code})` };
}

interface Dial {
  url: string;
  user: string;
  token: string;
  /** The home's own device: the relay then learns nothing new about it. */
  device: string;
  timeoutMs: number;
}

/** Dials once, says hello and hangs up at once after the welcome; a relay that refuses v2 is dialled once more with v1, as the core does. */
async function dialOnce(options: Dial): Promise<RelayLinkConnectResult> {
  const result = await dialWith(options, RELAY_PROTOCOL_V2);
  return !result.ok && result.close.versionRefused ? dialWith(options, RELAY_PROTOCOL_V1) : result;
}

async function dialWith(options: Dial, version: number): Promise<RelayLinkConnectResult> {
  const link = new RelayLink();
  // Errors arrive again as the close that ends the attempt; a listener keeps them informational.
  link.on('error', () => {});
  const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
  const result = await link.connect({ url: options.url, user: options.user, token: options.token, device: options.device, cursor: 0, handshakeTimeoutMs: options.timeoutMs, version });
  if (result.ok) {
    link.close(1000, 'settings checked');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, GOODBYE_MS)))]);
    clearTimeout(timer);
  }
  return result;
}

/** `init`: these settings, before they are stored. */
export async function probeRelay(options: Omit<Dial, 'timeoutMs'> & { timeoutMs?: number }): Promise<RelayCheck> {
  const result = await dialOnce({ ...options, timeoutMs: options.timeoutMs ?? RELAY_CHECK_MS });
  return relayCheckOf(result, options.url, options.user);
}

export type RelayReach = { ok: true; relay: string; user: string } | { ok: false; problem: SyncProblem };

/** `doctor`: the home's stored settings. */
export async function checkRelay(paths: HomePaths, timeoutMs: number): Promise<RelayReach> {
  const config = readConfig(paths);
  const token = readToken(paths);
  if (!config.relay || !config.user || !token) return { ok: false, problem: notConfigured() };
  const cleartext = cleartextRelayProblem(config.relay, config.insecure);
  if (cleartext) return { ok: false, problem: badUrl(`refusing to connect: ${cleartext}`, config) };
  const result = await dialOnce({ url: config.relay, user: config.user, token, device: config.device, timeoutMs });
  return result.ok ? { ok: true, relay: config.relay, user: result.welcome.user } : { ok: false, problem: problemOfClose(result.close, config) };
}
