/**
 * When the window asks the core's `status/get`: on demand, one request at a time (a demand while
 * one is in flight asks once more after it), never without a core, and every poll period while
 * the store is full — stopping once it stores again. A fake core and fake timers; no vscode.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreStatus, Method, ParamsOf, ResultOf, StoreStatus } from '../../protocol/rpc';
import { CoreStatusFeed, type Timers } from '../../extension/coreStatusFeed';
import type { Rpc } from '../../extension/rpcClient';
import { deriveStatus, INITIAL_STATUS_INPUT, StatusModel } from '../../extension/statusModel';

const FULL: StoreStatus = { path: '/h/store.db', state: 'disk_full', error: 'disk full at /h/store.db', since: '2026-11-24T12:00:00Z' };
const OK: StoreStatus = { path: '/h/store.db', state: 'ok', error: null, since: null };

function coreStatus(store: StoreStatus): CoreStatus {
  return {
    version: '0.1.0', protocol: 1, pid: 42, home: '/h', socket: '/h/core.sock', since: '2026-11-24T11:00:00Z', clients: 1, messages: 0, unread: 0,
    outbox: { pending: 0, inflight: 0, done: 0, dead: 0, aborted: 0, expired: 0 },
    store,
    sync: { state: 'online', relay: 'ws://127.0.0.1:1', user: 'alice', last_inbound_at: null, last_ack_at: null, last_error: null, connected_since: null, queued: 0, held: [] },
  };
}

/** A core whose `status/get` answers only when the test says so. */
class FakeCore implements Rpc {
  store: StoreStatus = OK;
  calls = 0;
  private pending: (() => void)[] = [];
  request<M extends Method>(method: M, _params: ParamsOf<M>): Promise<ResultOf<M>> {
    assert.equal(method, 'status/get');
    this.calls++;
    const answer = coreStatus(this.store);
    return new Promise((resolve) => this.pending.push(() => resolve(answer as ResultOf<M>)));
  }
  /** Answers every request waiting, then lets the feed's follow-ups run. */
  async answer(): Promise<void> {
    for (const r of this.pending.splice(0)) r();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

const never = (what: string) => (x: unknown) => assert.fail(`${what}: ${JSON.stringify(x)}`);

class FakeTimers implements Timers {
  readonly live = new Map<number, () => void>();
  private next = 1;
  setInterval(fn: () => void): unknown {
    const id = this.next++;
    this.live.set(id, fn);
    return id;
  }
  clearInterval(handle: unknown): void {
    this.live.delete(handle as number);
  }
  tick(): void {
    for (const fn of [...this.live.values()]) fn();
  }
}

describe('CoreStatusFeed', () => {
  it('asks once at a time, and once more after a demand made while it was asking', async () => {
    const core = new FakeCore();
    const seen: CoreStatus[] = [];
    const feed = new CoreStatusFeed(() => core, (s) => seen.push(s), never('an error'), 10_000, new FakeTimers());
    void feed.refresh();
    void feed.refresh();
    void feed.refresh();
    assert.equal(core.calls, 1, 'one request in flight');
    await core.answer();
    assert.equal(core.calls, 2, 'the demands made meanwhile ask once more');
    await core.answer();
    assert.equal(core.calls, 2);
    assert.equal(seen.length, 2);
  });

  it('does not ask without a core', async () => {
    const feed = new CoreStatusFeed(() => undefined, never('a status'), never('an error'), 10_000, new FakeTimers());
    await feed.refresh();
  });

  it('reports a refused request and asks again next time', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const rpc: Rpc = { request: () => (calls++, Promise.reject(new Error('gone'))) };
    const feed = new CoreStatusFeed(() => rpc, never('a status'), (e) => errors.push(e), 10_000, new FakeTimers());
    await feed.refresh();
    await feed.refresh();
    assert.equal(calls, 2);
    assert.equal(errors.length, 2);
  });

  it('with the status model: polls while the store is full and stops once it stores again', async () => {
    const core = new FakeCore();
    const timers = new FakeTimers();
    const model = new StatusModel({ ...INITIAL_STATUS_INPUT, phase: 'connected' });
    const feed = new CoreStatusFeed(() => core, (s) => model.update({ store: s.store, sync: s.sync }), never('an error'), 10_000, timers);
    model.onDidChange((s) => feed.watch(s.diskFull !== null));

    core.store = FULL;
    void feed.refresh(); // e.g. a send refused with DiskFull
    await core.answer();
    assert.equal(model.current.label, 'disk full');
    assert.equal(feed.polling, true);
    assert.equal(timers.live.size, 1);

    timers.tick();
    await core.answer();
    assert.equal(core.calls, 2, 'asked again after the poll period');
    assert.equal(model.current.label, 'disk full', 'still full');
    assert.equal(timers.live.size, 1, 'one poll, not one per answer');

    core.store = OK;
    timers.tick();
    await core.answer();
    assert.equal(model.current.label, 'online');
    assert.equal(feed.polling, false);
    assert.equal(timers.live.size, 0, 'no more polling once the store stores');
    assert.deepEqual(model.current, deriveStatus({ ...INITIAL_STATUS_INPUT, phase: 'connected', store: OK, sync: coreStatus(OK).sync }));
  });

  it('keeps one poll however often it is told the store is full', () => {
    const timers = new FakeTimers();
    const feed = new CoreStatusFeed(() => undefined, never('a status'), never('an error'), 10_000, timers);
    feed.watch(true);
    feed.watch(true);
    assert.equal(timers.live.size, 1);
    feed.watch(false);
    assert.equal(timers.live.size, 0);
  });

  it('stops polling and reporting once disposed', async () => {
    const core = new FakeCore();
    const timers = new FakeTimers();
    let reported = 0;
    const feed = new CoreStatusFeed(() => core, () => reported++, never('an error'), 10_000, timers);
    feed.watch(true);
    void feed.refresh();
    feed.dispose();
    await core.answer();
    assert.equal(reported, 0);
    assert.equal(timers.live.size, 0);
    feed.watch(true);
    assert.equal(timers.live.size, 0);
  });
});
