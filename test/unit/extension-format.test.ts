import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SyncStatus } from '../../protocol/rpc';
import { errorText, formatStatus, statusActions, verdictText } from '../../extension/format';
import { deriveStatus, type Status, type StatusInput } from '../../extension/statusModel';
import { oneLine, relativeTime } from '../../lib/display';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('relativeTime', () => {
  it('buckets by age', () => {
    assert.equal(relativeTime(ago(5_000), NOW), 'just now');
    assert.equal(relativeTime(ago(90_000), NOW), '2m ago');
    assert.equal(relativeTime(ago(59 * 60_000), NOW), '59m ago');
    assert.equal(relativeTime(ago(3 * 3600_000 + 5), NOW), '3h ago');
    assert.equal(relativeTime(ago(30 * 3600_000), NOW), 'yesterday');
    assert.equal(relativeTime(ago(4 * 86400_000), NOW), '4d ago');
    assert.equal(relativeTime(ago(40 * 86400_000), NOW), '2026-10-15');
  });
  it('handles missing, invalid and future times', () => {
    assert.equal(relativeTime(null, NOW), 'never');
    assert.equal(relativeTime(undefined, NOW), 'never');
    assert.equal(relativeTime('not a date', NOW), 'unknown');
    assert.equal(relativeTime(new Date(NOW + 10_000).toISOString(), NOW), 'just now');
  });
});

describe('oneLine', () => {
  it('collapses whitespace, shows controls and bidi overrides as escapes, caps length', () => {
    assert.equal(oneLine('a\n\tb   c'), 'a b c');
    assert.equal(oneLine('\u001b[31mred\u001b[0m'), '<U+001B>[31mred<U+001B>[0m');
    assert.equal(oneLine('x\u202eevil'), 'x<U+202E>evil');
    assert.equal(oneLine('abcdefghij', 5), 'abcd…');
  });
});

describe('verdictText', () => {
  it('is honest about each outcome', () => {
    assert.deepEqual(verdictText({ status: 'sent' }), { status: 'sent', text: 'Sent', severity: 'info' });
    assert.match(verdictText({ status: 'queued' }).text, /^Queued — offline/);
    assert.equal(verdictText({ status: 'queued' }).severity, 'warning');
    assert.equal(verdictText({ status: 'failed', reason: 'unknown user bob' }).text, 'Failed: unknown user bob');
    assert.equal(verdictText({ status: 'failed' }).severity, 'error');
    assert.match(verdictText({ status: 'duplicate', to: 'bob' }).text, /^Sent to bob/);
  });
});

describe('errorText', () => {
  it('gives one line, never a stack', () => {
    const e = new Error('boom\n    at foo (x.js:1:1)');
    assert.equal(errorText(e), 'boom at foo (x.js:1:1)'.slice(0, 400));
    assert.equal(errorText({ code: -32002, message: 'not found' }), 'not found');
    assert.equal(errorText(undefined), 'unknown error');
  });
});

const kindLabel = (s: Status) => ({ kind: s.kind, label: s.label });

function sync(p: Partial<SyncStatus>): SyncStatus {
  return { state: 'online', relay: 'ws://127.0.0.1:8787', user: 'alice', last_inbound_at: ago(120_000), last_ack_at: ago(30_000), last_error: null, connected_since: ago(3600_000), queued: 0, held: [], ...p };
}
function input(p: Partial<StatusInput>): Status {
  return deriveStatus({ phase: 'connected', phaseDetail: null, sync: sync({}), store: null, unread: 0, queued: 0, failed: 0, core: { version: '0.1.0', pid: 42, home: '/h' }, ...p });
}

describe('formatStatus', () => {
  it('online with counts and freshness', () => {
    const p = formatStatus(input({ unread: 3, queued: 0 }), NOW);
    assert.equal(p.kind, 'online');
    assert.equal(p.text, '$(pass) Switchboard: online $(mail) 3');
    assert.match(p.tooltip, /Relay: ws:\/\/127\.0\.0\.1:8787 as alice/);
    assert.match(p.tooltip, /Last inbound message: 2m ago/);
    assert.match(p.tooltip, /Last relay ack: just now/);
    assert.match(p.tooltip, /Core: v0\.1\.0 \(pid 42\)/);
    assert.equal(p.accessibility, 'Switchboard: online, 3 unread');
    assert.equal(p.severity, 'none');
  });
  it('syncing while the outbox drains or the relay link is connecting', () => {
    assert.equal(formatStatus(input({ queued: 2 }), NOW).kind, 'syncing');
    assert.equal(formatStatus(input({ sync: sync({ state: 'connecting' }) }), NOW).kind, 'syncing');
    assert.match(formatStatus(input({ queued: 2 }), NOW).text, /\$\(arrow-up\) 2/);
  });
  it('offline, unauthorized, error, not configured', () => {
    assert.equal(formatStatus(input({ sync: sync({ state: 'offline', last_error: 'ECONNREFUSED' }) }), NOW).kind, 'offline');
    assert.match(formatStatus(input({ sync: sync({ state: 'offline', last_error: 'ECONNREFUSED' }) }), NOW).tooltip, /Last error: ECONNREFUSED/);
    const un = formatStatus(input({ sync: sync({ state: 'unauthorized' }) }), NOW);
    assert.equal(un.kind, 'unauthorized');
    assert.equal(un.severity, 'error');
    assert.equal(formatStatus(input({ sync: sync({ state: 'error' }) }), NOW).kind, 'error');
    assert.equal(kindLabel(input({ sync: sync({ state: 'disabled' }) })).label, 'not configured');
  });
  it('core unreachable and no runtime are errors with the reason', () => {
    const p = formatStatus(input({ phase: 'reconnecting', phaseDetail: 'no core is listening on /h/core.sock', sync: null, core: null, retryInSeconds: 4 }), NOW);
    assert.equal(p.kind, 'error');
    assert.equal(p.label, 'core unreachable');
    assert.match(p.tooltip, /Last error: no core is listening/);
    assert.match(p.tooltip, /Retrying in 4s/);
    assert.equal(formatStatus(input({ phase: 'noRuntime', sync: null }), NOW).label, 'no usable Node runtime');
    assert.equal(formatStatus(input({ phase: 'spawning', sync: null }), NOW).kind, 'syncing');
  });
  it('failed outbox items raise a warning', () => {
    const p = formatStatus(input({ failed: 1 }), NOW);
    assert.equal(p.severity, 'warning');
    assert.match(p.text, /\$\(warning\) 1/);
  });
});

describe('statusActions', () => {
  const ids = (i: Status) => statusActions(i).map((a) => a.command);
  it('offers reconnect first when the core is unreachable', () => {
    assert.deepEqual(ids(input({ phase: 'reconnecting', sync: null })).slice(0, 2), ['switchboard.reconnect', 'switchboard.showLog']);
  });
  it('offers configure first when not configured or unauthorized', () => {
    assert.equal(ids(input({ sync: sync({ state: 'disabled' }) }))[0], 'switchboard.configure');
    assert.equal(ids(input({ sync: sync({ state: 'unauthorized' }) }))[0], 'switchboard.configure');
  });
  it('offers mark all read and outbox only when relevant', () => {
    assert.ok(!ids(input({})).includes('switchboard.markAllRead'));
    assert.ok(ids(input({ unread: 2 })).includes('switchboard.markAllRead'));
    assert.ok(ids(input({ failed: 1 })).includes('switchboard.outbox.focus'));
    const all = ids(input({ unread: 1 }));
    assert.equal(new Set(all).size, all.length, 'no duplicates');
  });
});
