/**
 * The extension's one status model, without vscode: every derived state (kind, word, banner
 * sentence, context keys) from the connection phase, the core's sync status and store status,
 * and the change event every surface subscribes to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoreStatus, SyncState, SyncStatus } from '../../protocol/rpc';
import { formatStatus } from '../../extension/format';
import { connectionMessage, deriveStatus, INITIAL_STATUS_INPUT, StatusModel, type ConnectionPhase, type Status, type StatusInput } from '../../extension/statusModel';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function sync(p: Partial<SyncStatus> = {}): SyncStatus {
  return { state: 'online', relay: 'ws://127.0.0.1:8787', user: 'alice', last_inbound_at: ago(120_000), last_ack_at: ago(30_000), last_error: null, connected_since: ago(3600_000), queued: 0, held: [], ...p };
}
const OK_STORE: StoreStatus = { path: '/h/store.db', state: 'ok', error: null, since: null };
const FULL_STORE: StoreStatus = { path: '/h/store.db', state: 'disk_full', error: 'disk full at /h/store.db', since: ago(180_000) };
function input(p: Partial<StatusInput> = {}): StatusInput {
  return { phase: 'connected', phaseDetail: null, sync: sync(), store: OK_STORE, unread: 0, queued: 0, failed: 0, core: { version: '0.1.0', pid: 42, home: '/h' }, retryInSeconds: null, ...p };
}
const derive = (p: Partial<StatusInput> = {}): Status => deriveStatus(input(p));

describe('status model: the link to the core', () => {
  const cases: [ConnectionPhase, Status['kind'], string, Status['context']['switchboard.connection']][] = [
    ['starting', 'syncing', 'connecting to core', 'connecting'],
    ['connecting', 'syncing', 'connecting to core', 'connecting'],
    ['spawning', 'syncing', 'starting core', 'connecting'],
    ['reconnecting', 'error', 'core unreachable', 'unreachable'],
    ['noRuntime', 'error', 'no usable Node runtime', 'noRuntime'],
    ['incompatible', 'error', 'core incompatible', 'incompatible'],
    ['stopped', 'offline', 'stopped', 'connecting'],
  ];
  for (const [phase, kind, label, context] of cases) {
    it(`${phase}: ${kind}, "${label}", switchboard.connection = ${context}`, () => {
      const s = derive({ phase, phaseDetail: 'no core\nlistening' });
      assert.equal(s.kind, kind);
      assert.equal(s.label, label);
      assert.equal(s.connected, false);
      assert.equal(s.context['switchboard.connection'], context);
      assert.equal(s.context['switchboard.connected'], false);
      assert.equal(s.detail, `Switchboard core ${label}: no core listening`, 'the banner names the state and the reason, on one line');
      assert.deepEqual(connectionMessage(s), { type: 'connection', connected: false, sync: null, detail: s.detail });
    });
  }
  it('without a reason the banner names the state alone', () => {
    assert.equal(derive({ phase: 'reconnecting' }).detail, 'Switchboard core core unreachable');
  });
  it('a sync status kept from before the link dropped still sets the relay keys', () => {
    const s = derive({ phase: 'reconnecting', sync: sync({ state: 'offline' }) });
    assert.equal(s.context['switchboard.configured'], true);
    assert.equal(s.context['switchboard.syncState'], 'offline');
  });
});

describe('status model: connected, the relay link', () => {
  const cases: [SyncState, Status['kind'], string, RegExp | ''][] = [
    ['online', 'online', 'online', ''],
    ['connecting', 'syncing', 'syncing', /^Connecting to the relay…$/],
    ['offline', 'offline', 'offline', /^Relay offline: messages you send are queued and sent when it is reachable \(ECONNREFUSED\)$/],
    ['disabled', 'offline', 'not configured', /^Not configured: messages you send are queued until you run "Switchboard: Configure Relay…"$/],
    ['unauthorized', 'unauthorized', 'unauthorized', /^Relay unauthorized: /],
    ['error', 'error', 'error', /^Relay error: /],
  ];
  for (const [state, kind, label, detail] of cases) {
    it(`${state}: ${kind}, "${label}"`, () => {
      const s = derive({ sync: sync({ state, last_error: state === 'online' ? null : 'ECONNREFUSED' }) });
      assert.equal(s.kind, kind);
      assert.equal(s.label, label);
      assert.equal(s.connected, true);
      if (detail === '') assert.equal(s.detail, '', 'nothing to say: the banner hides');
      else assert.match(s.detail, detail);
      assert.deepEqual(s.context, {
        'switchboard.connection': 'connected',
        'switchboard.connected': true,
        'switchboard.configured': state !== 'disabled',
        'switchboard.syncState': state,
      });
      assert.deepEqual(connectionMessage(s), { type: 'connection', connected: true, sync: state, detail: s.detail });
    });
  }
  it('online with the outbox draining is syncing', () => {
    assert.deepEqual([derive({ queued: 2 }).kind, derive({ queued: 2 }).label], ['syncing', 'syncing']);
  });
  it('before the core said anything about its relay: syncing, not configured, no sync state, no banner', () => {
    const s = derive({ sync: null, store: null });
    assert.equal(s.kind, 'syncing');
    assert.equal(s.detail, '');
    assert.equal(s.context['switchboard.configured'], false);
    assert.equal(s.context['switchboard.syncState'], undefined);
    assert.equal(connectionMessage(s).sync, null);
  });
});

describe('status model: a full disk', () => {
  it('outranks the relay link: error, "disk full", the store named in the banner, the status bar and the tooltip', () => {
    const s = derive({ store: FULL_STORE });
    assert.equal(s.kind, 'error');
    assert.equal(s.label, 'disk full');
    assert.equal(s.diskFull, 'disk full at /h/store.db');
    assert.equal(s.detail, 'The disk is full (disk full at /h/store.db): sends fail and arriving messages wait at the relay until there is space; it resumes by itself');
    assert.deepEqual(connectionMessage(s), { type: 'connection', connected: true, sync: 'online', detail: s.detail }, 'the banner shows although the relay is online');
    const p = formatStatus(s, NOW);
    assert.equal(p.text, '$(error) Switchboard: disk full');
    assert.equal(p.severity, 'error');
    assert.equal(p.accessibility, 'Switchboard: disk full');
    assert.ok(p.tooltip.split('\n').includes('Store: disk full at /h/store.db since 3m ago; nothing new is stored until there is space'), p.tooltip);
    for (const state of ['offline', 'unauthorized', 'disabled'] as const) assert.equal(derive({ store: FULL_STORE, sync: sync({ state }) }).label, 'disk full', state);
  });
  it('keeps the context keys the relay link gives', () => {
    assert.deepEqual(derive({ store: FULL_STORE }).context, derive().context);
  });
  it('names the store when the core gave no sentence', () => {
    assert.equal(derive({ store: { ...FULL_STORE, error: null } }).diskFull, 'disk full at /h/store.db');
  });
  it('is not shown while the core is not reachable (its store status is stale)', () => {
    const s = derive({ phase: 'reconnecting', store: FULL_STORE });
    assert.equal(s.diskFull, null);
    assert.equal(s.label, 'core unreachable');
    assert.ok(!formatStatus(s, NOW).tooltip.includes('Store:'));
  });
  it('a store that stores again says nothing', () => {
    const s = derive({ store: OK_STORE });
    assert.equal(s.diskFull, null);
    assert.ok(!formatStatus(s, NOW).tooltip.includes('Store:'));
  });
});

describe('StatusModel', () => {
  it('starts as a window that has tried nothing', () => {
    const m = new StatusModel();
    assert.deepEqual(m.current, deriveStatus(INITIAL_STATUS_INPUT));
    assert.equal(m.current.context['switchboard.connection'], 'connecting');
  });
  it('fires once per change of the derived status, whichever source moved, and not when nothing changed', () => {
    const m = new StatusModel();
    const seen: Status[] = [];
    m.onDidChange((s) => seen.push(s));
    m.update({ phase: 'connected' });
    m.update({ phase: 'connected' });
    assert.equal(seen.length, 1, 'the same sources again: no event');
    m.update({ sync: sync({ state: 'offline' }) });
    m.update({ store: FULL_STORE });
    m.update({ unread: 3 });
    assert.deepEqual(seen.map((s) => s.label), ['syncing', 'offline', 'disk full', 'disk full']);
    assert.equal(seen[3]!.unread, 3);
    assert.equal(m.current, seen[3], 'current is what was fired');
    m.update({ store: OK_STORE });
    assert.equal(m.current.label, 'offline');
    assert.equal(seen.length, 5);
  });
  it('stops firing once disposed', () => {
    const m = new StatusModel();
    let n = 0;
    m.onDidChange(() => n++);
    m.dispose();
    m.update({ phase: 'connected' });
    assert.equal(n, 0);
  });
});
