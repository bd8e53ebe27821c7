/**
 * The files baseline's receiving end, in its own process as the relay is: a plain `ws` server
 * on 127.0.0.1 that counts the binary bytes it is sent and answers `{"done": <bytes>}` once it
 * has as many as the client announced in its first (text) frame. Nothing stored, nothing
 * hashed: the cost of moving the bytes and no more.
 * `node --import tsx bench/ws-sink-process.ts` prints `sink listening on ws://…`; SIGTERM stops it.
 */
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
server.on('connection', (ws) => {
  let expected = -1;
  let got = 0;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      expected = Number((JSON.parse(String(data)) as { size: number }).size);
      got = 0;
      return;
    }
    got += (data as Buffer).byteLength;
    if (got === expected) ws.send(JSON.stringify({ done: got }));
  });
});
server.on('listening', () => {
  const address = server.address();
  if (typeof address === 'object' && address) process.stdout.write(`sink listening on ws://127.0.0.1:${address.port}\n`);
});
const stop = (): void => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
