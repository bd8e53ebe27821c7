/**
 * The relay as a real process: kill -9 mid-stream, graceful SIGTERM, the CLI verbs, wss.
 * Every process is started by the test and killed by its PID.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { RelayCloseCodes, type DeliverFrameV2 as DeliverFrame } from '../../protocol/relay';
import { killAllRelays, makeTempDir, RawRelayClient, runRelay, spawnRelay, type RelayEntry } from '../support/relay';
import { RelayStore } from '../../relay/store';
import { RelayLink } from '../../server/sync/relay-link';
import { withTimeout } from '../../lib/node/with-timeout';

/** The relay runs from source through tsx here, so this file needs no build. */
const entry: RelayEntry = 'source';
const dirs: ReturnType<typeof makeTempDir>[] = [];
function tempDir(): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return dir.path;
}
const clients: RawRelayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.closeAndWait().catch(() => undefined)));
  await killAllRelays();
});
after(() => {
  for (const dir of dirs) dir.remove();
});

async function addUserCli(dataDir: string, name: string): Promise<string> {
  const result = await runRelay(['add-user', name, '--data', dataDir, '--json'], { entry });
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as { user: string; token: string };
  assert.equal(parsed.user, name);
  return parsed.token;
}

async function login(url: string, user: string, token: string, device: string, cursor = 0): Promise<RawRelayClient> {
  const client = await RawRelayClient.login(url, user, token, device, cursor);
  clients.push(client);
  return client;
}

/** A recipient core in miniature: commits deliveries in order, acks, resumes from its cursor. */
class RecipientCore {
  cursor = 0;
  readonly committed: DeliverFrame[] = [];
  readonly seenSeqs: number[] = [];

  /**
   * Commits the deliveries already received on `client`, then those arriving, until `done()`;
   * fails after `timeoutMs` instead of waiting for a quiet moment that may never mean "all".
   */
  async drainUntil(client: RawRelayClient, done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = client.frames.findIndex((f) => f.type === 'deliver'); i >= 0; i = client.frames.findIndex((f) => f.type === 'deliver')) {
        this.commit(client, client.frames.splice(i, 1)[0] as DeliverFrame);
      }
      if (done()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.committed.length} committed)`);
      try {
        this.commit(client, await client.next('deliver', Math.max(1, Math.min(250, deadline - Date.now()))));
      } catch {
        // Nothing within the poll interval: look at done() and the deadline again.
      }
    }
  }

  private commit(client: RawRelayClient, frame: DeliverFrame): void {
    this.seenSeqs.push(frame.seq);
    if (frame.seq <= this.cursor) return; // a core ignores what it already committed
    assert.equal(frame.seq, this.cursor + 1, 'deliveries arrive in sequence order without gaps');
    this.committed.push(frame);
    this.cursor = frame.seq;
    if (client.socket.readyState === client.socket.OPEN) client.send({ type: 'ack', seq: this.cursor });
  }

  messageIds(): string[] {
    return this.committed.map((frame) => (frame.item.kind === 'message' ? frame.item.message.client_message_id : 'receipt'));
  }
}

/** The number of deliveries the relay in `dataDir` has stored for `user`, read through a connection of our own. */
function storedFor(dataDir: string, user: string): number {
  const store = RelayStore.open(dataDir);
  try {
    return store.lastSeq(user);
  } finally {
    store.close();
  }
}

test('kill -9 mid-stream, then restart: every accepted message is delivered exactly once', async () => {
  const dataDir = tempDir();
  const aliceToken = await addUserCli(dataDir, 'alice');
  const bobToken = await addUserCli(dataDir, 'bob');
  const first = await spawnRelay(['--data', dataDir, '--rate', '0'], { entry });

  const bob = new RecipientCore();
  const bobLive = await login(first.url, 'bob', bobToken, 'bob-core');
  const alice = await login(first.url, 'alice', aliceToken, 'alice-core');
  const total = 600;
  // Sent as a trickle, so that group commit cannot take the whole stream in one batch before
  // the kill lands; what was not sent before the kill is sent after the restart below.
  const trickle = (async () => {
    for (let i = 0; i < total && first.child.exitCode === null && first.child.signalCode === null; i++) {
      alice.sendMessage('bob', `message ${i}`, `k9-${i}`);
      // Pacing the load (see above), not synchronisation.
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();

  // Kill the relay once part of the stream is acknowledged, while the rest is in flight.
  const acceptedBeforeCrash = new Set<string>();
  while (acceptedBeforeCrash.size < 150) {
    const verdict = await alice.next('verdict', 10_000);
    assert.equal(verdict.result, 'accepted');
    acceptedBeforeCrash.add(verdict.client_message_id);
  }
  first.kill('SIGKILL');
  assert.equal((await withTimeout(first.exited, 10_000, 'the relay to die')).signal, 'SIGKILL');
  await trickle;
  // Verdicts that made it out before the kill count as acknowledged too.
  for (const frame of alice.frames.splice(0)) if (frame.type === 'verdict' && frame.result === 'accepted') acceptedBeforeCrash.add(frame.client_message_id);
  // What reached bob before the kill is committed; his socket is closed, so nothing more comes.
  await withTimeout(bobLive.closed, 10_000, "bob's link to drop");
  await bob.drainUntil(bobLive, () => true, 'what arrived before the kill');
  assert.ok(acceptedBeforeCrash.size < total, 'the kill landed mid-stream');

  const second = await spawnRelay(['--data', dataDir, '--rate', '0'], { entry });
  // The sender's core retries everything it has no verdict for (and, to prove durability, the rest too).
  const aliceAgain = await login(second.url, 'alice', aliceToken, 'alice-core');
  for (let i = 0; i < total; i++) aliceAgain.sendMessage('bob', `message ${i}`, `k9-${i}`);
  const retried = await aliceAgain.take('verdict', total, 30_000);
  for (const verdict of retried) {
    assert.ok(verdict.result === 'accepted' || verdict.result === 'duplicate', JSON.stringify(verdict));
    if (acceptedBeforeCrash.has(verdict.client_message_id)) assert.equal(verdict.result, 'duplicate', `${verdict.client_message_id} was acknowledged before the kill, so it must have survived`);
  }

  const bobAgain = await login(second.url, 'bob', bobToken, 'bob-core', bob.cursor);
  await bob.drainUntil(bobAgain, () => new Set(bob.messageIds()).size === total, `all ${total} messages`);
  const delivered = bob.messageIds();
  assert.equal(new Set(delivered).size, delivered.length, 'no message delivered twice');
  assert.deepEqual([...delivered].sort(), Array.from({ length: total }, (_, i) => `k9-${i}`).sort(), 'every message delivered');
  const redeliveredAfterCursor = bob.seenSeqs.filter((seq, index) => bob.seenSeqs.indexOf(seq) !== index);
  assert.deepEqual(redeliveredAfterCursor, [], 'the relay never resent a seq the core had acked in its hello');
  second.kill('SIGTERM');
  assert.equal((await withTimeout(second.exited, 10_000, 'shutdown')).code, 0);
});

test('SIGTERM: clients see 1001, the process exits 0, and every acknowledged send survives', async () => {
  const dataDir = tempDir();
  const aliceToken = await addUserCli(dataDir, 'alice');
  const bobToken = await addUserCli(dataDir, 'bob');
  const relay = await spawnRelay(['--data', dataDir, '--rate', '0'], { entry });
  const alice = await login(relay.url, 'alice', aliceToken, 'a');
  for (let i = 0; i < 300; i++) alice.sendMessage('bob', `m${i}`, `term-${i}`);
  await alice.next('verdict', 10_000);
  relay.kill('SIGTERM');
  const closed = await withTimeout(alice.closed, 10_000, 'the relay to close the socket');
  assert.equal(closed.code, RelayCloseCodes.GoingAway);
  const exit = await withTimeout(relay.exited, 10_000, 'the relay to exit');
  assert.equal(exit.code, 0, relay.stderr());
  const accepted = new Set(['term-0']);
  for (const frame of alice.frames) if (frame.type === 'verdict' && frame.result === 'accepted') accepted.add(frame.client_message_id);

  const again = await spawnRelay(['--data', dataDir], { entry });
  const bob = new RecipientCore();
  const stored = storedFor(dataDir, 'bob');
  await bob.drainUntil(await login(again.url, 'bob', bobToken, 'b'), () => bob.committed.length >= stored, `the ${stored} stored deliveries`);
  const delivered = new Set(bob.committed.map((f) => (f.item.kind === 'message' ? f.item.message.client_message_id : '')));
  for (const id of accepted) assert.ok(delivered.has(id), `${id} was accepted before shutdown but not delivered after`);
  assert.equal(delivered.size, bob.committed.length, 'exactly once');
});

test('CLI: add-user prints the token once, refuses duplicates, revoke closes live connections with 4001', async () => {
  const dataDir = tempDir();
  const env = { SWITCHBOARD_RELAY_DATA: dataDir };
  const plain = await runRelay(['add-user', 'carol'], { entry, env });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout.trim(), /^sbr_[A-Za-z0-9_-]{40,}$/, 'default data dir comes from SWITCHBOARD_RELAY_DATA');
  const duplicate = await runRelay(['add-user', 'carol', '--data', dataDir], { entry });
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /revoke carol/);
  assert.equal(duplicate.stderr.trim().split('\n').length, 1, 'one line');

  assert.equal((await runRelay(['add-user'], { entry, env })).code, 2);
  assert.equal((await runRelay(['add-user', 'bad name!'], { entry, env })).code, 2);
  assert.equal((await runRelay(['serve', '--port', 'many'], { entry, env })).code, 2);
  assert.equal((await runRelay(['serve', '--bogus'], { entry, env })).code, 2);
  assert.equal((await runRelay(['frobnicate'], { entry, env })).code, 2);
  assert.equal((await runRelay(['revoke', 'nobody', '--data', dataDir], { entry })).code, 1);

  const relay = await spawnRelay(['--data', dataDir], { entry });
  const live = await login(relay.url, 'carol', plain.stdout.trim(), 'desk');
  const revoked = await runRelay(['revoke', 'carol', '--data', dataDir], { entry });
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal((await live.next('error', 10_000)).code, 'unauthorized');
  assert.equal((await withTimeout(live.closed, 10_000, 'the revoked connection to close')).code, RelayCloseCodes.Unauthorized);

  const reissued = await runRelay(['add-user', 'carol', '--data', dataDir, '--json'], { entry });
  assert.equal(reissued.code, 0, 'after revoking, a new token can be issued');
  const newToken = (JSON.parse(reissued.stdout) as { token: string }).token;
  await login(relay.url, 'carol', newToken, 'desk');
});

test('wss: with --cert and --key the relay speaks TLS and RelayLink connects with a pinned CA', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const token = await addUserCli(dataDir, 'alice');
  const relay = await spawnRelay(['--data', dataDir, '--cert', certFile, '--key', keyFile], { entry });
  assert.match(relay.url, /^wss:\/\/127\.0\.0\.1:\d+$/);

  const untrusted = new RelayLink();
  const refused = await withTimeout(untrusted.connect({ url: relay.url, user: 'alice', token, device: 'd', cursor: 0 }), 10_000, 'untrusted connect');
  assert.equal(refused.ok, false, 'a self-signed certificate is not trusted by default');

  const link = new RelayLink();
  const result = await withTimeout(link.connect({ url: relay.url, user: 'alice', token, device: 'd', cursor: 0, ca: readFileSync(certFile) }), 10_000, 'tls connect');
  assert.equal(result.ok, true);
  link.close();
});
