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

const NEWLINE = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n');
const ERROR_MARK = Buffer.from('"error"');

/**
 * Counts complete responses chunk by chunk, on Buffers and without regular expressions, so
 * the generator costs the same per response for either framing and never limits the server.
 */
function responseCounter(onResponse: (isError: boolean) => void): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let offset = 0;
    for (;;) {
      let start: number;
      let end: number;
      if (framing === 'ndjson') {
        end = buffered.indexOf(NEWLINE, offset);
        if (end < 0) break;
        start = offset;
        offset = end + 1;
      } else {
        const headerEnd = buffered.indexOf(HEADER_END, offset);
        if (headerEnd < 0) break;
        let length = 0;
        for (let k = offset + 'Content-Length: '.length; k < headerEnd; k++) length = length * 10 + (buffered[k]! - 48);
        start = headerEnd + 4;
        end = start + length;
        if (end > buffered.length) break;
        offset = end;
      }
      const errorAt = buffered.indexOf(ERROR_MARK, start);
      onResponse(errorAt >= 0 && errorAt < end);
    }
    buffered = buffered.subarray(offset);
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
  const countResponses = responseCounter((isError) => {
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
  });
  // Requests answered by one chunk of responses leave in one write, as a pipelining client's would.
  socket.on('data', (chunk: Buffer) => {
    socket.cork();
    countResponses(chunk);
    process.nextTick(() => socket.uncork());
  });
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
