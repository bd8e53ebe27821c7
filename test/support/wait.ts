/** Bounded waits for tests: every wait ends, with a message naming what never happened. */
import { PROTOCOL_VERSION } from '../../protocol/rpc';
import { SocketClient } from '../../server/cli/socket-client';
import { homePaths } from '../../lib/node/paths';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

/** Polls a synchronous condition (state a test's own listeners fill) until it holds; fails with `what` after `ms`. */
export async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Runs `body` with an initialized JSON-RPC client of the core serving `home`; closed whatever happens. */
export async function withClient<T>(home: string, name: string, body: (c: SocketClient) => Promise<T>): Promise<T> {
  const c = await SocketClient.connect(homePaths(home).socket);
  try {
    await c.call('initialize', { client: { name, version: '1' }, protocol: PROTOCOL_VERSION });
    return await body(c);
  } finally {
    c.close();
  }
}
