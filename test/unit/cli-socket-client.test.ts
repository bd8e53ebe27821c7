/**
 * The CLI's socket client (server/cli/socket-client.ts) against a core that sends bytes it
 * should not: an oversized frame, malformed headers, a body that is not JSON or not JSON-RPC.
 * Each must end the call with a clear error and the connection dropped, never a crash or a
 * hang; and an answer larger than the core's own request cap must still arrive whole. A fake
 * core on a real Unix socket, in a real home; the last test runs the built CLI against it.
 */
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { homePaths } from '../../lib/node/paths';
import { MAX_ANSWER_FRAME_BYTES, MAX_FRAME_BYTES } from '../../protocol/rpc';
import { CoreProtocolError, SocketClient } from '../../server/cli/socket-client';
import { tryDelegate } from '../../server/cli/transport';
import { CliError } from '../../lib/node/cli/errors';
import { run, tempHome } from '../support/cli';

const frame = (json: string) => `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;

interface FakeCore {
  socket: string;
  /** Settles when the client hung up on the fake core. */
  hungUp: Promise<void>;
  close(): Promise<void>;
}

/** A "core" on `home`'s socket that answers the first bytes it gets with `reply`, and then says nothing more. */
async function fakeCore(home: string, reply: (socket: Socket) => void): Promise<FakeCore> {
  const path = homePaths(home).socket;
  let hungUp!: () => void;
  const hungUpPromise = new Promise<void>((resolve) => (hungUp = resolve));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => reply(socket));
    socket.on('close', () => hungUp());
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, 0o600);
  return {
    socket: path,
    hungUp: hungUpPromise,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a client's first call ends with when the fake core answers it with `bytes`. */
async function callAgainst(bytes: string | Buffer): Promise<{ error: unknown; hungUp: Promise<void> }> {
  const { home, cleanup } = tempHome('sb-wire-');
  const core = await fakeCore(home, (socket) => socket.write(bytes));
  try {
    const client = await SocketClient.connect(core.socket);
    const error = await client.call('status/get', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    await core.hungUp;
    return { error, hungUp: core.hungUp };
  } finally {
    await core.close();
    cleanup();
  }
}

const cases: { name: string; bytes: string; says: RegExp }[] = [
  // Only the header comes: a parser without a cap would wait for 256 MiB that never arrive.
  { name: 'a frame announced over the cap', bytes: `Content-Length: ${MAX_ANSWER_FRAME_BYTES + 1}\r\n\r\n`, says: new RegExp(`bad frame \\(frame of ${MAX_ANSWER_FRAME_BYTES + 1} bytes exceeds the ${MAX_ANSWER_FRAME_BYTES}-byte limit\\)`) },
  { name: 'a header without Content-Length', bytes: `Content-Type: application/json\r\n\r\n{}`, says: /bad frame \(frame header has no valid Content-Length\)/ },
  { name: 'a Content-Length that is not a number', bytes: `Content-Length: 1e3\r\n\r\n{}`, says: /bad frame \(frame header has no valid Content-Length\)/ },
  { name: 'a header line without a colon', bytes: `nonsense\r\nContent-Length: 2\r\n\r\n{}`, says: /bad frame \(frame header has no valid Content-Length\)/ },
  { name: 'a header that never ends', bytes: `Content-Length: 2${' '.repeat(1100)}`, says: /bad frame \(frame header too long or missing its blank line\)/ },
  { name: 'a body that is not JSON', bytes: frame('{"jsonrpc":"2.0","id":1,'), says: /a frame that is not JSON \(/ },
  { name: 'a body that is JSON but no message', bytes: frame('[1,2]'), says: /a message that is not a JSON object/ },
  { name: 'a JSON object that is neither notification nor answer', bytes: frame('{"jsonrpc":"2.0"}'), says: /a message that is neither a notification nor an answer to a request/ },
  { name: 'an error without a code', bytes: frame('{"jsonrpc":"2.0","id":1,"error":"nope"}'), says: /an error without a numeric code and a message/ },
];

for (const c of cases) {
  test(`${c.name}: the call fails saying so, and the client hangs up`, { timeout: 20_000 }, async () => {
    const { error } = await callAgainst(c.bytes);
    assert.ok(error instanceof CoreProtocolError, `a CoreProtocolError, not ${String(error)}`);
    assert.match(error.message, /^the core broke the protocol: it sent /);
    assert.match(error.message, c.says);
  });
}

test('after a broken frame, later calls fail at once with the same error', { timeout: 20_000 }, async () => {
  const { home, cleanup } = tempHome('sb-wire-');
  const core = await fakeCore(home, (socket) => socket.write(frame('nope')));
  try {
    const client = await SocketClient.connect(core.socket);
    await assert.rejects(client.call('status/get', {}), CoreProtocolError);
    await assert.rejects(client.call('peers/list', {}), CoreProtocolError);
  } finally {
    await core.close();
    cleanup();
  }
});

test('an answer larger than the core takes in a request, in many chunks, arrives whole', { timeout: 20_000 }, async () => {
  const { home, cleanup } = tempHome('sb-wire-');
  const big = 'x'.repeat(3 * MAX_FRAME_BYTES);
  const answer = Buffer.from(frame(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { big } })));
  const core = await fakeCore(home, (socket) => {
    // Small writes, so the client's reads split the body many times over.
    for (let at = 0; at < answer.length; at += 65_536) socket.write(answer.subarray(at, at + 65_536));
  });
  try {
    const client = await SocketClient.connect(core.socket);
    const result = (await client.call('status/get', {})) as unknown as { big: string };
    assert.equal(result.big.length, big.length);
    client.close();
  } finally {
    await core.close();
    cleanup();
  }
});

test('a delegated verb turns a broken core into one sentence that says what to do', { timeout: 20_000 }, async () => {
  const { home, cleanup } = tempHome('sb-wire-');
  const core = await fakeCore(home, (socket) => socket.write(frame('{oops')));
  try {
    const client = await tryDelegate(homePaths(home));
    assert.ok(client, 'the fake core accepted the connection');
    const error = await client.call('peers/list', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof CliError, `a CliError, not ${String(error)}`);
    assert.match(error.message, new RegExp(`^the core on ${core.socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} broke the protocol: it sent a frame that is not JSON \\(.+\\); restart it with \`switchboard daemon restart\`$`));
  } finally {
    await core.close();
    cleanup();
  }
});

test('the built CLI, delegating to a core that sends an oversized frame, exits 1 with that sentence', { timeout: 60_000 }, async () => {
  const { home, cleanup } = tempHome('sb-wire-');
  const core = await fakeCore(home, (socket) => socket.write(`Content-Length: ${MAX_ANSWER_FRAME_BYTES + 1}\r\n\r\n`));
  try {
    const r = await run(home, ['peers'], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /broke the protocol: it sent a bad frame \(frame of \d+ bytes exceeds the \d+-byte limit\); restart it with `switchboard daemon restart`/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  } finally {
    await core.close();
    cleanup();
  }
});
