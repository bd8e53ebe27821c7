import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../server/sync/backoff';

test('backoff grows exponentially between half and all of each step', () => {
  const low = (attempt: number) => backoffDelay(attempt, { baseMs: 100, maxMs: 1_000_000, random: () => 0 });
  const high = (attempt: number) => backoffDelay(attempt, { baseMs: 100, maxMs: 1_000_000, random: () => 0.999999 });
  assert.deepEqual([0, 1, 2, 3].map(low), [50, 100, 200, 400]);
  assert.deepEqual([0, 1, 2, 3].map(high), [100, 200, 400, 800]);
});

test('backoff never exceeds the cap, even for huge attempts', () => {
  for (const attempt of [10, 50, 1023, 5000, Number.MAX_SAFE_INTEGER]) {
    const delay = backoffDelay(attempt, { baseMs: 250, maxMs: 30_000, random: () => 0.999999 });
    assert.ok(delay <= 30_000 && delay >= 15_000, `attempt ${attempt}: ${delay}`);
  }
});

test('backoff jitter spreads delays within the step', () => {
  const delays = new Set<number>();
  let state = 1;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 50; i++) delays.add(backoffDelay(4, { baseMs: 100, maxMs: 60_000, random }));
  assert.ok(delays.size > 10, `expected spread, got ${[...delays].join(',')}`);
  for (const delay of delays) assert.ok(delay >= 800 && delay <= 1600, String(delay));
});

test('backoff treats negative or fractional attempts sanely and clamps bad randoms', () => {
  assert.equal(backoffDelay(-3, { baseMs: 100, maxMs: 1000, random: () => 0 }), 50);
  assert.equal(backoffDelay(1.7, { baseMs: 100, maxMs: 1000, random: () => 0 }), 100);
  assert.equal(backoffDelay(2, { baseMs: 100, maxMs: 1000, random: () => 7 }), 400);
  assert.throws(() => backoffDelay(1, { baseMs: -1, maxMs: 10 }), RangeError);
});
