/** One test per cell of the idempotency table, against the real store through the service. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { OUTBOX_STATES, type OutboxState } from '../../protocol/rpc';
import { Core } from '../../server/core';
import { CoreError } from '../../server/errors';
import { coreSendFingerprint } from '../../lib/node/send-fingerprint';
import { canonicalJson } from '../support/canonical-json';
import { decideIdempotency } from '../../server/idempotency';
import { silentLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { tempHome } from '../support/cli';

describe('fingerprint', () => {
  test('key order and absent-vs-null do not change it; content does', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    assert.equal(coreSendFingerprint({ to: 'bob', body: 'hi' }), coreSendFingerprint({ body: 'hi', to: 'bob', reply_to: null }));
    assert.notEqual(coreSendFingerprint({ to: 'bob', body: 'hi' }), coreSendFingerprint({ to: 'bob', body: 'hi!' }));
    assert.notEqual(coreSendFingerprint({ to: 'bob', body: 'hi' }), coreSendFingerprint({ to: 'bob', body: 'hi', reply_to: 'x' }));
    // Fingerprints are stored: the fast encoding must stay the canonical one.
    const content = { to: 'bob', body: 'hi "there"\n', reply_to: 'r', request_id: null };
    assert.equal(coreSendFingerprint(content), createHash('sha256').update(canonicalJson(content)).digest('hex'));
  });
});

describe('idempotency decision table', () => {
  const expected: Record<OutboxState, [match: ReturnType<typeof decideIdempotency>, mismatch: ReturnType<typeof decideIdempotency>]> = {
    pending: [{ action: 'earlier', status: 'queued' }, { action: 'conflict' }],
    inflight: [{ action: 'earlier', status: 'queued' }, { action: 'conflict' }],
    done: [{ action: 'earlier', status: 'duplicate' }, { action: 'conflict' }],
    dead: [{ action: 'refuse', reason: 'dead' }, { action: 'conflict' }],
    aborted: [{ action: 'refuse', reason: 'aborted' }, { action: 'conflict' }],
    expired: [{ action: 'refuse', reason: 'expired' }, { action: 'conflict' }],
  };
  test('no earlier send: insert', () => assert.deepEqual(decideIdempotency(undefined, 'f'), { action: 'insert' }));
  for (const state of OUTBOX_STATES) {
    test(`${state} × match`, () => assert.deepEqual(decideIdempotency({ state, fingerprint: 'f', verdict: 'sent' }, 'f'), expected[state][0]));
    test(`${state} × mismatch`, () => assert.deepEqual(decideIdempotency({ state, fingerprint: 'f', verdict: 'sent' }, 'g'), expected[state][1]));
  }
});

describe('idempotent send through the store', () => {
  let core: Core;
  let cleanup: () => void;
  beforeEach(async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    core = await Core.start(homePaths(t.home), { serve: false, sync: false, log: silentLogger });
  });
  afterEach(async () => {
    await core.stop();
    cleanup();
  });

  /** Sends once, then forces the outbox row into `state` as the sync engine or a user would. */
  async function sendIn(state: OutboxState) {
    const first = await core.service.send({ to: 'bob', body: 'hello', client_message_id: 'cid' });
    const now = new Date().toISOString();
    await core.service.writes.run(() => {
      if (state === 'done') core.service.repo.recordOutboxVerdict(first.id, 'sent', 'srv-1', now);
      else if (state === 'dead') core.service.repo.recordOutboxFailure(first.id, 'dead', 'relay said no', now);
      else core.service.repo.setOutboxState(first.id, state, now);
    });
    return first;
  }

  const expectedStatus: Record<OutboxState, string> = { pending: 'queued', inflight: 'queued', done: 'duplicate', dead: 'failed', aborted: 'failed', expired: 'failed' };
  for (const state of OUTBOX_STATES) {
    test(`${state} × same content answers the earlier verdict without storing anything`, async () => {
      const first = await sendIn(state);
      const again = await core.service.send({ body: 'hello', to: 'bob', client_message_id: 'cid' });
      assert.equal(again.id, first.id);
      assert.equal(again.status, expectedStatus[state]);
      if (state === 'dead' || state === 'aborted' || state === 'expired') assert.match(again.reason ?? '', /outbox requeue/);
      assert.equal(core.service.repo.outboxRows().length, 1);
    });
    test(`${state} × different content is a conflict naming the earlier message`, async () => {
      const first = await sendIn(state);
      await assert.rejects(core.service.send({ to: 'bob', body: 'changed', client_message_id: 'cid' }), (e: unknown) => e instanceof CoreError && e.data.kind === 'conflict' && e.data.id === first.id);
      assert.equal(core.service.repo.outboxRows().length, 1);
    });
  }

  test('requeue mints a new id and client id, and marks the old entry aborted', async () => {
    const first = await sendIn('dead');
    const requeued = await core.service.requeue(first.id);
    assert.equal(requeued.aborted, first.id);
    assert.notEqual(requeued.item.id, first.id);
    assert.notEqual(requeued.item.client_message_id, 'cid');
    assert.equal(requeued.item.state, 'pending');
    assert.equal(core.service.repo.outboxById(first.id)?.state, 'aborted');
    // The old client id stays refused rather than silently retried.
    assert.equal((await core.service.send({ to: 'bob', body: 'hello', client_message_id: 'cid' })).status, 'failed');
  });

  test('a done entry can be neither requeued nor aborted', async () => {
    const first = await sendIn('done');
    await assert.rejects(core.service.requeue(first.id), /already delivered/);
    await assert.rejects(core.service.abort(first.id), /already delivered/);
  });
});
