/**
 * `--nats <url>[,<url>…]`: the seed servers of one NATS cluster. The client learns the rest of
 * the cluster from whichever seed answers, so one reachable URL is enough to start.
 */
const SCHEMES = new Set(['nats:', 'tls:']);

/** The URLs, normalized, or a problem a person can act on. A bare `host:port` means nats://. */
export function parseNatsUrls(value: string): { urls: string[] } | { problem: string } {
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) return { problem: '--nats needs at least one URL (nats://host:4222[,nats://host2:4222…])' };
  const urls: string[] = [];
  for (const part of parts) {
    const withScheme = /^[a-z]+:\/\//i.test(part) ? part : `nats://${part}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      return { problem: `--nats: "${part}" is not a URL (nats://host:4222)` };
    }
    if (!SCHEMES.has(url.protocol)) return { problem: `--nats: "${part}" is not a nats:// or tls:// URL` };
    if (url.username || url.password) return { problem: `--nats: "${part}" carries credentials; use --nats-creds <file> instead (a URL ends up in process lists and service files)` };
    if (!url.hostname) return { problem: `--nats: "${part}" has no host` };
    urls.push(`${url.protocol}//${url.host}`);
  }
  return { urls: [...new Set(urls)] };
}
