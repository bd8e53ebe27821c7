/**
 * Servers with no storage, for baselines: `node --import tsx bench/baseline-servers.ts <kind> <socket>`.
 *   ndjson-echo     newline JSON: parse each request, answer a send-shaped result
 *   jsonrpc-default vscode-jsonrpc with its stock stream reader and writer, same answer
 *   jsonrpc-fast    vscode-jsonrpc over the core's own framing, same answer
 * Prints "ready" once listening.
 */
import { createServer, type Socket } from 'node:net';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { RequestFlow, SocketMessageReader, SocketMessageWriter } from '../server/rpc/framing';

const [kind, socketPath] = process.argv.slice(2);
const answer = (id: unknown) => ({ status: 'queued', id: String(id), client_message_id: String(id), to: 'peer', server_id: null, reason: null });

function ndjson(socket: Socket): void {
  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk.toString('utf8');
    let out = '';
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const request = JSON.parse(buffered.slice(0, nl)) as { id: number };
      buffered = buffered.slice(nl + 1);
      out += JSON.stringify({ jsonrpc: '2.0', id: request.id, result: answer(request.id) }) + '\n';
    }
    if (out) socket.write(out);
  });
}

function jsonrpc(socket: Socket, fast: boolean): void {
  const flow = new RequestFlow();
  const connection = fast
    ? createMessageConnection(new SocketMessageReader(socket, undefined, flow), new SocketMessageWriter(socket, flow))
    : createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.onRequest((method, params) => (method === 'initialize' ? { protocol: 1 } : answer((params as { body?: string })?.body?.length)));
  connection.listen();
  socket.on('error', () => socket.destroy());
}

const server = createServer((socket) => {
  if (kind === 'ndjson-echo') ndjson(socket);
  else jsonrpc(socket, kind === 'jsonrpc-fast');
});
server.listen(socketPath, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
