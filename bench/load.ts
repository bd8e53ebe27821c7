/**
 * Load generator, run as its own process so it never shares an event loop with the server it
 * measures: `node --import tsx bench/load.ts <framing> <socket> <clients> <window> <seconds>`.
 * framing: `jsonrpc` (Content-Length, with an initialize first) or `ndjson` (newline JSON).
 * Prints one JSON line: { requests, seconds, perSecond, errors }.
 */
import { connect, type Socket } from 'node:net';

const [framing, socketPath, clientsArg, windowArg, secondsArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const windowSize = Number(windowArg);
const seconds = Number(secondsArg);

function encode(obj: unknown): string {
  const json = JSON.stringify(obj);
  return framing === 'ndjson' ? json + '\n' : `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

/** Counts complete responses in a stream chunk by chunk. */
function responseCounter(onResponse: (isError: boolean) => void): (chunk: Buffer) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString('utf8');
    if (framing === 'ndjson') {
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        onResponse(line.includes('"error"'));
      }
      return;
    }
    for (;;) {
      const headerEnd = buffered.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/.exec(buffered.slice(0, headerEnd))![1]);
      const start = headerEnd + 4;
      // Bodies are ASCII here, so string length equals byte length.
      if (buffered.length < start + length) return;
      const body = buffered.slice(start, start + length);
      buffered = buffered.slice(start + length);
      onResponse(body.includes('"error"'));
    }
  };
}

async function runClient(index: number, stopAt: number, tally: { requests: number; errors: number }): Promise<void> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(socketPath!, () => resolve(s));
    s.once('error', reject);
  });
  let sent = 0;
  let outstanding = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sendOne = () => {
    sent++;
    outstanding++;
    socket.write(encode({ jsonrpc: '2.0', id: sent, method: 'message/send', params: { to: `peer${index % 8}`, body: `bench message ${index}-${sent} with a little text to index` } }));
  };
  let initialized = framing === 'ndjson';
  socket.on(
    'data',
    responseCounter((isError) => {
      if (!initialized) {
        initialized = true;
        for (let i = 0; i < windowSize; i++) sendOne();
        return;
      }
      outstanding--;
      tally.requests++;
      if (isError) tally.errors++;
      if (Date.now() < stopAt) sendOne();
      else if (outstanding === 0) done();
    }),
  );
  if (framing === 'jsonrpc') socket.write(encode({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocol: 1, client: { name: 'bench', version: '1' } } }));
  else for (let i = 0; i < windowSize; i++) sendOne();
  await finished;
  socket.destroy();
}

async function main(): Promise<void> {
  const tally = { requests: 0, errors: 0 };
  const started = Date.now();
  const stopAt = started + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, (_, i) => runClient(i, stopAt, tally)));
  const elapsed = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ requests: tally.requests, seconds: elapsed, perSecond: tally.requests / elapsed, errors: tally.errors }) + '\n');
}

void main();
