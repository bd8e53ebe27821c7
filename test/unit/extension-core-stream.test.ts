/**
 * The extension's view of the core it reaches, against a real core (Core.start in this process,
 * its own store and socket): whether that core can serve the extension, and resuming the event
 * stream from the window's cursor after the core was down — no gap, no repeat.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, PROTOCOL_VERSION, type InitializeResult, type MessageEvent } from '../../protocol/rpc';
import { EventCursor, incompatibility, initializeAnswer, isDiskFull, REQUIRED_METHODS } from '../../extension/coreStream';
import { SocketClient } from '../../server/cli/socket-client';
import { Core } from '../../server/core';
import { newId } from '../../lib/node/ids';
import { silentLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { tempHome } from '../support/cli';
import { directStoreFields } from '../support/messages';
import { until } from '../support/wait';

interface Window {
  client: SocketClient;
  /** Message events received, with whether the cursor called them backlog. */
  received: { id: string; cursor: number; backlog: boolean }[];
}

/** A window of the extension: initializes, subscribes from `cursor`, and notes every event as CoreConnection does. */
async function openWindow(home: string, cursor: EventCursor): Promise<Window & { init: InitializeResult }> {
  const client = await SocketClient.connect(homePaths(home).socket);
  const received: Window['received'] = [];
  client.onNotification((method, params) => {
    const e = params as MessageEvent;
    if (typeof e.cursor !== 'number') return;
    cursor.note(e.cursor);
    if (method === 'message/received' && e.message) received.push({ id: e.message.id, cursor: e.cursor, backlog: cursor.isBacklog(e.cursor) });
  });
  try {
    const init = (await client.call('initialize', { client: { name: 'core-stream-test', version: '1' }, protocol: PROTOCOL_VERSION })) as InitializeResult;
    cursor.resubscribing();
    cursor.subscribed(((await client.call('events/subscribe', cursor.subscribeParams())) as { cursor: number }).cursor);
    return { client, received, init };
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Stores inbound messages from `from` as the sync engine stores deliveries. */
async function deliver(core: Core, from: string, count: number): Promise<string[]> {
  const repo = core.service.repo;
  return core.service.writes.run(() => {
    const now = new Date().toISOString();
    return Array.from({ length: count }, () => {
      const id = newId();
      repo.insertMessage({ id, client_message_id: `c-${id}`, server_id: newId(), conversation: from, direction: 'in', from, to: 'me', body: `hi ${id}`, reply_to: null, request_id: null, created_at: now, state: 'received', read: false, ...directStoreFields('in') });
      repo.addEvent('message/received', id, now);
      return id;
    });
  });
}

test('the real core serves this extension; one lacking a method it calls, or on an older protocol, is incompatible', async () => {
  const home = tempHome('sb-stream-');
  let core: Core | undefined;
  let window: Window | undefined;
  try {
    core = await Core.start(homePaths(home.home), { serve: true, sync: false, log: silentLogger });
    const opened = await openWindow(home.home, new EventCursor());
    window = opened;
    assert.equal(incompatibility(opened.init), undefined);
    const { server, serverInfo, protocol, methods } = opened.init;
    assert.deepEqual(initializeAnswer(opened.init), { server, serverInfo, protocol, methods }, 'the fields the extension reads, as the core sent them');
    for (const method of REQUIRED_METHODS) {
      const older = { ...opened.init, methods: opened.init.methods.filter((m) => m !== method) };
      assert.match(incompatibility(older) ?? '', new RegExp(`lacks ${method.replace('/', '\\/')}; restart it with "switchboard daemon restart"`), method);
    }
    assert.match(incompatibility({ ...opened.init, protocol: PROTOCOL_VERSION - 1 }) ?? '', new RegExp(`\\(protocol ${PROTOCOL_VERSION - 1}\\) and lacks protocol ${PROTOCOL_VERSION}`));
    assert.equal(incompatibility({ ...opened.init, protocol: PROTOCOL_VERSION + 1 }), undefined, 'a newer core still serves what this extension calls');
  } finally {
    window?.client.close();
    await core?.stop();
    home.cleanup();
  }
});

test('an initialize answer is read only where its fields have the right type', () => {
  assert.equal(initializeAnswer(undefined), undefined);
  assert.equal(initializeAnswer('initialized'), undefined);
  assert.deepEqual(initializeAnswer({ server: { name: 1, version: '1' }, serverInfo: { name: 'sb', version: '2' }, protocol: '1', methods: ['status/get', 2] }), { serverInfo: { name: 'sb', version: '2' }, methods: ['status/get'] });
  assert.match(incompatibility(initializeAnswer({ methods: ['status/get'] })) ?? '', /lacks message\/send/);
});

test('a request refused for a full disk is told apart by its code', () => {
  assert.equal(isDiskFull({ code: ErrorCodes.DiskFull, message: 'disk full at /h/store.db: nothing was stored; free some space and retry' }), true);
  assert.equal(isDiskFull({ code: ErrorCodes.InternalError, message: 'disk full' }), false, 'the code decides, not the words');
  assert.equal(isDiskFull(null), false);
  assert.equal(isDiskFull('disk full'), false);
});

test('a window resumes from its cursor after its core was down: what arrived meanwhile comes once, as backlog, then live events', async () => {
  const home = tempHome('sb-stream-');
  const paths = homePaths(home.home);
  const cursor = new EventCursor();
  let core: Core | undefined;
  let window: Window | undefined;
  try {
    core = await Core.start(paths, { serve: true, sync: false, log: silentLogger });
    window = await openWindow(home.home, cursor);
    const before = await deliver(core, 'bob', 3);
    await until('three live events', () => window!.received.length === 3);
    assert.deepEqual(window.received.map((r) => [r.id, r.backlog]), before.map((id) => [id, false]));
    window.client.close();
    window = undefined;
    await core.stop();

    // While the core is down, the CLI's direct mode stores what arrives.
    const direct = await Core.start(paths, { serve: false, sync: false, log: silentLogger });
    let meanwhile: string[];
    try {
      meanwhile = await deliver(direct, 'bob', 2);
    } finally {
      await direct.stop();
    }

    core = await Core.start(paths, { serve: true, sync: false, log: silentLogger });
    assert.ok((cursor.subscribeParams().since ?? 0) > 0, 'it resubscribes from where it was');
    window = await openWindow(home.home, cursor);
    await until('the two stored meanwhile', () => window!.received.length === 2);
    const after = await deliver(core, 'carol', 1);
    await until('one live event', () => window!.received.length === 3);
    assert.deepEqual(
      window.received.map((r) => [r.id, r.backlog]),
      [...meanwhile.map((id) => [id, true]), [after[0], false]],
      'no gap, no repeat of the three seen before, backlog told apart from live',
    );
  } finally {
    window?.client.close();
    await core?.stop();
    home.cleanup();
  }
});
