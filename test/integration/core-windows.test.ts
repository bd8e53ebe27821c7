/**
 * Several editor windows are several clients of one core: each connects the way
 * vscode-languageclient does (LSP-shaped initialize), and all of them must agree.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { PROTOCOL_VERSION, type Conversation } from '../../protocol/rpc';
import { homePaths } from '../../lib/node/paths';
import { kill9, runOk, startCore, tempHome } from '../support/cli';
import { TestRelay } from '../support/relay';

interface Window {
  connection: MessageConnection;
  unread: () => Promise<number>;
  /** Unread counts as last announced to this window by notifications. */
  notified: Map<string, boolean>;
}

async function openWindow(home: string): Promise<Window> {
  const socket = connect(homePaths(home).socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  const notified = new Map<string, boolean>();
  connection.onNotification('message/received', (p: { message: { id: string; read: boolean } }) => {
    notified.set(p.message.id, p.message.read);
  });
  connection.onNotification('message/updated', (p: { message: { id: string; read: boolean; direction: string } }) => {
    if (p.message.direction === 'in') notified.set(p.message.id, p.message.read);
  });
  connection.listen();
  await connection.sendRequest('initialize', {
    processId: process.pid,
    capabilities: {},
    rootUri: null,
    initializationOptions: { client: { name: 'vscode-window', version: '1' }, protocol: PROTOCOL_VERSION },
  });
  await connection.sendNotification('initialized', {});
  await connection.sendRequest('events/subscribe', {});
  const unread = async () => ((await connection.sendRequest('conversation/list', {})) as { conversations: Conversation[] }).conversations.reduce((n, c) => n + c.unread, 0);
  return { connection, unread, notified };
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const relay = new TestRelay();
const alice = tempHome('sb-win-alice-');
const bob = tempHome('sb-win-bob-');
let cores: Awaited<ReturnType<typeof startCore>>[] = [];

before(async () => {
  await relay.start();
  await relay.configureHome(alice.home, 'alice');
  await relay.configureHome(bob.home, 'bob');
  cores = [await startCore(alice.home), await startCore(bob.home)];
});

after(async () => {
  for (const core of cores) await kill9(core);
  await relay.dispose();
  alice.cleanup();
  bob.cleanup();
});

test('two windows on one core see the same unread counts, live, and one leaving does not stop the other', async () => {
  const first = await openWindow(alice.home);
  const second = await openWindow(alice.home);
  for (let i = 0; i < 3; i++) await runOk(bob.home, ['send', '--to', 'alice', '-m', `window test ${i}`]);
  await eventually('both windows to be told of three messages', () => first.notified.size === 3 && second.notified.size === 3);
  assert.equal(await first.unread(), 3);
  assert.equal(await second.unread(), 3);

  // Marking read in one window is seen by the other, through its notifications.
  const [someId] = [...first.notified.keys()];
  await first.connection.sendRequest('message/markRead', { ids: [someId] });
  await eventually('the second window to see it read', () => second.notified.get(someId!) === true);
  assert.equal(await second.unread(), 2);
  assert.equal(await first.unread(), 2);

  // A window leaving the LSP way (shutdown, exit) leaves the core serving the other.
  await first.connection.sendRequest('shutdown');
  await first.connection.sendNotification('exit');
  first.connection.dispose();
  await runOk(bob.home, ['send', '--to', 'alice', '-m', 'after one window left']);
  await eventually('the remaining window to hear of it', () => second.notified.size === 4);
  assert.equal(await second.unread(), 3);
  second.connection.dispose();
});
