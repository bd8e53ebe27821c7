/**
 * The CLI's human output, line for line, for plain text (the neutralisation of hostile text is
 * core-format*.test.ts): what a person reads must not silently lose a field, a state or a
 * clause. Exact strings, so a changed word or a dropped branch is seen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CoreStatus, Message, OutboxItem, SyncStatus } from '../../protocol/rpc';
import { coreStatusLines, messageFull, messageLine, messageList, outboxLine, peerLine, pullNotice, sendVerdict, shortTime, syncLines } from '../../server/cli/format';
import { directFields } from '../support/messages';

const AT = '2026-11-24T14:03:59.123Z';

function message(p: Partial<Message> = {}): Message {
  return { id: 'm1', client_message_id: 'c1', server_id: null, conversation: 'bob', direction: 'in', from: 'bob', to: 'me', body: 'hello', reply_to: null, request_id: null, created_at: AT, state: 'received', read: false, ...directFields(p.direction ?? 'in'), ...p };
}

test('shortTime: minutes in UTC, or never', () => {
  assert.equal(shortTime(AT), '2026-11-24 14:03');
  assert.equal(shortTime(null), 'never');
  assert.equal(shortTime(''), 'never');
});

test('messageLine: unread, read and outbound', () => {
  assert.equal(messageLine(message()), '* m1  2026-11-24 14:03  bob: hello');
  assert.equal(messageLine(message({ read: true })), '  m1  2026-11-24 14:03  bob: hello');
  assert.equal(messageLine(message({ direction: 'out', from: 'me', to: 'carol', state: 'sent', read: true })), '> m1  2026-11-24 14:03  to carol [sent]: hello');
});

test('messageLine: the body on one line, whitespace collapsed, cut at 72 with an ellipsis', () => {
  assert.equal(messageLine(message({ body: '  a \n\t b  ' })), '* m1  2026-11-24 14:03  bob: a b');
  const exact = 'x'.repeat(72);
  assert.ok(messageLine(message({ body: exact })).endsWith(`: ${exact}`), 'exactly the width is kept whole');
  const long = 'y'.repeat(73);
  assert.ok(messageLine(message({ body: long })).endsWith(`: ${'y'.repeat(71)}…`));
});

test('messageList: one line each, or the empty text', () => {
  assert.equal(messageList([], 'nothing here'), 'nothing here');
  assert.equal(messageList([message(), message({ id: 'm2', read: true })], 'nothing here'), '* m1  2026-11-24 14:03  bob: hello\n  m2  2026-11-24 14:03  bob: hello');
});

test('messageFull: headers, the optional reply-to and question lines, then the body', () => {
  assert.equal(messageFull(message({ body: 'line 1\nline 2' })), ['id:       m1', 'from:     bob', 'to:       me', `date:     ${AT}`, 'state:    received', '', 'line 1\nline 2'].join('\n'));
  assert.equal(
    messageFull(message({ reply_to: 'm0', request_id: 'q1' })),
    ['id:       m1', 'from:     bob', 'to:       me', `date:     ${AT}`, 'state:    received', 'reply-to: m0', 'question: q1 (answer with `switchboard reply m1 -m …`)', '', 'hello'].join('\n'),
  );
});

test('sendVerdict: every status says what happened', () => {
  const base = { id: 'm1', client_message_id: 'c1', to: 'bob', server_id: null, reason: null, reason_code: null };
  assert.equal(sendVerdict({ ...base, status: 'sent', server_id: 's1' }), 'sent m1 to bob');
  assert.equal(sendVerdict({ ...base, status: 'duplicate', server_id: 's1' }), 'duplicate: m1 to bob was already sent with this client id; nothing new was sent');
  assert.equal(sendVerdict({ ...base, status: 'queued' }), 'queued m1 to bob: not yet at the relay; it is retried automatically (see `switchboard outbox`)');
  assert.equal(
    sendVerdict({ ...base, status: 'queued', reason: 'no relay configured; run `switchboard init`', reason_code: 'not_configured' }),
    'queued m1 to bob: no relay configured; run `switchboard init`',
  );
  assert.equal(sendVerdict({ ...base, status: 'failed', reason: 'rejected by the relay: no' }), 'failed: rejected by the relay: no');
  assert.equal(sendVerdict({ ...base, status: 'failed' }), 'failed: unknown reason');
});

test('outboxLine: state, id, time, recipient, attempts, the last error if any, the body cut at 48', () => {
  const item: OutboxItem = { id: 'm1', client_message_id: 'c1', to: 'bob', body: 'z'.repeat(49), state: 'dead', attempts: 8, last_error: null, created_at: AT, updated_at: AT };
  assert.equal(outboxLine(item), `dead     m1  2026-11-24 14:03  to bob  attempts 8: ${'z'.repeat(47)}…`);
  assert.equal(outboxLine({ ...item, body: 'hi', last_error: 'gave up' }), 'dead     m1  2026-11-24 14:03  to bob  attempts 8  last error: gave up: hi');
});

test('peerLine', () => {
  assert.equal(peerLine({ name: 'bob', messages: 3, unread: 1, last_at: AT, trust: 'unverified' }), 'bob  messages 3  unread 1  last 2026-11-24 14:03  unverified');
  assert.equal(peerLine({ name: 'bob', messages: 0, unread: 0, last_at: null, trust: 'changed' }), 'bob  messages 0  unread 0  last never  changed');
});

const sync: SyncStatus = { state: 'online', relay: 'ws://127.0.0.1:1', user: 'alice', last_inbound_at: AT, last_ack_at: null, last_error: null, connected_since: AT, queued: 2, held: [] };

test('syncLines: state, relay and user, freshness, queue and the last error', () => {
  assert.deepEqual(syncLines(sync), ['sync:      online (ws://127.0.0.1:1 as alice)', '  connected since 2026-11-24 14:03; last inbound 2026-11-24 14:03; last relay ack never', '  queued 2']);
  assert.deepEqual(syncLines({ ...sync, state: 'disabled', relay: null, user: null, last_error: 'no relay' }), ['sync:      disabled', '  connected since 2026-11-24 14:03; last inbound 2026-11-24 14:03; last relay ack never', '  queued 2; last error: no relay']);
  assert.equal(syncLines({ ...sync, user: null })[0], 'sync:      online (ws://127.0.0.1:1 as ?)');
});

test('coreStatusLines: running or not, clients counted, every outbox state', () => {
  const status: CoreStatus = { version: '0.1.0', protocol: 1, pid: 42, home: '/h', socket: '/h/s', since: AT, clients: 1, messages: 5, unread: 2, outbox: { pending: 1, inflight: 2, dead: 3, done: 4, aborted: 5, expired: 6 }, sync, store: { path: '/h/store.db', state: 'ok', error: null, since: null } };
  assert.deepEqual(coreStatusLines(status, true).slice(0, 6), [
    'core:      running (pid 42, version 0.1.0, since 2026-11-24 14:03, 1 client)',
    'home:      /h',
    'socket:    /h/s',
    'messages:  5 (2 unread)',
    'outbox:    1 pending, 2 in flight, 3 dead, 4 done, 5 aborted, 6 expired',
    'store:     ok (/h/store.db)',
  ]);
  assert.equal(coreStatusLines({ ...status, clients: 2 }, true)[0], 'core:      running (pid 42, version 0.1.0, since 2026-11-24 14:03, 2 clients)');
  const direct = coreStatusLines({ ...status, socket: null }, false);
  assert.deepEqual(direct.slice(0, 3), ['core:      no core running; commands open the store themselves (start one with `switchboard daemon start`)', 'home:      /h', 'socket:    - (no core listening)']);
  assert.equal(coreStatusLines(status, false)[2], 'socket:    /h/s (no core listening)');
  assert.deepEqual(coreStatusLines(status, true).slice(6), syncLines(sync));
  // With the home's log (as `status` passes it): one line after the socket, where `daemon install`'s unit writes.
  assert.deepEqual(coreStatusLines(status, true, null, '/h/core.log').slice(2, 4), ['socket:    /h/s', 'log:       /h/core.log']);
});

test('coreStatusLines without a core: what is configured and what the pull found, never a sync state', () => {
  const status: CoreStatus = { version: '0.1.0', protocol: 1, pid: 42, home: '/h', socket: '/h/s', since: AT, clients: 0, messages: 5, unread: 2, outbox: { pending: 1, inflight: 0, dead: 0, done: 0, aborted: 0, expired: 0 }, sync, store: { path: '/h/store.db', state: 'ok', error: null, since: null } };
  const unconfigured = coreStatusLines({ ...status, sync: { ...sync, state: 'disabled', relay: null, user: null } }, false, null);
  assert.deepEqual(unconfigured.slice(6), ['relay:     not configured; run `switchboard init --relay <ws-url> --user <name> --token <token>`']);
  const caughtUp = coreStatusLines(status, false, { fetched: 1, caught_up: true, problem: null });
  assert.deepEqual(caughtUp.slice(6, 8), [`relay:     ${sync.relay} as ${sync.user} (configured; no live link without a core)`, 'pull:      1 new message fetched just now; caught up with the relay']);
  const failed = coreStatusLines(status, false, { fetched: 0, caught_up: false, problem: { code: 'unreachable', message: 'relay unreachable at ws://x' } });
  assert.equal(failed[7], 'pull:      nothing new fetched just now: relay unreachable at ws://x');
  assert.ok(!failed.some((line) => line.startsWith('sync:')), failed.join('\n'));
  assert.equal(failed.at(-1), '  queued 2 (sent by the next command that reaches the relay, or by a core)');
});

test('pullNotice: one line when a pull fell short, nothing when it caught up', () => {
  assert.equal(pullNotice({ fetched: 0, caught_up: true, problem: null }), undefined);
  assert.equal(pullNotice({ fetched: 0, caught_up: false, problem: { code: 'not_configured', message: 'no relay configured' } }), 'nothing new fetched from the relay: no relay configured; showing what is stored here');
  assert.equal(pullNotice({ fetched: 2, caught_up: false, problem: { code: 'timeout', message: 'still sending' } }), 'fetched 2 new messages, maybe not all: still sending; showing what is stored here');
});
