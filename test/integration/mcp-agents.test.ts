/**
 * Two agents, each an MCP server on its own home, through a real relay: `ask` on one side,
 * `wait_for_messages` and `reply` on the other; `ask`'s progress, timeout and cancellation; and
 * 200 messages taken by repeated `wait_for_messages` calls across a relay restart and a kill -9
 * of the receiving core, each exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Cleanups } from '../support/cli';
import { killAllRelays } from '../support/relay';
import { RelayHomes } from '../support/relay-homes';
import { killHomeCore, startMcp, type McpMessage, type McpSession, type Waited } from '../support/mcp';
import { waitFor, withClient } from '../support/wait';

type Msg = McpMessage;
type Asked = { status: string; question: { status: string; id: string }; reply: Msg | null };

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});

describe('two agents through a real relay', () => {
  const world = new RelayHomes(cleanups, 'sb-mcp-', ['agent-a', 'agent-b']);
  const { relay } = world;
  const { 'agent-a': homeA, 'agent-b': homeB } = world.home;
  let a: McpSession;
  let b: McpSession;

  before(async () => {
    await world.start(['agent-a']);
    a = await startMcp(homeA);
    // B has no core yet: its server starts one.
    b = await startMcp(homeB);
    cleanups.push(() => a.close(), () => b.close());
    for (const s of [a, b]) await waitFor('online', async () => ((await s.ok<{ sync: string }>('status')).sync === 'online' ? true : undefined));
  });

  test('A asks, B waits and gets the question, B replies, A gets the reply (with progress while it waits)', async () => {
    const mark = await b.ok<Waited>('wait_for_messages', { timeout: 0 });
    const progress: number[] = [];
    let firstProgress: () => void = () => {};
    const progressed = new Promise<void>((resolve) => (firstProgress = resolve));
    const asking = a.call('ask', { to: 'agent-b', body: 'which port does the relay use?', timeout: 120 }, {
      onprogress: (p) => {
        progress.push(p.progress);
        firstProgress();
      },
      timeout: 150_000,
    });
    const got = await b.ok<Waited>('wait_for_messages', { cursor: mark.next_cursor, timeout: 60 });
    assert.equal(got.messages.length, 1);
    const question = got.messages[0]!;
    assert.deepEqual([question.from, question.body.text, question.body.untrusted], ['agent-a', 'which port does the relay use?', true]);
    assert.ok(question.request_id, 'a question carries its request id');
    await progressed;
    const replied = await b.ok<{ status: string; id: string }>('reply', { id: question.id, body: '8787' });
    assert.equal(replied.status, 'sent');
    const answer = (await asking).structuredContent as Asked;
    assert.equal(answer.status, 'answered');
    assert.equal(answer.question.id, question.id);
    assert.deepEqual([answer.reply?.id, answer.reply?.from, answer.reply?.body.text, answer.reply?.reply_to], [replied.id, 'agent-b', '8787', question.id]);
    assert.ok(progress.length >= 1);
  });

  test('an ask nobody answers is a timeout result, not an error; other chatter is not the answer', async () => {
    const asking = a.call('ask', { to: 'agent-b', body: 'anyone?', timeout: 3 });
    // B says something, but not in reply to the question.
    await b.ok('send_message', { to: 'agent-a', body: 'unrelated' });
    const r = (await asking) as CallToolResult;
    assert.equal(r.isError, undefined);
    const asked = r.structuredContent as Asked;
    assert.deepEqual([asked.status, asked.question.status, asked.reply], ['timeout', 'sent', null]);
  });

  test('a cancelled ask stops waiting and the server keeps answering', async () => {
    const controller = new AbortController();
    let progressed: () => void = () => {};
    const firstProgress = new Promise<void>((resolve) => (progressed = resolve));
    const asking = a.call('ask', { to: 'agent-b', body: 'cancel me', timeout: 300 }, { signal: controller.signal, onprogress: () => progressed(), timeout: 400_000 });
    await firstProgress;
    controller.abort();
    await assert.rejects(asking, /abort/i);
    assert.equal((await a.ok<{ user: string }>('status')).user, 'agent-a');
    // The server's event stream for the ask is closed: the core serves only the server's own connection now.
    await waitFor('the ask stream closed', async () => {
      const clients = await withClient(homeA, 'probe', (c) => c.call('status/get', {}));
      // this probe and the server's shared connection
      return clients.clients <= 2 ? true : undefined;
    });
  });

  test('a wait in progress survives a kill -9 of its core and still returns the message', async () => {
    const mark = await b.ok<Waited>('wait_for_messages', { timeout: 0 });
    const waiting = b.ok<Waited>('wait_for_messages', { cursor: mark.next_cursor, timeout: 60 });
    // The wait is subscribed: the core serves the server's own connection, the wait's and this probe.
    await waitFor('the wait subscribed', async () => ((await withClient(homeB, 'probe', (c) => c.call('status/get', {}))).clients >= 3 ? true : undefined));
    // B's core is the one its server started (not our child): killed by its home's holder file.
    await killHomeCore(homeB);
    await a.ok('send_message', { to: 'agent-b', body: 'while you were down' });
    const got = await waiting;
    assert.deepEqual(got.messages.map((m) => m.body.text), ['while you were down']);
    assert.equal(got.timed_out, false);
  });

  test('200 messages over repeated wait_for_messages calls, across a relay restart and a core kill -9, arrive exactly once', async () => {
    // B's server brings its core back if an earlier test left it down.
    await b.ok('status');
    const start = await a.ok<Waited>('wait_for_messages', { timeout: 0 });
    const seen: string[] = [];
    let cursor = start.next_cursor;
    const take = async (timeout: number) => {
      const r = await a.ok<Waited>('wait_for_messages', { cursor, limit: 17, from: 'agent-b', timeout });
      assert.ok(r.next_cursor >= cursor, 'the cursor never goes back');
      cursor = r.next_cursor;
      seen.push(...r.messages.map((m) => m.body.text));
      return r.timed_out;
    };
    // Until `n` are in; a call that waited its whole timeout for nothing means messages were lost.
    const takeUntil = async (n: number) => {
      while (seen.length < n) assert.equal(await take(30), false, `nothing more arrived with ${seen.length} of ${n} in`);
    };
    const sendBatch = (from: number, to: number) =>
      withClient(homeB, 'bulk', async (c) => {
        for (let i = from; i < to; i++) await c.call('message/send', { to: 'agent-a', body: `n${i}`, client_message_id: `bulk-${i}`, wait_ms: 0 });
      });
    await sendBatch(0, 70);
    await takeUntil(40);
    await relay.restart();
    await sendBatch(70, 140);
    await takeUntil(100);
    // The receiving core dies; the server starts another, which resumes from the stored events.
    await world.stopCore('agent-a');
    await sendBatch(140, 200);
    await take(30);
    await relay.restart();
    await takeUntil(200);
    const extra = await a.ok<Waited>('wait_for_messages', { cursor, timeout: 1 });
    assert.deepEqual(extra.messages, []);
    assert.equal(new Set(seen).size, seen.length, 'no message twice');
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => `n${i}`));
  });
});
