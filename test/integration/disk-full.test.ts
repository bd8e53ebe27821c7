/**
 * A full disk loses nothing (hardening defect 2). 200 messages from alice to bob while one
 * store fills up, then space returns; every message must then be at bob exactly once.
 *
 * - bob's store full: bob's core runs in this process so its store can be capped with SQLite's
 *   own `max_page_count` (writes then fail exactly as on a full disk: SQLITE_FULL); the relay
 *   and alice's core are real processes.
 * - the relay's store full: the relay runs in this process, capped the same way; both cores
 *   are real processes.
 * - a real small file system: bob's home on a size-limited tmpfs filled to the last block,
 *   bob's core a real daemon logging into that home. Needs root and mount(2); skipped, saying
 *   why, where the machine does not allow it.
 *
 * Every process is killed by its PID, every wait is bounded, temp dirs and mounts are removed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type CoreStatus, type SendResult } from '../../protocol/rpc';
import { RELAY_DB_FILE } from '../../relay/data-dir';
import type { RelayServer } from '../../relay/server';
import { addTestUser, killAllRelays, RawRelayClient, relaySqlite, startTestRelay, TestRelay } from '../support/relay';
import { Core } from '../../server/core';
import { helloCursors } from '../support/hello-cursors';
import { createLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { socketAnswers } from '../../server/socket-probe';
import { DAEMON, kill9, run, runOk, startCore, tempHome } from '../support/cli';
import { sleep, waitFor, withClient } from '../support/wait';

const MESSAGES = 200;
const NO_CAP = 1073741823;

const children = new Set<ChildProcess>();
const cleanups: (() => void | Promise<void>)[] = [];

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

after(async () => {
  for (const child of [...children]) await kill9(child);
  await killAllRelays();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const coreStatus = (home: string) => withClient(home, 'disk-full-test', (c) => c.call('status/get', {}) as Promise<CoreStatus>);

const waitOnline = (home: string) => waitFor(`${home} to be online`, async () => ((await coreStatus(home)).sync.state === 'online' ? true : undefined));

/** Sends `count` messages to bob over one connection, one after another. */
async function sendLane(home: string, lane: string, count: number): Promise<string[]> {
  return withClient(home, 'disk-full-test', async (c) => {
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) {
      const body = `lane=${lane} seq=${i}`;
      const result = (await c.call('message/send', { to: 'bob', body })) as SendResult;
      assert.ok(result.status === 'queued' || result.status === 'sent', `${body}: ${JSON.stringify(result)}`);
      bodies.push(body);
    }
    return bodies;
  });
}

async function sendAll(home: string): Promise<string[]> {
  const lanes = await Promise.all([sendLane(home, 'a', MESSAGES / 2), sendLane(home, 'b', MESSAGES / 2)]);
  return lanes.flat();
}

/** Reads a store with a connection of its own: only what committed. */
function readStore<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const inboundBodies = (store: string) => readStore(store, (db) => db.prepare("SELECT body FROM messages WHERE direction = 'in'").pluck().all() as string[]);

/** Every sent body is there exactly once, and nothing else. */
function assertExactlyOnce(inbound: string[], sent: string[]): void {
  const counts = new Map<string, number>();
  for (const body of inbound) counts.set(body, (counts.get(body) ?? 0) + 1);
  const missing = sent.filter((b) => !counts.has(b));
  const repeated = [...counts].filter(([, n]) => n > 1).map(([b, n]) => `${b} ×${n}`);
  assert.deepEqual({ missing: missing.slice(0, 10), missingCount: missing.length, repeated: repeated.slice(0, 10) }, { missing: [], missingCount: 0, repeated: [] });
  assert.equal(inbound.length, sent.length);
}

/** A sender's outbox: every message done, as `sent` (a send stored but refused, then resent, would read `duplicate`). */
function assertAllSent(senderStore: string, count = MESSAGES): void {
  const rows = readStore(senderStore, (db) => db.prepare('SELECT state, verdict, count(*) AS n FROM outbox GROUP BY state, verdict').all());
  assert.deepEqual(rows, [{ state: 'done', verdict: 'sent', n: count }]);
}

/**
 * How many times, after line `from` of a core's `log`, the core came back online and then failed
 * to store again: each one a redelivery after a reconnect that met the same fault.
 */
function refailuresAfterReconnect(log: string[], from: number, failure: (line: string) => boolean): number {
  let count = 0;
  let reconnected = false;
  for (const line of log.slice(from + 1)) {
    if (line.includes('relay: online at')) reconnected = true;
    else if (reconnected && failure(line)) {
      count++;
      reconnected = false;
    }
  }
  return count;
}

/**
 * A positive marker: one more message from `home` to bob, waited for at bob and for its verdict
 * at the sender. bob's link is one sequence, so once it is stored every delivery before it
 * (a redelivery, a duplicate) has been handled too: nothing left to wait "long enough" for.
 */
async function sendMarker(home: string, bobStore: string): Promise<string> {
  const [marker] = await sendLane(home, 'marker', 1);
  await waitFor('the marker at bob', () => (inboundBodies(bobStore).includes(marker!) ? true : undefined));
  await waitFor('the marker accepted at its sender', async () => {
    const s = await coreStatus(home);
    return s.outbox.pending + s.outbox.inflight === 0 ? true : undefined;
  });
  return marker!;
}


const relayAcked = (dataDir: string, user: string) =>
  readStore(join(dataDir, RELAY_DB_FILE), (db) => (db.prepare('SELECT acked FROM devices WHERE user = ?').pluck().get(user) as number | undefined) ?? 0);

/** The last lines of a log file, or why there are none. */
function tail(file: string, count: number): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count);
  } catch (error) {
    return [`(no log: ${(error as Error).message})`];
  }
}

/** What a stalled run needs to be understood: each sender's outbox, bob's count, the logs' tails. */
function whereMessagesAre(homes: Record<string, string>, relayLog: string[]): string {
  const lines = [`bob has ${inboundBodies(homePaths(homes.bob!).store).length}`];
  for (const sender of ['alice', 'carol']) {
    const paths = homePaths(homes[sender]!);
    const rows = readStore(paths.store, (db) => db.prepare('SELECT state, attempts, last_error, count(*) AS n FROM outbox GROUP BY state, attempts, last_error').all());
    lines.push(`${sender}'s outbox: ${JSON.stringify(rows)}`, `${sender}'s log tail:`, ...tail(paths.log, 15));
  }
  lines.push("bob's log tail:", ...tail(homePaths(homes.bob!).log, 15), "the relay's log tail:", ...relayLog.slice(-25));
  return lines.join('\n');
}

describe('a full disk loses nothing', { concurrency: false }, () => {
  test("bob's store fills up while 200 messages arrive: nothing acked that was not stored, status says so, and after space returns all 200 are there exactly once", async (t) => {
    const relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    const alice = tempHome('sb-alice-');
    const bob = tempHome('sb-bob-');
    cleanups.push(alice.cleanup, bob.cleanup);
    await relay.configureHome(alice.home, 'alice');
    await relay.configureHome(bob.home, 'bob');
    track(await startCore(alice.home));
    const bobPaths = homePaths(bob.home);
    const bobLog: string[] = [];
    let bobCore = await Core.start(bobPaths, { serve: true, log: createLogger((line) => bobLog.push(line)) });
    cleanups.push(() => bobCore.stop());
    await Promise.all([waitOnline(alice.home), waitOnline(bob.home)]);

    const db = bobCore.service.repo.db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 4}`);
    const sent = await sendAll(alice.home);

    // While the store fills and stays full: the relay's cursor for bob and bob's own stored
    // cursor never pass what bob has stored (bob's sequence holds only alice's messages).
    const passed: string[] = [];
    const checkCursors = () => {
      const stored = inboundBodies(bobPaths.store).length;
      const cursor = Number(readStore(bobPaths.store, (r) => r.prepare("SELECT value FROM sync_state WHERE key = 'relay_cursor'").pluck().get() as string | undefined) ?? 0);
      const acked = relayAcked(relay.dataDir, 'bob');
      if (cursor > stored) passed.push(`bob's stored cursor ${cursor} > ${stored} stored`);
      if (acked > stored) passed.push(`the relay's cursor for bob ${acked} > ${stored} stored`);
    };
    const storeFailed = (line: string) => line.includes('could not store a relay frame');
    await waitFor('bob to fail storing a delivery', () => {
      checkCursors();
      return bobLog.some(storeFailed) ? true : undefined;
    });
    // Redeliveries keep meeting the full store: two of them, each after a reconnect, checked all
    // along (a cursor past what is stored ends the wait: the assertion below says so).
    const firstFailure = bobLog.findIndex(storeFailed);
    await waitFor('two redeliveries to meet the full store again', () => {
      checkCursors();
      return refailuresAfterReconnect(bobLog, firstFailure, storeFailed) >= 2 || passed.length > 0 ? true : undefined;
    }, 30_000, 100);
    checkCursors();
    assert.deepEqual(passed.slice(0, 5), []);
    const storedWhileFull = inboundBodies(bobPaths.store).length;
    assert.ok(storedWhileFull < MESSAGES, `the cap should stop bob's store short of ${MESSAGES} (stored ${storedWhileFull})`);
    const full = bobCore.service.storeStatus();
    assert.equal(full.state, 'disk_full');
    assert.equal(full.error, `disk full at ${bobPaths.store}`);

    // The CLI says where the disk is full, in words, in both forms.
    const json = JSON.parse(await runOk(bob.home, ['status', '--json'])) as CoreStatus;
    assert.deepEqual({ state: json.store.state, error: json.store.error }, { state: 'disk_full', error: `disk full at ${bobPaths.store}` });
    const human = await runOk(bob.home, ['status']);
    assert.match(human, new RegExp(`store: +disk full at ${bobPaths.store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.doesNotMatch(human + JSON.stringify(json), /SQLITE_FULL|ENOSPC/);
    const doctor = await run(bob.home, ['doctor']);
    assert.match(doctor.stdout, /^fail +store: disk full at .*store\.db/m);
    // A local write meets the same plain error (a body too large to fit in what space is left).
    const refused = await run(bob.home, ['send', '--to', 'alice', '-m', 'x'.repeat(50_000)]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /disk full at .*store/);
    assert.doesNotMatch(refused.stderr, /SQLITE_FULL|internal error/);

    // Space returns.
    db.pragma(`max_page_count = ${NO_CAP}`);
    await waitFor(`all ${MESSAGES} at bob`, () => (inboundBodies(bobPaths.store).length >= MESSAGES ? true : undefined));
    await waitFor('alice to hear every send accepted', () => {
      const open = readStore(homePaths(alice.home).store, (adb) => adb.prepare("SELECT count(*) FROM outbox WHERE state <> 'done'").pluck().get() as number);
      return open === 0 ? true : undefined;
    });
    await waitFor('bob to report the store fine again', () => (bobCore.service.storeStatus().state === 'ok' ? true : undefined));
    assert.ok(bobLog.some((line) => line.includes(`store: disk full at ${bobPaths.store}; writes wait for space`)), 'the core says once that its store is full');
    assert.ok(bobLog.some((line) => line.includes(`store: space is back at ${bobPaths.store}`)), 'the core says when space is back');
    await waitFor('the relay to have everything acked', () => (relayAcked(relay.dataDir, 'bob') === MESSAGES ? true : undefined));

    // A restart resumes from the stored cursor: nothing is delivered twice. Exactly-once alone
    // cannot show that the cursor was stored: the relay resumes from the larger of the hello's
    // cursor and its own record of bob's acks (200 here), and bob drops a redelivery by its id.
    // So the stored row and the restarted core's hello are checked themselves.
    const storedCursor = () => Number(readStore(bobPaths.store, (r) => r.prepare("SELECT value FROM sync_state WHERE key = 'relay_cursor'").pluck().get() as string | undefined) ?? 0);
    assert.equal(storedCursor(), MESSAGES, "bob's stored cursor is the last delivery it stored");
    const hellos = helloCursors(t);
    await bobCore.stop();
    bobCore = await Core.start(bobPaths, { serve: true, log: createLogger((line) => bobLog.push(line)) });
    await waitOnline(bob.home);
    assert.equal(hellos[0], MESSAGES, 'the restarted core says hello from the cursor it stored');
    const marker = await sendMarker(alice.home, bobPaths.store);
    assertExactlyOnce(inboundBodies(bobPaths.store), [...sent, marker]);
    assertAllSent(homePaths(alice.home).store, MESSAGES + 1);
    assert.equal(storedCursor(), MESSAGES + 1, 'the marker moved the stored cursor in the commit that stored it');
    await bobCore.stop();
  });

  test("the relay's store fills up while 200 messages from two senders pass through: sends it could not store are refused as retryable, never accepted; after space returns all 200 arrive exactly once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-relay-full-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const relayLog: string[] = [];
    const users = ['alice', 'carol', 'bob'] as const;
    const tokens: Record<string, string> = {};
    for (const user of users) tokens[user] = await addTestUser(dataDir, user);
    const relay: RelayServer = await startTestRelay({ dataDir, log: (line) => relayLog.push(line) });
    cleanups.push(() => relay.close());
    const homes: Record<string, string> = {};
    for (const user of users) {
      const side = tempHome(`sb-${user}-`);
      cleanups.push(side.cleanup);
      homes[user] = side.home;
      await runOk(side.home, ['init', '--relay', relay.url, '--user', user, '--token', tokens[user]!]);
      track(await startCore(side.home));
    }
    await Promise.all(users.map((user) => waitOnline(homes[user]!)));

    const db = relaySqlite(relay).store.db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 4}`);
    // Two senders at once: their sends share the relay's write batches.
    const lanes = await Promise.all([sendLane(homes.alice!, 'alice', MESSAGES / 2), sendLane(homes.carol!, 'carol', MESSAGES / 2)]);
    const sent = lanes.flat();
    await waitFor('the relay to refuse a send for want of space', () => (relayLog.some((line) => /send failed to commit/.test(line)) ? true : undefined));
    assert.ok(relayLog.some((line) => /send failed to commit: disk full at /.test(line)), 'the relay logs where its disk is full');
    assert.ok(relayLog.some((line) => /relay\.db: sends are refused as retryable until space returns$/.test(line)), 'the relay says once that it is full, and what that means');
    // Retried while full, and refused again: still nothing lost, nothing falsely accepted.
    // Not synchronisation: the store stays full for a while, so the senders' retries meet it.
    await sleep(1500);

    db.pragma(`max_page_count = ${NO_CAP}`);
    try {
      await waitFor(`all ${MESSAGES} at bob`, () => (inboundBodies(homePaths(homes.bob!).store).length >= MESSAGES ? true : undefined), 90_000, 200);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${whereMessagesAre(homes, relayLog)}`);
    }
    assert.ok(relayLog.some((line) => /^space is back at .*relay\.db \(full since .*\): sends are stored again$/.test(line)), 'the relay says when space is back');
    for (const sender of ['alice', 'carol']) {
      await waitFor(`${sender} to hear every send accepted`, async () => {
        const s = await coreStatus(homes[sender]!);
        return s.outbox.pending + s.outbox.inflight === 0 ? true : undefined;
      });
    }
    const marker = await sendMarker(homes.alice!, homePaths(homes.bob!).store);
    assertExactlyOnce(inboundBodies(homePaths(homes.bob!).store), [...sent, marker]);
    assertAllSent(homePaths(homes.alice!).store, MESSAGES / 2 + 1);
    assertAllSent(homePaths(homes.carol!).store, MESSAGES / 2);
  });

  test('a delivery that fails to store holds the cursor: no later delivery on that link is kept or acked past it, and after the fault clears all arrive exactly once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-relay-poison-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const tokens = { alice: await addTestUser(dataDir, 'alice'), bob: await addTestUser(dataDir, 'bob') };
    const relay: RelayServer = await startTestRelay({ dataDir });
    cleanups.push(() => relay.close());
    const bob = tempHome('sb-bob-');
    cleanups.push(bob.cleanup);
    await runOk(bob.home, ['init', '--relay', relay.url, '--user', 'bob', '--token', tokens.bob]);
    const bobPaths = homePaths(bob.home);
    const bobLog: string[] = [];
    const bobCore = await Core.start(bobPaths, { serve: true, log: createLogger((line) => bobLog.push(line)) });
    cleanups.push(() => bobCore.stop());
    await waitOnline(bob.home);
    const alice = await RawRelayClient.login(relay.url, 'alice', tokens.alice, 'alice-raw');
    cleanups.push(() => alice.closeAndWait().then(() => undefined, () => undefined));

    // bob's store refuses one delivery (a statement-level failure: only its savepoint rolls
    // back, the batch goes on), as a bug or a corrupt row would.
    const db = bobCore.service.repo.db;
    db.exec("CREATE TEMP TRIGGER poison BEFORE INSERT ON main.messages WHEN NEW.body LIKE 'poison%' BEGIN SELECT RAISE(ABORT, 'poisoned delivery'); END");
    // Large bodies: the frames behind the poisoned one arrive in reads of their own, so their
    // writes land in the same batch as its failed write, or right after it.
    const pad = 'p'.repeat(40_000);
    const bodies = ['poison ' + pad, ...Array.from({ length: 12 }, (_, i) => `after ${i} ${pad}`)];
    bodies.forEach((body, i) => alice.sendMessage('bob', body, `cm-${i}`));
    const verdicts = await alice.take('verdict', bodies.length, 20_000);
    assert.ok(verdicts.every((v) => v.result === 'accepted'));
    const poisoned = (line: string) => line.includes('poisoned delivery');
    await waitFor('bob to fail storing the poisoned delivery', () => (bobLog.some(poisoned) ? true : undefined));
    // Reconnects redeliver; the poisoned one keeps failing: wait for two redeliveries to meet it
    // (or, the bug, for a cursor to move past it: the assertions below then say which).
    const storedCursorOf = () => Number(readStore(bobPaths.store, (r) => r.prepare("SELECT value FROM sync_state WHERE key = 'relay_cursor'").pluck().get() as string | undefined) ?? 0);
    const firstPoisoned = bobLog.findIndex(poisoned);
    await waitFor(
      'two redeliveries to meet the poisoned delivery again',
      () => (refailuresAfterReconnect(bobLog, firstPoisoned, poisoned) >= 2 || storedCursorOf() > 0 || relayAcked(dataDir, 'bob') > 0 ? true : undefined),
      30_000,
      100,
    );
    const storedCursor = storedCursorOf();
    assert.equal(storedCursor, 0, "bob's stored cursor stays before the delivery it could not keep");
    assert.equal(relayAcked(dataDir, 'bob'), 0, 'nothing is acked past it');
    assert.deepEqual(inboundBodies(bobPaths.store), [], 'nothing behind it is kept');

    db.exec('DROP TRIGGER poison');
    await waitFor(`all ${bodies.length} at bob`, () => (inboundBodies(bobPaths.store).length >= bodies.length ? true : undefined));
    await waitFor('the relay to have everything acked', () => (relayAcked(dataDir, 'bob') === bodies.length ? true : undefined));
    assertExactlyOnce(inboundBodies(bobPaths.store), bodies);
  });

  test("on a real file system that fills up (tmpfs): bob's core keeps running, says disk full, and has all 200 exactly once when space returns", async (t) => {
    const cannot = mountUnavailable();
    if (cannot) return t.skip(cannot);
    const mount = mkdtempSync(join(tmpdir(), 'sb-tmpfs-'));
    cleanups.push(() => rmSync(mount, { recursive: true, force: true }));
    // 16 MiB: room for the store; the filler takes the rest.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', mount]);
    cleanups.push(() => unmount(mount));

    const relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    const alice = tempHome('sb-alice-');
    cleanups.push(alice.cleanup);
    const bobHome = join(mount, 'bob');
    await relay.configureHome(alice.home, 'alice');
    await relay.configureHome(bobHome, 'bob');
    track(await startCore(alice.home));
    // As `daemon start` runs it: its log goes to a file in the home, on the full disk too.
    const logFd = openSync(join(bobHome, 'core.log'), 'a', 0o600);
    const bobCore = track(spawn(process.execPath, [DAEMON, '--home', bobHome], { stdio: ['ignore', 'ignore', logFd] }));
    closeSync(logFd);
    const bobPaths = homePaths(bobHome);
    await waitFor('bob core to answer', async () => ((await socketAnswers(bobPaths.socket)) ? true : undefined), 20_000);
    await Promise.all([waitOnline(alice.home), waitOnline(bobHome)]);

    // Fill the file system to the last block, then give back a little: a few messages fit.
    const filler = join(mount, 'filler');
    fillUp(filler);
    execFileSync('truncate', ['-s', '-96K', filler]);
    const sent = await sendAll(alice.home);
    const full = await waitFor('bob to report disk full', async () => {
      const s = await coreStatus(bobHome);
      return s.store.state === 'disk_full' ? s.store : undefined;
    });
    assert.equal(full.error, `disk full at ${bobPaths.store}`);
    assert.ok(inboundBodies(bobPaths.store).length < MESSAGES);
    const json = JSON.parse(await runOk(bobHome, ['status', '--json'])) as CoreStatus;
    assert.equal(json.store.error, `disk full at ${bobPaths.store}`);
    // Now the log cannot grow either: its last page is filled, and so is the file system.
    const logPath = join(bobHome, 'core.log');
    padToPage(logPath);
    fillUp(filler, 'a');
    const logSizeWhileFull = statSync(logPath).size;
    // Reconnects keep meeting the full store, and every one of them tries to log.
    // A negative check with no event to wait on (the log is what cannot grow); left as it was.
    await sleep(2000);
    assert.equal(statSync(logPath).size, logSizeWhileFull, 'nothing could be logged meanwhile');
    assert.equal(bobCore.exitCode, null, 'the core keeps running on a full disk');
    assert.equal((await coreStatus(bobHome)).pid, bobCore.pid);

    rmSync(filler);
    await waitFor(`all ${MESSAGES} at bob`, () => (inboundBodies(bobPaths.store).length >= MESSAGES ? true : undefined), 90_000, 200);
    await waitFor('bob to report the store fine again', async () => ((await coreStatus(bobHome)).store.state === 'ok' ? true : undefined));
    await waitFor('alice to hear every send accepted', async () => {
      const s = await coreStatus(alice.home);
      return s.outbox.pending + s.outbox.inflight === 0 ? true : undefined;
    });
    const marker = await sendMarker(alice.home, bobPaths.store);
    assertExactlyOnce(inboundBodies(bobPaths.store), [...sent, marker]);
    assertAllSent(homePaths(alice.home).store, MESSAGES + 1);
    assert.equal(bobCore.exitCode, null);
    // The log resumes once there is space.
    // Said only once space is back, so it needs no timestamp check (a line the full disk cut
    // in half leaves the next one without a timestamp of its own at the start).
    const log = readFileSync(logPath, 'utf8');
    assert.ok(log.includes(`store: space is back at ${bobPaths.store}`), `the core logs that space is back once it can; the log ends: ${JSON.stringify(log.slice(-400))}`);
    await kill9(bobCore);
  });

  test('with no core, on a real file system that is full (tmpfs): send, status and init say "disk full at <path>" and what to do, never SQLITE_FULL or ENOSPC', async (t) => {
    const cannot = mountUnavailable();
    if (cannot) return t.skip(cannot);
    const mount = mkdtempSync(join(tmpdir(), 'sb-tmpfs-'));
    cleanups.push(() => rmSync(mount, { recursive: true, force: true }));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mount]);
    cleanups.push(() => unmount(mount));
    const home = join(mount, 'bob');
    const paths = homePaths(home);
    // Nothing listens on port 9: sends stay queued, and no relay is needed.
    await runOk(home, ['init', '--relay', 'ws://127.0.0.1:9', '--user', 'bob', '--token', 'secret']);
    await runOk(home, ['send', '--to', 'alice', '-m', 'before the disk filled', '--wait', '0'], 3);

    const filler = join(mount, 'filler');
    fillUp(filler);
    const storeFull = `switchboard: disk full at ${paths.store}: nothing was stored; free some space and retry`;
    for (const args of [['send', '--to', 'alice', '-m', 'x'.repeat(20_000), '--wait', '0'], ['status'], ['inbox']]) {
      const r = await run(home, args);
      assert.deepEqual({ code: r.code, stderr: r.stderr.trim() }, { code: 1, stderr: storeFull }, args.join(' '));
    }
    const init = await run(home, ['init', '--relay', 'ws://127.0.0.1:9', '--user', 'bob', '--token', 'other']);
    assert.deepEqual({ code: init.code, stderr: init.stderr.trim() }, { code: 1, stderr: `switchboard: disk full at ${paths.config}: the settings were not saved; free some space and retry` });
    assert.equal(readFileSync(paths.token, 'utf8').trim(), 'secret', 'the old settings stay');

    rmSync(filler);
    await runOk(home, ['send', '--to', 'alice', '-m', 'after space returned', '--wait', '0'], 3);
    assert.match(await runOk(home, ['outbox']), /after space returned/);
  });
});

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
function mountUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `mounting a size-limited tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a size-limited tmpfs needs root (mount(2)); run the suite as root to include this test';
  const probe = mkdtempSync(join(tmpdir(), 'sb-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    unmount(probe);
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `mount -t tmpfs failed here (${stderr || (error as Error).message}); a container without CAP_SYS_ADMIN cannot mount`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

function unmount(path: string): void {
  try {
    execFileSync('umount', [path], { stdio: 'pipe' });
  } catch {
    // Still busy (a process we killed has not let go yet): detach it now, freed once unused.
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
  }
}

/** Appends to `file` until its size is a whole number of pages: its next line needs a new block. */
function padToPage(file: string): void {
  const size = statSync(file).size;
  const pad = (4096 - (size % 4096)) % 4096;
  if (pad > 0) appendFileSync(file, '#'.repeat(pad - 1) + '\n');
}

/** Writes zeros to `file` until the file system has no block left. */
function fillUp(file: string, flags: 'w' | 'a' = 'w'): void {
  const fd = openSync(file, flags);
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let i = 0; i < 100_000; i++) {
      try {
        writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw error;
      }
    }
    throw new Error('the file system never filled up');
  } finally {
    closeSync(fd);
  }
}
