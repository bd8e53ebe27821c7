/**
 * The client-side rule for relay URLs: the token travels in the first frame, so a `ws://`
 * URL (no TLS) may only lead to this machine unless the user opted in explicitly. Shared by
 * `init`, `config/set` and the core's connect; pure and dependency-free.
 */

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
