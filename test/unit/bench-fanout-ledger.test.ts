/** The fan-out bench's tally: a delivery missing, duplicated or never sent must fail the bench, not flatter it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanoutLedger, memberName } from '../../bench/fanout-ledger';

test('fan-out ledger: a message completes once every member has it, exactly once', () => {
  const completed: number[] = [];
  const ledger = new FanoutLedger(3, 4, () => completed.push(completed.length));
  ledger.delivered(0, 'fo-relay-3-0', 2);
  ledger.delivered(1, 'fo-relay-3-0', 2);
  assert.equal(completed.length, 0);
  assert.deepEqual(ledger.missing(2), ['message 0: 1 of 3 members', 'message 1: 3 of 3 members']);
  ledger.delivered(2, 'fo-relay-3-0', 2);
  assert.equal(completed.length, 1);
  assert.deepEqual(ledger.missing(1), []);
  assert.deepEqual(ledger.failures, []);
});

test('fan-out ledger: a duplicate is a failure and does not count towards completion', () => {
  let completed = 0;
  const ledger = new FanoutLedger(2, 2, () => completed++);
  ledger.delivered(0, 'fo-x-2-1', 2);
  ledger.delivered(0, 'fo-x-2-1', 2);
  assert.equal(completed, 0, 'member 1 has not received it yet');
  assert.deepEqual(ledger.failures, [`${memberName(0)} received fo-x-2-1 twice`]);
  assert.deepEqual(ledger.missing(2), ['message 0: 2 of 2 members', 'message 1: 1 of 2 members']);
});

test('fan-out ledger: a message that was never sent is a failure', () => {
  let completed = 0;
  const ledger = new FanoutLedger(1, 4, () => completed++);
  ledger.delivered(0, 'fo-x-1-2', 2);
  ledger.delivered(0, 'fo-x-1-nope', 2);
  assert.equal(completed, 0);
  assert.deepEqual(ledger.failures, [`${memberName(0)} received fo-x-1-2, which was not sent`, `${memberName(0)} received fo-x-1-nope, which was not sent`]);
});
