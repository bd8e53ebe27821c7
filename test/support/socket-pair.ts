/** Both ends of a real Unix socket, and recorders for what a framing writer hands it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface SocketPair {
  server: Socket;
  client: Socket;
  /** Ends both sides and removes the socket's directory. */
  close: () => Promise<void>;
}

export async function socketPair(): Promise<SocketPair> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-frame-'));
  const srv = createServer();
  try {
    const serverSide = new Promise<Socket>((resolve) => srv.once('connection', resolve));
    await new Promise<void>((resolve) => srv.listen(join(dir, 's.sock'), resolve));
    const client = connect(join(dir, 's.sock'));
    const server = await serverSide;
    return {
      server,
      client,
      close: async () => {
        client.destroy();
        server.destroy();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Records every buffer handed to `socket.write`, one entry per write. */
export function recordWrites(t: TestContext, socket: Socket): string[] {
  const writes: string[] = [];
  const original = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  t.mock.method(socket, 'write', (chunk: Buffer) => {
    writes.push(chunk.toString());
    return original(chunk);
  });
  return writes;
}

