/**
 * Per-user token buckets: a user may burst up to one second's worth of sends, then is held to
 * the steady rate. A limited send is rejected as retryable, never silently dropped or queued.
 */
/**
 * Clock readings are fractional milliseconds, so a refill of exactly one token can come out as
 * 0.9999999999999998: a send that is on time must not be refused for a rounding error.
 */
const TOKEN_EPSILON = 1e-9;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  /** `perSecond` of 0 or less disables limiting. */
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  tryTake(key: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = this.now();
    const capacity = Math.max(1, this.perSecond);
    const bucket = this.buckets.get(key) ?? { tokens: capacity, updatedAt: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1 - TOKEN_EPSILON) return false;
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    return true;
  }

  /** Forgets users with full buckets so the map does not grow with every user ever seen. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond >= Math.max(1, this.perSecond)) this.buckets.delete(key);
    }
  }
}

/** Parses `--rate` values such as `50`, `50/s` or `0` (unlimited). */
export function parseRate(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
