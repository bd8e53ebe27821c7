/** The core's JSON-RPC framing, on a real socket pair. */
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Message } from 'vscode-jsonrpc/node';
import { RequestFlow, SocketMessageReader, SocketMessageWriter } from '../../server/rpc/framing';

async function pair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const path = join(mkdtempSync(join(tmpdir(), 'sb-frame-')), 's.sock');
  let accepted!: (s: Socket) => void;
  const serverSide = new Promise<Socket>((resolve) => (accepted = resolve));
  const srv = createServer(accepted);
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  const client = connect(path);
  const server = await serverSide;
  return { server, client, close: () => (client.destroy(), server.destroy(), srv.close()) };
}

const frame = (json: string) => `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;

test('frames split across chunks and several per chunk all arrive, in order', async () => {
  const { server, client, close } = await pair();
  const got: Message[] = [];
  new SocketMessageReader(server).listen((m) => got.push(m));
  const bytes = Buffer.from([1, 2, 3].map((id) => frame(JSON.stringify({ jsonrpc: '2.0', id, method: 'x', params: { text: 'é✓' } }))).join(''));
  for (let i = 0; i < bytes.length; i += 7) client.write(bytes.subarray(i, i + 7));
  const deadline = Date.now() + 5000;
  while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got.map((m) => (m as unknown as { id: number }).id), [1, 2, 3]);
  assert.equal((got[0] as unknown as { params: { text: string } }).params.text, 'é✓');
  close();
});

test('malformed JSON costs one parse error, and the next frame still arrives', async () => {
  const { server, client, close } = await pair();
  const got: Message[] = [];
  new SocketMessageReader(server).listen((m) => got.push(m));
  let answer = '';
  client.on('data', (d) => (answer += d));
  client.write(frame('{"jsonrpc":"2.0",') + frame('[1,2]') + frame(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ok' })));
  const deadline = Date.now() + 5000;
  while ((got.length < 1 || !answer.includes('batches')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(answer, /"code":-32700/);
  assert.match(answer, /batches are not supported/);
  assert.deepEqual(got.map((m) => (m as unknown as { id: number }).id), [9]);
  close();
});

test('the writer sends answers to pipelined requests together, once all are answered', async () => {
  const { server, client, close } = await pair();
  const flow = new RequestFlow();
  flow.received = 3;
  const writer = new SocketMessageWriter(server, flow);
  const chunks: string[] = [];
  client.on('data', (d) => chunks.push(d.toString()));
  for (const id of [1, 2, 3]) {
    await writer.write({ jsonrpc: '2.0', id, result: id } as Message);
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 5000;
  while (chunks.join('').split('Content-Length').length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(chunks.join('').split('Content-Length').length - 1, 3);
  assert.equal(chunks.length, 1, 'one write carried all three answers');
  close();
});
