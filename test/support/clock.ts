import type { TestContext } from 'node:test';

/** Freezes `performance.now` (the clock batches and write holds are aged by) for one test; `advance` moves it on. */
export function frozenClock(t: TestContext): { advance(ms: number): void } {
  let now = performance.now();
  t.mock.method(performance, 'now', () => now);
  return { advance: (ms) => (now += ms) };
}
