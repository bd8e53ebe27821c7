/**
 * Same input, same answer: every limit of protocol/limits.ts is checked by the CLI before a
 * request leaves, so a verb that breaks one fails with the same line and the same exit code
 * whether it runs directly (no core) or delegated to a running core. Before, a 1 MiB body
 * was "frame exceeds" (exit 1) through a core and "body larger than 65536 bytes" (exit 2)
 * directly.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MAX_BODY_BYTES, MAX_ID_LENGTH } from '../../protocol/limits';
import { openDirect } from '../../server/direct';
import { homePaths } from '../../lib/node/paths';
import { kill9, run, startCore, tempHome, type RunResult } from '../support/cli';
import { sleep } from '../support/wait';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const longId = 'i'.repeat(MAX_ID_LENGTH + 1);

interface Case {
  name: string;
  args: string[];
  input?: string;
  /** The one line both paths must print. */
  stderr: RegExp;
}

const cases: Case[] = [
  { name: 'a 1 MiB body on stdin', args: ['send', '--to', 'bob'], input: 'x'.repeat(1024 * 1024), stderr: /^switchboard: the message is 1048576 bytes; a message holds at most 65536 \(UTF-8\)$/ },
  { name: 'a 2 MiB body on stdin (larger than a JSON-RPC frame)', args: ['send', '--to', 'bob'], input: 'x'.repeat(2 * 1024 * 1024), stderr: /^switchboard: the message is 2097152 bytes; a message holds at most 65536/ },
  // Fewer characters than the limit, more UTF-8 bytes: the limit counts bytes.
  { name: 'a body of 22000 three-byte characters', args: ['send', '--to', 'bob'], input: '日'.repeat(22_000), stderr: /^switchboard: the message is 66000 bytes; a message holds at most 65536/ },
  { name: 'a body as -m, just over the limit', args: ['send', '--to', 'bob', '-m', 'y'.repeat(MAX_BODY_BYTES + 1)], stderr: /^switchboard: the message is 65537 bytes/ },
  { name: 'an invalid --to', args: ['send', '--to', 'bo b', '-m', 'hi'], stderr: /^switchboard: --to: invalid user name "bo b": use 1-64 letters/ },
  { name: 'a --to longer than a name may be', args: ['send', '--to', 'b'.repeat(65), '-m', 'hi'], stderr: /^switchboard: --to: invalid user name "b{65}"/ },
  { name: 'a --client-id longer than an id may be', args: ['send', '--to', 'bob', '-m', 'hi', '--client-id', longId], stderr: /^switchboard: --client-id is 129 characters; an id has at most 128$/ },
  { name: 'a --reply-to longer than an id may be', args: ['send', '--to', 'bob', '-m', 'hi', '--reply-to', longId], stderr: /^switchboard: --reply-to is 129 characters; an id has at most 128$/ },
  { name: 'ask with an invalid --to', args: ['ask', '--to', 'no/slash', '-m', 'hi', '--timeout', '1'], stderr: /^switchboard: --to: invalid user name "no\/slash"/ },
  { name: 'inbox --from an invalid name', args: ['inbox', '--from', 'x y'], stderr: /^switchboard: --from: invalid user name "x y"/ },
  { name: 'read with an id longer than an id may be', args: ['read', longId], stderr: /^switchboard: the message id is 129 characters; an id has at most 128$/ },
  { name: 'outbox abort with an id longer than an id may be', args: ['outbox', 'abort', longId], stderr: /^switchboard: the message id is 129 characters/ },
  { name: 'a search query over 1000 characters', args: ['search', 'q'.repeat(1001)], stderr: /^switchboard: the search query is 1001 characters; a query has at most 1000$/ },
];

describe('limits are checked before delegating: one message, one exit code on both paths', () => {
  it('every case: direct (no core) and delegated (a running core) print the same line and exit 2', async () => {
    const { home, cleanup } = tempHome('sb-same-');
    cleanups.push(cleanup);
    const direct = new Map<string, RunResult>();
    for (const c of cases) direct.set(c.name, await run(home, c.args, { input: c.input }));
    const core = await startCore(home);
    try {
      for (const c of cases) {
        const delegated = await run(home, c.args, { input: c.input });
        const alone = direct.get(c.name)!;
        assert.deepEqual({ code: delegated.code, stderr: delegated.stderr }, { code: alone.code, stderr: alone.stderr }, `${c.name}: delegated and direct differ`);
        assert.equal(alone.code, 2, `${c.name}: ${alone.stderr}`);
        assert.equal(alone.stderr.trim().split('\n').length, 1, `${c.name}: one line`);
        assert.match(alone.stderr.trim(), c.stderr, c.name);
        assert.equal(alone.stdout, '', `${c.name}: nothing on stdout`);
      }
      // Nothing was stored by any of them, on either path.
      const outbox = await run(home, ['outbox', 'list', '--json']);
      assert.deepEqual(JSON.parse(outbox.stdout), { items: [] });
      assert.equal(core.exitCode, null, 'the core is still running');
    } finally {
      await kill9(core);
    }
  });
});

describe('a direct verb that subscribes and then fails at once', () => {
  it('closes the store without leaving an event delivery scheduled behind it (it used to read the closed store and crash)', async () => {
    const { home, cleanup } = tempHome('sb-same-');
    cleanups.push(cleanup);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const opened = await openDirect(homePaths(home), { sync: false });
      assert.ok(opened.ok);
      // As `ask` does: subscribe, then the next request fails and the verb closes the store.
      await opened.core.call('events/subscribe', {});
      await opened.core.close();
      await sleep(50);
      assert.deepEqual(uncaught.map(String), []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
