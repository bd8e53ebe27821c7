/** Why the relay cannot be reached, and why a send is queued: codes for scripts, sentences that name the fix. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { notConfigured, problemOfClose, pullTimeout, queuedReason, type QueuedContext } from '../../server/sync/problem';
import { badUrlCheck, relayCheckOf } from '../../server/sync/relay-probe';

const settings = { relay: 'ws://127.0.0.1:8787', user: 'bob' };
const closed = (failure: Parameters<typeof problemOfClose>[0]['failure'], reason = 'why', unauthorized = false) => ({ code: 1006, reason, unauthorized, failure });

test('problemOfClose: each failure keeps its code; a refused token names the user and the init that fixes it', () => {
  assert.deepEqual(problemOfClose(closed('unreachable', 'relay unreachable at x'), settings), { code: 'unreachable', message: 'relay unreachable at x' });
  assert.equal(problemOfClose(closed('timeout'), settings).code, 'timeout');
  assert.equal(problemOfClose(closed('tls'), settings).code, 'tls');
  assert.equal(problemOfClose(closed('refused'), settings).code, 'refused');
  assert.deepEqual(problemOfClose(closed('not_relay', 'x is not a Switchboard relay'), settings), {
    code: 'not_relay',
    message: 'x is not a Switchboard relay; check the URL and port, then run `switchboard init --relay <ws-url> --user bob --token <token>`',
  });
  assert.equal(problemOfClose(closed('bad_url'), settings).code, 'bad_url');
  // Unauthorized wins over whatever else the close says.
  const refused = problemOfClose(closed('refused', 'unauthorized', true), settings);
  assert.equal(refused.code, 'unauthorized');
  assert.match(refused.message, /^the relay refused the token for bob; .*`switchboard relay revoke bob`.*`switchboard relay add-user bob`.* run `switchboard init --relay ws:\/\/127\.0\.0\.1:8787 --user bob --token <token>`$/);
  // A link that was open and then closed.
  assert.deepEqual(problemOfClose({ code: 1001, reason: '', unauthorized: false }, settings), { code: 'disconnected', message: 'lost the link to the relay at ws://127.0.0.1:8787: connection closed (code 1001)' });
});

test('pullTimeout: unreachable while dialling, partial while sending', () => {
  assert.deepEqual(pullTimeout(settings, 3000, false), { code: 'timeout', message: 'relay unreachable at ws://127.0.0.1:8787: no answer within 3 s' });
  assert.match(pullTimeout(settings, 2500, true).message, /was still sending after 2\.5 s; run the command again for the rest$/);
});

test('queuedReason: the first cause that applies, and who retries (or what fixes it)', () => {
  const base: QueuedContext = { problem: null, online: true, waitedMs: 10_000, deferred: null, oneShot: false, relay: settings.relay };
  const core = '; the core retries it automatically (see `switchboard outbox`)';
  const noCore = '; it is retried automatically while a core runs — start one with `switchboard daemon start`';
  assert.deepEqual(queuedReason({ ...base, deferred: 'rate limit exceeded', problem: notConfigured() }), { reason_code: 'deferred', reason: `the relay deferred it: rate limit exceeded${core}` });
  // Settings problems: the fix, and no promise of a retry that cannot help.
  assert.deepEqual(queuedReason({ ...base, online: false, problem: notConfigured() }), { reason_code: 'not_configured', reason: notConfigured().message });
  for (const code of ['unauthorized', 'tls', 'not_relay', 'bad_url'] as const) {
    assert.deepEqual(queuedReason({ ...base, online: false, problem: { code, message: 'm' }, oneShot: true }), { reason_code: code, reason: 'm' });
  }
  assert.deepEqual(queuedReason({ ...base, online: false, problem: { code: 'unreachable', message: 'relay unreachable at x' }, oneShot: true }), { reason_code: 'unreachable', reason: `relay unreachable at x${noCore}` });
  assert.deepEqual(queuedReason({ ...base, waitedMs: 0, online: false }), { reason_code: 'not_waited', reason: `not yet at the relay (--wait 0 does not wait for its verdict)${core}` });
  assert.deepEqual(queuedReason({ ...base, online: false }), { reason_code: 'timeout', reason: `still connecting to the relay at ws://127.0.0.1:8787${core}` });
  assert.deepEqual(queuedReason({ ...base, waitedMs: 1500 }), { reason_code: 'no_verdict', reason: `the relay has not answered within 1.5 s${core}` });
});

test("relayCheckOf: check.outcome keeps its wire words; a URL that cannot be dialled is `url` there, `bad_url` as a failure", () => {
  const url = 'ws://127.0.0.1:8787';
  const outcomeOf = (failure: Parameters<typeof problemOfClose>[0]['failure']) => relayCheckOf({ ok: false, close: closed(failure) }, url, 'bob').outcome;
  assert.equal(outcomeOf('bad_url'), 'url');
  for (const failure of ['unreachable', 'timeout', 'tls', 'not_relay', 'refused'] as const) assert.equal(outcomeOf(failure), failure);
  assert.equal(outcomeOf(undefined), 'refused');
  assert.deepEqual(badUrlCheck('refusing to connect: x'), { outcome: 'url', message: 'refusing to connect: x' });
});
