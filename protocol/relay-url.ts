/**
 * The client-side rule for relay URLs: the token travels in the first frame, so a `ws://`
 * URL (no TLS) may only lead to this machine unless the user opted in explicitly. Shared by
 * `init`, `config/set` and the core's connect; pure and dependency-free.
 */

/** What a person is shown when a relay URL cannot be used, after what is wrong with it. */
export const RELAY_URL_SHAPE = 'a relay URL looks like wss://relay.example.com or ws://127.0.0.1:8787';

/**
 * Why `url` cannot be dialled as a relay, or undefined when it can: it must parse as a URL,
 * use ws:// or wss://, name a host, and carry no #fragment (the WebSocket client refuses one).
 * Every place a URL enters (init, `config/set`, a hand-edited config.json) checks it here, so
 * nothing reaches the WebSocket client that would make it throw.
 */
export function relayUrlProblem(url: string): string | undefined {
  const quoted = JSON.stringify(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${quoted} is not a URL; ${RELAY_URL_SHAPE}`;
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return `${quoted} is not a relay URL (it must start with ws:// or wss://); ${RELAY_URL_SHAPE}`;
  if (parsed.hostname === '') return `${quoted} names no host; ${RELAY_URL_SHAPE}`;
  if (parsed.hash !== '' || url.includes('#')) return `${quoted} has a #fragment, which a relay URL cannot carry; ${RELAY_URL_SHAPE}`;
  return undefined;
}

/** The flag (and config key) that allows `ws://` to another machine. */
export const INSECURE_OPT_IN = '--insecure';

/**
 * 127.0.0.0/8 (also IPv4-mapped), ::1 and localhost: a plain `ws://` there never leaves the
 * machine, and a relay bound there is reachable from this machine only.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').replace(/^::ffff:/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why the token must not go to `url` in clear, or undefined when it may: `wss://`, or `ws://`
 * to a loopback host. `insecure` is the user's explicit opt-in.
 */
export function cleartextRelayProblem(url: string, insecure = false): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a valid URL`;
  }
  if (parsed.protocol !== 'ws:' || insecure || isLoopbackHost(parsed.hostname)) return undefined;
  return `${url} would send the relay token and every message unencrypted to ${parsed.hostname}; use wss:// (see docs/operations.md, TLS), or opt in with \`switchboard init ${INSECURE_OPT_IN}\` on a network you trust`;
}
