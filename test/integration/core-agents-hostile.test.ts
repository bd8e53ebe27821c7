/**
 * What a core believes of a relay's `from_owner` (protocol v4): an agent is always named
 * `<owner>.<name>` (the relay creates it only so), so a claim that does not fit the sender's name
 * (a person "owned" by someone, `bob.bot` "owned" by mallory) is not stored or shown as
 * ownership; one that fits is. A scripted relay on 127.0.0.1 says what a broken one might.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Method, ParamsOf, ResultOf } from '../../protocol/rpc';
import { Core } from '../../server/core';
import { loadConfig, writeConfig } from '../../server/config';
import { homePaths } from '../../lib/node/paths';
import { silentLogger } from '../../lib/node/log';
import { tempHome } from '../support/cli';
import { waitFor } from '../support/wait';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function message(n: number, from: string, fromOwner: string): object {
  return {
    kind: 'message',
    server_id: `s${n}`,
    from_owner: fromOwner,
    message: { id: `m${n}`, client_message_id: `c${n}`, from, to: 'me', body: `body ${n}`, reply_to: null, request_id: null, created_at: new Date(Date.UTC(2026, 11, 3, 0, 0, n)).toISOString() },
  };
}

test('a from_owner that fits the sender is kept; one that does not is dropped', async () => {
  const deliveries = [message(1, 'alice.claude', 'alice'), message(2, 'carol', 'mallory'), message(3, 'bob.bot', 'mallory')];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  }));
  wss.on('connection', (ws: WebSocket) =>
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; v?: number; user?: string; device?: string; t?: number };
      const send = (f: object) => ws.send(JSON.stringify(f));
      if (frame.type === 'hello') {
        send({ type: 'welcome', v: Math.min(4, frame.v ?? 4), user: frame.user, device: frame.device, heartbeat_ms: 30_000, max_body_bytes: 65_536, max_file_bytes: 1024, backlog_seq: deliveries.length });
        deliveries.forEach((item, i) => send({ type: 'deliver', seq: i + 1, item }));
      } else if (frame.type === 'ping') send({ type: 'pong', t: frame.t });
    }),
  );
  const { home, cleanup } = tempHome('sb-agents-hostile-');
  cleanups.push(cleanup);
  const paths = homePaths(home);
  writeConfig(paths, { ...loadConfig(paths).config, relay: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, user: 'me', insecure: false }, 'token');
  const core = await Core.start(paths, { serve: false, log: silentLogger });
  cleanups.push(() => core.stop());
  const call = <M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> => core.dispatcher.dispatch(method, params, core.localSession());
  const messages = await waitFor('three messages', async () => {
    const got = (await call('inbox/list', {})).messages;
    return got.length === 3 ? got : undefined;
  });
  assert.deepEqual(
    messages.map((m) => [m.from, m.from_owner]).sort(),
    [
      ['alice.claude', 'alice'],
      ['bob.bot', undefined],
      ['carol', undefined],
    ],
  );
  const peers = (await call('peers/list', {})).peers;
  assert.deepEqual(peers.map((p) => [p.name, p.owner]).sort(), [
    ['alice.claude', 'alice'],
    ['bob.bot', undefined],
    ['carol', undefined],
  ]);
});
