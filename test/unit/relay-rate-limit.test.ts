import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRate, RateLimiter } from '../../relay/rate-limit';

test('rate limiter allows a burst of one second, then the steady rate, per user', () => {
  let now = 0;
  const limiter = new RateLimiter(5, () => now);
  const burst = Array.from({ length: 7 }, () => limiter.tryTake('alice'));
  assert.deepEqual(burst, [true, true, true, true, true, false, false]);
  assert.equal(limiter.tryTake('bob'), true, 'buckets are per user');
  now += 200; // one token's worth at 5/s
  assert.equal(limiter.tryTake('alice'), true);
  assert.equal(limiter.tryTake('alice'), false);
});

test('a refill of exactly one token is one token, whatever rounding the fractional clock brings', () => {
  // Readings like these (performance.now() of a real process) make 1608.768713 - 608.768713 come
  // out as 999.9999999999999, so a full second's refill is 1.9999999999999998 tokens.
  let now = 608.768713;
  const limiter = new RateLimiter(2, () => now);
  assert.deepEqual([limiter.tryTake('alice'), limiter.tryTake('alice'), limiter.tryTake('alice')], [true, true, false]);
  now += 1000;
  assert.deepEqual([limiter.tryTake('alice'), limiter.tryTake('alice'), limiter.tryTake('alice')], [true, true, false], 'two tokens a second later');
  now += 500;
  assert.deepEqual([limiter.tryTake('alice'), limiter.tryTake('alice')], [true, false], 'one token half a second later');
});

test('rate 0 disables limiting', () => {
  const limiter = new RateLimiter(0, () => 0);
  for (let i = 0; i < 1000; i++) assert.equal(limiter.tryTake('alice'), true);
});

test('parseRate accepts N and N/s only', () => {
  assert.equal(parseRate('50'), 50);
  assert.equal(parseRate('50/s'), 50);
  assert.equal(parseRate('0.5/s'), 0.5);
  assert.equal(parseRate('fast'), undefined);
  assert.equal(parseRate('5/m'), undefined);
});

test('parseRate trims, and takes fractions of any precision, but nothing around the number', () => {
  assert.equal(parseRate(' 50/s '), 50);
  assert.equal(parseRate('0.25'), 0.25);
  assert.equal(parseRate('x50'), undefined);
  assert.equal(parseRate('50/sec'), undefined);
  assert.equal(parseRate(''), undefined);
});

test('sweep forgets only buckets that have refilled: a user it forgot would get a fresh burst', () => {
  let now = 0;
  const limiter = new RateLimiter(2, () => now);
  assert.deepEqual([limiter.tryTake('alice'), limiter.tryTake('alice')], [true, true]);
  limiter.sweep();
  assert.equal(limiter.tryTake('alice'), false, 'an empty bucket survives a sweep');
  now += 400; // 0.8 of a token
  limiter.sweep();
  assert.equal(limiter.tryTake('alice'), false, 'a bucket still refilling survives a sweep');
  now += 600; // two tokens since the last take: full
  limiter.sweep();
  assert.deepEqual([limiter.tryTake('alice'), limiter.tryTake('alice'), limiter.tryTake('alice')], [true, true, false], 'a full bucket, forgotten or not, allows a burst of two');
});
