/**
 * The exact words every VS Code surface shows (extension/format.ts): tree items, quick picks,
 * notifications, verdicts, the status bar and its actions. Whole strings are compared, so a
 * changed word, a lost separator or a peer's text slipping through unescaped fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message, OutboxItem, SyncStatus } from '../../protocol/rpc';
import { conversationItemText, conversationPickText, errorText, formatStatus, messageItemText, messageNotice, noLinks, outboxItemText, outboxPickText, peerPickText, plural, replyPickText, statusActions, verdictText } from '../../extension/format';
import { deriveStatus, type Status, type StatusInput } from '../../extension/statusModel';
import { absoluteTime, inertText, oneLine, relativeTime } from '../../lib/display';
import { directFields } from '../support/messages';

// absoluteTime shows local time: pin the zone so the expected strings hold on any machine.
process.env.TZ = 'UTC';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function message(p: Partial<Message> = {}): Message {
  return {
    id: 'm1',
    client_message_id: 'c1',
    server_id: null,
    conversation: 'bob',
    direction: 'in',
    from: 'bob',
    to: 'alice',
    body: 'hello there',
    reply_to: null,
    request_id: null,
    created_at: '2026-11-24T11:57:00Z',
    state: 'delivered',
    read: false,
    ...directFields(p.direction ?? 'in'),
    ...p,
  };
}

function outbox(p: Partial<OutboxItem> = {}): OutboxItem {
  return { id: 'o1', client_message_id: 'c1', to: 'bob', body: 'hi', state: 'pending', attempts: 0, last_error: null, created_at: '2026-11-24T11:00:00Z', updated_at: '2026-11-24T11:30:05Z', ...p };
}

describe('times', () => {
  it('relativeTime: the edges of every bucket', () => {
    assert.equal(relativeTime(ago(44_999), NOW), 'just now');
    assert.equal(relativeTime(ago(45_000), NOW), '1m ago', 'rounded, and never 0m');
    assert.equal(relativeTime(ago(HOUR - 1), NOW), '60m ago');
    assert.equal(relativeTime(ago(HOUR), NOW), '1h ago');
    assert.equal(relativeTime(ago(2 * HOUR - 1), NOW), '1h ago', 'hours are floored');
    assert.equal(relativeTime(ago(DAY - 1), NOW), '23h ago');
    assert.equal(relativeTime(ago(DAY), NOW), 'yesterday');
    assert.equal(relativeTime(ago(2 * DAY - 1), NOW), 'yesterday');
    assert.equal(relativeTime(ago(2 * DAY), NOW), '2d ago');
    assert.equal(relativeTime(ago(7 * DAY - 1), NOW), '6d ago', 'days are floored');
    assert.equal(relativeTime(ago(7 * DAY), NOW), '2026-11-17');
    assert.equal(relativeTime('', NOW), 'never');
  });

  it('relativeTime defaults to the current time', () => {
    assert.equal(relativeTime(new Date().toISOString()), 'just now');
  });

  it('absoluteTime: a zero-padded local timestamp, or what is missing', () => {
    assert.equal(absoluteTime('2026-01-02T03:04:05Z'), '2026-01-02 03:04:05');
    assert.equal(absoluteTime('2026-11-24T14:13:19Z'), '2026-11-24 14:13:19');
    assert.equal(absoluteTime(null), 'never');
    assert.equal(absoluteTime(''), 'never');
    assert.equal(absoluteTime('soon'), 'unknown');
  });
});

describe('text helpers', () => {
  it('oneLine caps at 80 by default', () => {
    assert.equal(oneLine('x'.repeat(80)), 'x'.repeat(80));
    assert.equal(oneLine('x'.repeat(81)), `${'x'.repeat(79)}…`);
  });

  it('inertText keeps lines and tabs, escapes the rest, and caps only when asked', () => {
    assert.equal(inertText('a\n\tb\u202ec'), 'a\n\tb<U+202E>c');
    assert.equal(inertText('x'.repeat(5000)), 'x'.repeat(5000));
    assert.equal(inertText('abcdef', 4), 'abc…');
  });

  it('noLinks breaks links and escapes icons, and is idempotent', () => {
    assert.equal(noLinks('[run](command:x) $(zap) $(sync~spin) \\$(kept) $(no space)'), '[run] (command:x) \\$(zap) \\$(sync~spin) \\$(kept) $(no space)');
    assert.equal(noLinks(noLinks('[a](b) $(c)')), noLinks('[a](b) $(c)'));
  });

  it('plural', () => {
    assert.equal(plural(1, 'message'), '1 message');
    assert.equal(plural(0, 'message'), '0 messages');
    assert.equal(plural(2, 'reply', 'replies'), '2 replies');
  });
});

describe('tree items', () => {
  it('a conversation: peer, unread count and age, and a tooltip with the last message', () => {
    const last = message({ body: 'line one\nline two' });
    assert.deepEqual(conversationItemText({ peer: 'bob', unread: 2, total: 5, last }, NOW), {
      label: 'bob',
      description: '2 unread · 3m ago',
      tooltip: 'bob\n5 messages, 2 unread\nLast: 2026-11-24 11:57:00\nline one\nline two',
    });
    assert.deepEqual(conversationItemText({ peer: 'bob', unread: 0, total: 1, last: null }, NOW), { label: 'bob', description: '', tooltip: 'bob\n1 message, 0 unread' });
    assert.equal(conversationItemText({ peer: 'bob', unread: 0, total: 1, last }, NOW).description, '3m ago');
    assert.equal(conversationItemText({ peer: 'p'.repeat(70), unread: 0, total: 1, last: null }, NOW).label, `${'p'.repeat(63)}…`);
    assert.equal(conversationItemText({ peer: 'bob', unread: 0, total: 1, last: message({ body: 'b'.repeat(300) }) }, NOW).tooltip.split('\n')[3], `${'b'.repeat(199)}…`);
  });

  it('an inbound message: unread until read', () => {
    assert.deepEqual(messageItemText(message(), NOW), {
      label: 'hello there',
      description: 'bob · 3m ago',
      tooltip: 'From bob · 2026-11-24 11:57:00 · delivered · unread\n\nhello there',
    });
    assert.equal(messageItemText(message({ read: true }), NOW).tooltip, 'From bob · 2026-11-24 11:57:00 · delivered\n\nhello there');
  });

  it('an outbound message: says you, and its state unless it went through', () => {
    const out = message({ direction: 'out', from: 'alice', to: 'carol', state: 'queued' });
    assert.deepEqual(messageItemText(out, NOW), {
      label: 'hello there',
      description: 'you · 3m ago · queued',
      tooltip: 'To carol · 2026-11-24 11:57:00 · queued\n\nhello there',
    });
    assert.equal(messageItemText({ ...out, state: 'sent' }, NOW).description, 'you · 3m ago');
    assert.equal(messageItemText({ ...out, state: 'delivered' }, NOW).description, 'you · 3m ago');
    assert.equal(messageItemText({ ...out, read: false }, NOW).tooltip.includes('unread'), false, 'an outbound message is never unread');
  });

  it('an empty body has a label; long ones are capped', () => {
    assert.equal(messageItemText(message({ body: '' }), NOW).label, '(empty)');
    assert.equal(messageItemText(message({ body: 'b'.repeat(100) }), NOW).label, `${'b'.repeat(79)}…`);
    assert.equal(messageItemText(message({ body: 'b'.repeat(1200) }), NOW).tooltip.split('\n\n')[1], `${'b'.repeat(999)}…`);
  });

  it('an outbox item in each state', () => {
    assert.deepEqual(outboxItemText(outbox(), NOW), {
      label: 'bob: hi',
      description: 'queued · 1h ago',
      tooltip: 'To bob · pending · created 2026-11-24 11:00:00 · updated 2026-11-24 11:30:05\n\nhi',
    });
    const dead = outbox({ state: 'dead', attempts: 3, last_error: 'refused:\nunknown recipient' });
    assert.deepEqual(outboxItemText(dead, NOW), {
      label: 'bob: hi',
      description: 'failed · 1h ago · 3 attempts',
      tooltip: 'To bob · dead · created 2026-11-24 11:00:00 · updated 2026-11-24 11:30:05\nLast error: refused: unknown recipient\n\nhi',
    });
    assert.equal(outboxItemText(outbox({ state: 'expired' }), NOW).description, 'expired · 1h ago');
    assert.equal(outboxItemText(outbox({ state: 'inflight', attempts: 1 }), NOW).description, 'sending · 1h ago · 1 attempt');
    assert.equal(outboxItemText(outbox({ body: '' }), NOW).label, 'bob: (empty)');
  });
});

describe('quick picks and notifications: no links, no icons', () => {
  it('reply picks mark unread ones with an icon of our own', () => {
    const m = message({ from: '$(zap)bob', body: 'see [x](command:y)' });
    assert.deepEqual(replyPickText(m, NOW), { label: '$(circle-filled) \\$(zap)bob', description: '3m ago', detail: 'see [x] (command:y)' });
    assert.equal(replyPickText({ ...m, read: true }, NOW).label, '\\$(zap)bob');
  });

  it('conversation picks', () => {
    assert.deepEqual(conversationPickText({ peer: 'bob', unread: 2, total: 3, last: message({ body: '[a](b)' }) }, NOW), { label: 'bob', description: '2 unread · 3m ago', detail: '[a] (b)' });
    assert.deepEqual(conversationPickText({ peer: 'bob', unread: 0, total: 0, last: null }, NOW), { label: 'bob', description: '' });
  });

  it('outbox picks', () => {
    assert.deepEqual(outboxPickText(outbox({ to: '$(x)', body: '[a](b)' }), NOW), { label: '\\$(x): [a] (b)', description: 'pending · 1h ago' });
    assert.deepEqual(outboxPickText(outbox({ state: 'dead', last_error: 'no [x](y)' }), NOW), { label: 'bob: hi', description: 'failed · 1h ago', detail: 'no [x] (y)' });
  });

  it('peer picks', () => {
    assert.deepEqual(peerPickText({ name: '$(zap)', unread: 4, last_at: ago(2 * HOUR) }, NOW), { label: '\\$(zap)', description: '4 unread', detail: 'last message 2h ago' });
    assert.deepEqual(peerPickText({ name: 'bob', unread: 0, last_at: null }, NOW), { label: 'bob', description: '' });
  });

  it('a notice is sender and summary, capped', () => {
    assert.equal(messageNotice({ from: 'bob', body: 'look: [here](command:x)\nnow' }), 'bob: look: [here] (command:x) now');
    assert.equal(messageNotice({ from: 'b'.repeat(50), body: 'x'.repeat(200) }), `${'b'.repeat(39)}…: ${'x'.repeat(159)}…`);
  });
});

describe('verdicts and errors, word for word', () => {
  it('each outcome', () => {
    assert.deepEqual(verdictText({ status: 'sent', to: 'bob' }), { status: 'sent', text: 'Sent to bob', severity: 'info' });
    assert.deepEqual(verdictText({ status: 'duplicate' }), { status: 'duplicate', text: 'Sent (an identical earlier send already went through)', severity: 'info' });
    assert.deepEqual(verdictText({ status: 'queued', reason: 'relay\nunreachable' }), {
      status: 'queued',
      text: 'Queued — offline (relay unreachable); it will be sent when the relay is reachable',
      severity: 'warning',
    });
    assert.equal(verdictText({ status: 'queued' }).text, 'Queued — offline; it will be sent when the relay is reachable');
    assert.deepEqual(verdictText({ status: 'failed' }), { status: 'failed', text: 'Failed: the core gave no reason', severity: 'error' });
  });

  it('errorText takes a message or a string, else says it is unknown', () => {
    assert.equal(errorText('plain words'), 'plain words');
    assert.equal(errorText(''), 'unknown error');
    assert.equal(errorText({ message: '' }), 'unknown error');
    assert.equal(errorText({ message: 42 }), 'unknown error');
    assert.equal(errorText(null), 'unknown error');
    assert.equal(errorText('e'.repeat(500)), `${'e'.repeat(399)}…`);
    assert.equal(errorText(new Error('e'.repeat(500))), `${'e'.repeat(399)}…`);
  });
});

const kindLabel = (s: Status) => ({ kind: s.kind, label: s.label });

function sync(p: Partial<SyncStatus> = {}): SyncStatus {
  return { state: 'online', relay: 'ws://127.0.0.1:8787', user: 'alice', last_inbound_at: ago(2 * MIN), last_ack_at: ago(30_000), last_error: null, connected_since: ago(HOUR), queued: 0, held: [], ...p };
}
function input(p: Partial<StatusInput> = {}): Status {
  return deriveStatus({ phase: 'connected', phaseDetail: null, sync: sync(), store: null, unread: 0, queued: 0, failed: 0, core: { version: '0.1.0', pid: 42, home: '/h' }, ...p });
}

describe('the status bar', () => {
  it('connected and online: every line of the tooltip', () => {
    assert.deepEqual(formatStatus(input({ unread: 3, queued: 2, failed: 1 }), NOW), {
      kind: 'syncing',
      label: 'syncing',
      icon: '$(sync~spin)',
      text: '$(sync~spin) Switchboard: syncing $(mail) 3 $(arrow-up) 2 $(warning) 1',
      tooltip: [
        'Switchboard — syncing',
        'Relay: ws://127.0.0.1:8787 as alice',
        'Relay link: online since 1h ago',
        'Last inbound message: 2m ago',
        'Last relay ack: just now',
        'Unread: 3 · Queued: 2 · Failed: 1',
        'Core: v0.1.0 (pid 42) · /h',
        'Click for actions',
      ].join('\n'),
      accessibility: 'Switchboard: syncing, 3 unread, 2 queued, 1 failed',
      severity: 'warning',
    });
  });

  it('quiet and online: no counts, no error lines', () => {
    const p = formatStatus(input(), NOW);
    assert.equal(p.text, '$(pass) Switchboard: online');
    assert.equal(p.icon, '$(pass)');
    assert.equal(p.accessibility, 'Switchboard: online');
    assert.equal(p.severity, 'none');
  });

  it('not configured, and a link that never connected', () => {
    const p = formatStatus(input({ sync: sync({ state: 'disabled', relay: null, user: null, connected_since: null, last_inbound_at: null, last_ack_at: null }) }), NOW);
    assert.equal(p.text, '$(debug-disconnect) Switchboard: not configured');
    assert.deepEqual(p.tooltip.split('\n').slice(1, 5), ['Relay: not configured', 'Relay link: disabled', 'Last inbound message: never', 'Last relay ack: never']);
  });

  it('each relay-link state and core phase has its kind, label and icon', () => {
    const cases: [Partial<StatusInput>, string, string, string][] = [
      [{ sync: sync({ state: 'connecting' }) }, 'syncing', 'syncing', '$(sync~spin)'],
      [{ sync: sync({ state: 'offline' }) }, 'offline', 'offline', '$(debug-disconnect)'],
      [{ sync: sync({ state: 'unauthorized' }) }, 'unauthorized', 'unauthorized', '$(key)'],
      [{ sync: sync({ state: 'error' }) }, 'error', 'error', '$(error)'],
      [{ sync: null }, 'syncing', 'syncing', '$(sync~spin)'],
      [{ phase: 'starting' }, 'syncing', 'connecting to core', '$(sync~spin)'],
      [{ phase: 'connecting' }, 'syncing', 'connecting to core', '$(sync~spin)'],
      [{ phase: 'spawning' }, 'syncing', 'starting core', '$(sync~spin)'],
      [{ phase: 'reconnecting' }, 'error', 'core unreachable', '$(error)'],
      [{ phase: 'noRuntime' }, 'error', 'no usable Node runtime', '$(error)'],
      [{ phase: 'incompatible' }, 'error', 'core incompatible', '$(error)'],
      [{ phase: 'stopped' }, 'offline', 'stopped', '$(debug-disconnect)'],
    ];
    for (const [p, kind, label, icon] of cases) {
      assert.deepEqual(kindLabel(input(p)), { kind, label }, JSON.stringify(p));
      assert.equal(formatStatus(input(p), NOW).icon, icon, JSON.stringify(p));
    }
    assert.equal(formatStatus(input({ sync: sync({ state: 'unauthorized' }) }), NOW).severity, 'error');
    assert.equal(formatStatus(input({ phase: 'stopped', failed: 0 }), NOW).severity, 'none');
  });

  it('away from the core: its reason, the retry, and no relay lines', () => {
    const p = formatStatus(input({ phase: 'reconnecting', phaseDetail: 'no core\nlistening', sync: sync({ last_error: 'not this one' }), core: null, retryInSeconds: 0 }), NOW);
    assert.equal(p.tooltip, ['Switchboard — core unreachable', 'Unread: 0 · Queued: 0 · Failed: 0', 'Last error: no core listening', 'Retrying in 0s', 'Click for actions'].join('\n'));
    assert.equal(p.severity, 'error');
    assert.ok(!formatStatus(input({ phase: 'connecting', retryInSeconds: 3 }), NOW).tooltip.includes('Retrying'), 'only while reconnecting');
    assert.ok(!formatStatus(input({ phase: 'reconnecting', retryInSeconds: null }), NOW).tooltip.includes('Retrying'));
  });

  it('connected: the relay link error, not the phase detail', () => {
    const p = formatStatus(input({ phaseDetail: 'old', sync: sync({ state: 'offline', last_error: 'ECONNREFUSED', connected_since: null }) }), NOW);
    assert.ok(p.tooltip.includes('\nRelay link: offline\n'));
    assert.ok(p.tooltip.includes('\nLast error: ECONNREFUSED\n'));
    assert.ok(!p.tooltip.includes('old'));
  });
});

describe('status bar actions', () => {
  const rows = (i: Status) => statusActions(i);

  it('away from the core: reconnect (with the reason), the log, configure', () => {
    assert.deepEqual(rows(input({ phase: 'reconnecting', phaseDetail: 'no core [x](command:y)', sync: null })), [
      { command: 'switchboard.reconnect', label: '$(debug-restart) Reconnect', detail: 'no core [x] (command:y)' },
      { command: 'switchboard.showLog', label: '$(output) Show Log' },
      { command: 'switchboard.configure', label: '$(gear) Configure Relay…' },
    ]);
    assert.equal(rows(input({ phase: 'starting', sync: null }))[0]!.detail, 'Connect to the core, starting one if none runs');
  });

  it('online with unread and queued messages', () => {
    assert.deepEqual(rows(input({ unread: 2, queued: 1 })), [
      { command: 'switchboard.sendMessage', label: '$(send) Send Message…' },
      { command: 'switchboard.openConversation', label: '$(comment-discussion) Open Conversation…' },
      { command: 'switchboard.markAllRead', label: '$(mail-read) Mark All Read', detail: '2 unread' },
      { command: 'switchboard.outbox.focus', label: '$(cloud-upload) Show Outbox', detail: '1 queued, 0 failed' },
      { command: 'switchboard.configure', label: '$(gear) Configure Relay…' },
      { command: 'switchboard.showLog', label: '$(output) Show Log' },
    ]);
    assert.deepEqual(rows(input({ failed: 1 })).map((a) => a.command), ['switchboard.sendMessage', 'switchboard.openConversation', 'switchboard.outbox.focus', 'switchboard.configure', 'switchboard.showLog']);
  });

  it('not configured or unauthorized: configure first, with why', () => {
    assert.deepEqual(rows(input({ sync: sync({ state: 'disabled' }) }))[0], { command: 'switchboard.configure', label: '$(gear) Configure Relay…', detail: 'Set the relay URL, user and token' });
    const un = rows(input({ sync: sync({ state: 'unauthorized' }) }));
    assert.deepEqual(un[0], { command: 'switchboard.configure', label: '$(gear) Configure Relay…', detail: 'The relay refused the token: enter a new one' });
    assert.equal(un.filter((a) => a.command === 'switchboard.configure').length, 1);
  });

  it('a relay link that is down or coming up: reconnect it', () => {
    for (const state of ['offline', 'error', 'connecting'] as const) {
      assert.deepEqual(
        rows(input({ sync: sync({ state }) })).find((a) => a.command === 'switchboard.reconnect'),
        { command: 'switchboard.reconnect', label: '$(debug-restart) Reconnect', detail: 'Ask the core to reconnect to the relay now' },
        state,
      );
    }
    assert.equal(rows(input()).some((a) => a.command === 'switchboard.reconnect'), false, 'not while online');
  });
});
