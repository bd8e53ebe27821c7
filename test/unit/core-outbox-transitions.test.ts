/**
 * The outbox state machine (server/outbox/): every transition from every state, against a real
 * store. An allowed one moves the row, its message and emits one `outbox/changed`; a refused one
 * changes nothing at all, and the person's refusals (abort, requeue) keep their words.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ErrorCodes, OUTBOX_STATES, type MessageState, type OutboxState } from '../../protocol/rpc';
import { CoreError } from '../../server/errors';
import { Outbox } from '../../server/outbox/outbox';
import { OUTBOX_TRANSITIONS, reachable, type OutboxTransition } from '../../server/outbox/transitions';
import { type Db } from '../../server/store/db';
import { Repository, type OutboxRow } from '../../server/store/repository';
import { openTempStore, type TempStore } from '../support/store';
import { directOutboundFields } from '../support/messages';

let store: TempStore;
let db: Db;
let repo: Repository;
let outbox: Outbox;
let serial = 0;

beforeEach(() => {
  ({ db, repo } = store = openTempStore('sb-outbox-'));
  outbox = new Outbox(repo);
});

afterEach(() => store.close());

const NOW = '2026-12-01T10:00:00.000Z';
const LATER = '2026-12-01T10:05:00.000Z';
const SERVER_ID = 'srv-1';

/** Written out, not read from the table: a change to the table must change this test too. */
const ALLOWED_FROM: Record<OutboxTransition, OutboxState[]> = {
  claim: ['pending'],
  accept: ['pending', 'inflight', 'dead', 'expired'],
  defer: ['pending', 'inflight', 'dead', 'expired'],
  retry: ['inflight'],
  fail: ['pending', 'inflight', 'dead', 'expired'],
  expire: ['done'],
  abort: ['pending', 'dead'],
  retire: ['pending', 'dead', 'expired'],
  release: ['inflight'],
};

/** Where each ends, and what its message shows after (null: what it showed before). */
const ENDS: Record<OutboxTransition, [OutboxState, MessageState | null]> = {
  claim: ['inflight', null],
  accept: ['done', 'sent'],
  defer: ['pending', null],
  retry: ['pending', null],
  fail: ['dead', 'failed'],
  expire: ['expired', 'failed'],
  abort: ['aborted', 'aborted'],
  retire: ['aborted', 'aborted'],
  release: ['pending', null],
};

/** The person's refusals, word for word as `outbox abort` and `outbox requeue` have always said them. */
const REFUSALS: Partial<Record<OutboxTransition, Partial<Record<OutboxState, (id: string) => string>>>> = {
  abort: {
    inflight: (id) => `message ${id} is in flight and may already be at the relay; wait for its verdict`,
    done: (id) => `message ${id} was already delivered to the relay; it cannot be aborted`,
    aborted: (id) => `message ${id} is already aborted`,
    expired: (id) => `message ${id} already expired at the relay undelivered; nothing to abort`,
  },
  retire: {
    inflight: (id) => `message ${id} is in flight; wait for its verdict (see \`switchboard outbox\`)`,
    done: (id) => `message ${id} was already delivered to the relay; nothing to requeue`,
    // Never said by requeue (it requeues an aborted row without retiring it again).
    aborted: (id) => `message ${id} is aborted; it cannot be requeued`,
  },
};

/** A message and its outbox row in `state`, got there by the moves the engine makes. */
function rowIn(state: OutboxState): OutboxRow {
  const id = `m${++serial}`;
  db.transaction(() => {
    outbox.create({ id, client_message_id: `c${serial}`, from: 'alice', to: 'bob', body: 'hi', reply_to: null, request_id: null, ...directOutboundFields('bob') }, 'f', NOW, state === 'inflight');
    if (state === 'done' || state === 'expired') assert.ok(outbox.claim(repo.outboxById(id)!, NOW) && outbox.accept(id, 'sent', SERVER_ID, NOW));
    if (state === 'expired') assert.ok(outbox.expire(id, SERVER_ID, 'expired: dropped', NOW));
    if (state === 'dead') assert.ok(outbox.fail(id, 'rejected by the relay: no', NOW));
    if (state === 'aborted') outbox.abort(repo.outboxById(id)!, NOW);
  })();
  const row = repo.outboxById(id)!;
  assert.equal(row.state, state);
  return row;
}

/** Applies `transition` to `row`: true when it moved, false when refused quietly; a thrown refusal is returned. */
function apply(transition: OutboxTransition, row: OutboxRow): boolean | CoreError {
  try {
    return db.transaction((): boolean => {
      switch (transition) {
        case 'claim':
          return outbox.claim(row, LATER);
        case 'accept':
          return outbox.accept(row.id, 'duplicate', 'srv-2', LATER);
        case 'defer':
          return outbox.defer(row.id, 'rate limit exceeded', LATER);
        case 'retry':
          return outbox.retry(row.id, 'connection closed', LATER);
        case 'fail':
          return outbox.fail(row.id, 'rejected by the relay: unknown recipient', LATER);
        case 'expire':
          return outbox.expire(row.id, row.server_id ?? SERVER_ID, 'expired: dropped', LATER);
        case 'abort':
          outbox.abort(row, LATER);
          return true;
        case 'retire':
          outbox.retire(row, LATER);
          return true;
        case 'release':
          return outbox.releaseInflight(LATER) > 0;
      }
    })();
  } catch (error) {
    if (error instanceof CoreError) return error;
    throw error;
  }
}

describe('outbox transitions', () => {
  test('the table allows exactly these moves', () => {
    for (const [transition, rule] of Object.entries(OUTBOX_TRANSITIONS) as [OutboxTransition, (typeof OUTBOX_TRANSITIONS)[OutboxTransition]][]) {
      assert.deepEqual([...rule.from].sort(), [...ALLOWED_FROM[transition]].sort(), transition);
      assert.deepEqual([rule.to, rule.message], ENDS[transition], transition);
    }
    const fromTo: Record<OutboxState, OutboxState[]> = {
      pending: ['aborted', 'dead', 'done', 'inflight', 'pending'],
      inflight: ['dead', 'done', 'pending'],
      done: ['expired'],
      dead: ['aborted', 'dead', 'done', 'pending'],
      aborted: [],
      expired: ['aborted', 'dead', 'done', 'pending'],
    };
    for (const from of OUTBOX_STATES) assert.deepEqual(reachable(from).sort(), fromTo[from], from);
  });

  for (const transition of Object.keys(ALLOWED_FROM) as OutboxTransition[]) {
    for (const from of OUTBOX_STATES) {
      const allowed = ALLOWED_FROM[transition].includes(from);
      test(`${transition} from ${from}: ${allowed ? 'moves' : 'refused'}`, () => {
        const row = rowIn(from);
        const message = repo.message(row.id)!;
        const cursor = repo.lastCursor();
        const result = apply(transition, row);
        const after = repo.outboxById(row.id)!;
        const messageAfter = repo.message(row.id)!;
        if (allowed) {
          assert.equal(result, true);
          const [to, shows] = ENDS[transition];
          assert.equal(after.state, to);
          assert.equal(messageAfter.state, shows ?? message.state);
          assert.equal(after.updated_at, LATER);
          const events = repo.eventsWithMessages(cursor, 10);
          if (transition === 'release') assert.deepEqual(events, [], 'a release at start-up emits nothing');
          else assert.deepEqual(events.map((e) => [e.type, e.ref]), [['outbox/changed', row.id]]);
          if (transition === 'accept') assert.deepEqual([after.verdict, after.server_id, messageAfter.server_id], ['duplicate', 'srv-2', 'srv-2']);
          if (transition === 'claim') assert.equal(after.attempts, row.attempts + 1);
          if (transition === 'defer') assert.equal(after.attempts, Math.max(0, row.attempts - 1));
        } else {
          const words = REFUSALS[transition]?.[from];
          if (REFUSALS[transition]) {
            assert.ok(result instanceof CoreError, `${transition} from ${from} throws`);
            assert.equal(result.code, ErrorCodes.InvalidState);
            if (words) assert.equal(result.message, words(row.id));
          } else {
            assert.equal(result, false);
          }
          assert.deepEqual(after, row, 'the row is untouched');
          assert.deepEqual(messageAfter, message, 'the message is untouched');
          assert.equal(repo.lastCursor(), cursor, 'no event');
        }
      });
    }
  }

  test('expire needs the message still only sent: a receipt wins', () => {
    const row = rowIn('done');
    db.transaction(() => repo.markDelivered(row.id))();
    assert.equal(apply('expire', row), false);
    assert.equal(repo.outboxById(row.id)!.state, 'done');
  });
});
