/**
 * CoreService.send and requeue, in this process against a real store (no relay: the core is
 * not configured, so nothing leaves). What a send refuses before storing anything, what it
 * answers for each earlier row, and the words it answers with. Written from the mutants that
 * survived `--mutate server/service.ts` (docs/testing.md, "Mutation testing").
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { RELAY_MAX_FRAME_BYTES } from '../../protocol/relay';
import { ErrorCodes } from '../../protocol/rpc';
import { Core } from '../../server/core';
import { CoreError } from '../../server/errors';
import { sendFrameBytes, sendFrameOf } from '../../server/sync/send-frame';
import { silentLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { tempHome } from '../support/cli';

let core: Core;
let cleanup: () => void;

beforeEach(async () => {
  const t = tempHome('sb-service-send-');
  cleanup = t.cleanup;
  core = await Core.start(homePaths(t.home), { serve: false, sync: false, log: silentLogger });
});

afterEach(async () => {
  await core.stop();
  cleanup();
});

const outboxCount = () => core.service.repo.outboxRows().length;
const now = () => new Date().toISOString();

describe('what a send refuses before storing anything', () => {
  test('a reply to a message this store does not hold is refused; a reply to one it holds is stored', async () => {
    await assert.rejects(
      core.service.send({ to: 'bob', body: 're', reply_to: 'no-such-message' }),
      (e: unknown) => e instanceof CoreError && e.code === ErrorCodes.InvalidParams && /reply_to: no message no-such-message in this store; check the id/.test(e.message),
    );
    assert.equal(outboxCount(), 0);
    const first = await core.service.send({ to: 'bob', body: 'first' });
    const reply = await core.service.send({ to: 'bob', body: 're', reply_to: first.id });
    assert.equal(reply.status, 'queued');
    assert.equal(core.service.repo.message(reply.id)?.reply_to, first.id);
  });

  test('--no-queue while offline is refused as not sent, and nothing is stored; without it the send is queued', async () => {
    await assert.rejects(core.service.send({ to: 'bob', body: 'now or never', queue: false }), (e: unknown) => {
      assert.ok(e instanceof CoreError);
      assert.equal(e.code, ErrorCodes.NotSent);
      assert.equal(e.message, 'not sent: the relay is not configured (run `switchboard init`); --no-queue was given, so nothing was stored');
      assert.equal(e.data.kind, 'not_sent');
      return true;
    });
    assert.equal(outboxCount(), 0);
    assert.equal((await core.service.send({ to: 'bob', body: 'later', queue: true })).status, 'queued');
    assert.equal(outboxCount(), 1);
  });

  test('a body whose JSON frame is one byte over the relay limit is refused; one exactly at the limit is stored', async () => {
    // A control character takes six bytes once JSON-encoded: the body is 64 KiB at most in
    // UTF-8, so only such a body reaches the frame limit.
    const cid = 'frame-limit';
    const frameOf = (body: string) =>
      sendFrameBytes(sendFrameOf({ id: '0'.repeat(36), client_message_id: cid, to: 'bob', body, reply_to: null, request_id: null, created_at: now() }));
    const base = frameOf('');
    const controls = Math.floor((RELAY_MAX_FRAME_BYTES - base) / 6);
    const atLimit = '\u0001'.repeat(controls) + 'x'.repeat(RELAY_MAX_FRAME_BYTES - base - 6 * controls);
    assert.equal(frameOf(atLimit), RELAY_MAX_FRAME_BYTES);
    await assert.rejects(
      core.service.send({ to: 'bob', body: `${atLimit}x`, client_message_id: `${cid}-over` }),
      (e: unknown) => e instanceof CoreError && e.code === ErrorCodes.InvalidParams && /body: makes a \d+-byte frame once JSON-encoded/.test(e.message),
    );
    // The client id above is longer; this one makes a frame of exactly one byte over.
    await assert.rejects(core.service.send({ to: 'bob', body: `${atLimit}x`, client_message_id: cid }), new RegExp(`makes a ${RELAY_MAX_FRAME_BYTES + 1}-byte frame`));
    assert.equal(outboxCount(), 0);
    const stored = await core.service.send({ to: 'bob', body: atLimit, client_message_id: cid });
    assert.equal(stored.status, 'queued');
    assert.equal(core.service.repo.message(stored.id)?.body, atLimit);
  });
});

describe('what a send answers', () => {
  test('a new send: queued, no server id, its own client id and recipient, and the recipient becomes a peer', async () => {
    const sent = await core.service.send({ to: 'bob', body: 'hello', client_message_id: 'cid-new' });
    assert.equal(sent.status, 'queued');
    assert.equal(sent.server_id, null);
    assert.equal(sent.client_message_id, 'cid-new');
    assert.equal(sent.to, 'bob');
    assert.equal(core.service.repo.outboxById(sent.id)?.state, 'pending');
    assert.deepEqual(core.service.peers().peers.map((p) => p.name), ['bob']);
  });

  test('a conflicting client id names the earlier message and says to use a new one', async () => {
    const first = await core.service.send({ to: 'bob', body: 'one', client_message_id: 'cid-c' });
    await assert.rejects(
      core.service.send({ to: 'bob', body: 'two', client_message_id: 'cid-c' }),
      (e: unknown) => e instanceof CoreError && e.message === `client message id cid-c was already used for different content (message ${first.id}); use a new --client-id`,
    );
  });

  test('the same send again after it was delivered: duplicate, with the server id and no reason', async () => {
    const first = await core.service.send({ to: 'bob', body: 'hello', client_message_id: 'cid-d' });
    await core.service.writes.run(() => core.service.repo.recordOutboxVerdict(first.id, 'sent', 'srv-1', now()));
    const again = await core.service.send({ to: 'bob', body: 'hello', client_message_id: 'cid-d' });
    assert.deepEqual(
      { id: again.id, status: again.status, server_id: again.server_id, reason: again.reason, reason_code: again.reason_code },
      { id: first.id, status: 'duplicate', server_id: 'srv-1', reason: null, reason_code: null },
    );
  });

  /** Sends once under `cid`, moves its row as `move` says, and sends the same again. */
  async function againAfter(cid: string, move: (id: string) => void) {
    const first = await core.service.send({ to: 'bob', body: 'hello', client_message_id: cid });
    await core.service.writes.run(() => move(first.id));
    const again = await core.service.send({ to: 'bob', body: 'hello', client_message_id: cid });
    assert.equal(again.id, first.id);
    assert.equal(again.status, 'failed');
    assert.equal(again.server_id, null);
    return { id: first.id, reason: again.reason, reason_code: again.reason_code };
  }

  test('the same send again after its row died, expired or was aborted: failed, saying which and how to requeue', async () => {
    const repo = core.service.repo;
    const requeue = (id: string) => `; requeue it with \`switchboard outbox requeue ${id}\``;
    const dead = await againAfter('cid-dead', (id) => {
      repo.markInflight(id, now());
      repo.markInflight(id, now());
      repo.recordOutboxFailure(id, 'dead', 'relay said no', now());
    });
    assert.deepEqual(dead, { id: dead.id, reason: `message ${dead.id} with this client id gave up after 2 attempts (relay said no)${requeue(dead.id)}`, reason_code: 'dead' });
    const deadSilent = await againAfter('cid-dead-silent', (id) => repo.db.prepare("UPDATE outbox SET state = 'dead', last_error = NULL WHERE id = ?").run(id));
    assert.equal(deadSilent.reason, `message ${deadSilent.id} with this client id gave up after 0 attempts (no error recorded)${requeue(deadSilent.id)}`);
    const expired = await againAfter('cid-expired', (id) => repo.db.prepare("UPDATE outbox SET state = 'expired', last_error = 'expired: held for the whole retention' WHERE id = ?").run(id));
    assert.deepEqual(expired, { id: expired.id, reason: `message ${expired.id} with this client id expired undelivered (expired: held for the whole retention)${requeue(expired.id)}`, reason_code: 'expired' });
    const expiredSilent = await againAfter('cid-expired-silent', (id) => repo.db.prepare("UPDATE outbox SET state = 'expired', last_error = NULL WHERE id = ?").run(id));
    assert.equal(expiredSilent.reason, `message ${expiredSilent.id} with this client id expired undelivered (the relay dropped it after its retention)${requeue(expiredSilent.id)}`);
    const aborted = await againAfter('cid-aborted', (id) => repo.setOutboxState(id, 'aborted', now()));
    assert.deepEqual(aborted, { id: aborted.id, reason: `message ${aborted.id} with this client id was aborted${requeue(aborted.id)}`, reason_code: 'aborted' });
  });

  test('a send with a wait, while offline, answers at once as queued instead of waiting out its wait', async () => {
    // Its own wait is ten minutes: only not waiting answers within the deadline.
    const sent = await Promise.race([
      core.service.send({ to: 'bob', body: 'offline', wait_ms: 600_000 }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the send waited for a verdict while offline')), 20_000).unref()),
    ]);
    assert.equal(sent.status, 'queued');
    assert.equal(sent.server_id, null);
  });
});

describe('requeue', () => {
  test('is idempotent: requeuing the same entry again answers with the copy it was requeued as, and stores nothing more', async () => {
    const first = await core.service.send({ to: 'bob', body: 'again', client_message_id: 'cid-r' });
    await core.service.writes.run(() => core.service.repo.recordOutboxFailure(first.id, 'dead', 'relay said no', now()));
    const once = await core.service.requeue(first.id);
    const twice = await core.service.requeue(first.id);
    assert.equal(twice.aborted, first.id);
    assert.equal(twice.item.id, once.item.id);
    assert.equal(outboxCount(), 2);
    // Found by its client id too.
    assert.equal((await core.service.requeue('cid-r')).item.id, once.item.id);
    assert.equal(outboxCount(), 2);
  });
});
