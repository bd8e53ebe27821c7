/**
 * Reconnect delays for the sync engine: exponential, capped, and jittered so a relay restart
 * does not bring every core back in the same instant.
 */
export interface BackoffOptions {
  /** Delay scale for the first retry. */
  baseMs: number;
  /** No delay ever exceeds this. */
  maxMs: number;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * "Equal jitter": half of the capped exponential step is fixed, the other half random. The
 * fixed half keeps a flapping relay from being hammered with near-zero delays; the random
 * half spreads the herd. `attempt` counts from 0 (the first retry).
 */
export function backoffDelay(attempt: number, { baseMs, maxMs, random = Math.random }: BackoffOptions): number {
  if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError('baseMs and maxMs must be non-negative numbers');
  const safeAttempt = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // 2 ** 1024 is Infinity; Math.min keeps it at the cap without overflow tricks.
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(safeAttempt, 1023));
  const half = step / 2;
  const jitter = Math.min(Math.max(random(), 0), 1);
  return Math.min(maxMs, Math.round(half + jitter * half));
}
