/**
 * The other side of an e2e scenario, and the cleanup of the core the extension started: what
 * the files and groups e2e tests both need besides the workbench.
 */
import type { ChildProcess } from 'node:child_process';
import { PROTOCOL_VERSION, type Message, type Method, type ParamsOf, type ResultOf } from '../../protocol/rpc';
import { SocketClient } from '../../server/cli/socket-client';
import { homePaths } from '../../lib/node/paths';
import { kill9 as killChild, startCore } from '../support/cli';
import type { TestRelay } from '../support/relay';
import { eventually, isCoreOf } from './world';

/** A peer: a real core in its own home, configured on the relay, and a client of its socket. */
export class Peer {
  private core: ChildProcess | undefined;
  private client: SocketClient | undefined;

  constructor(
    readonly name: string,
    readonly home: string,
  ) {}

  async start(relay: TestRelay): Promise<void> {
    await relay.configureHome(this.home, this.name);
    this.core = await startCore(this.home);
    this.client = await SocketClient.connect(homePaths(this.home).socket, 10_000);
    await this.client.call('initialize', { client: { name: `e2e-${this.name}`, version: '1' }, protocol: PROTOCOL_VERSION });
  }

  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.client!.call(method, params) as Promise<ResultOf<M>>;
  }

  /** Waits until this peer's core has a message from `from` in `#group` with this body. */
  receives(group: string, from: string, body: string, timeoutMs = 30_000): Promise<Message> {
    return eventually(`${this.name} has "${body}" in #${group}`, async () => (await this.call('inbox/list', { in: `#${group}`, limit: 200 })).messages.find((m) => m.from === from && m.body === body), timeoutMs);
  }

  async stop(): Promise<void> {
    this.client?.close();
    if (this.core) await killChild(this.core);
  }
}

/**
 * The extension starts the workbench user's core detached, so the test does not own its
 * process: asks the core in `home` for its pid and kills it, only if that pid is still a core
 * of this home. Nothing answering is fine (it already stopped).
 */
export async function killCoreOf(home: string): Promise<void> {
  const pid = await (async () => {
    try {
      const c = await SocketClient.connect(homePaths(home).socket, 2000);
      try {
        await c.call('initialize', { client: { name: 'e2e-cleanup', version: '1' }, protocol: PROTOCOL_VERSION });
        return ((await c.call('status/get', {})) as ResultOf<'status/get'>).pid;
      } finally {
        c.close();
      }
    } catch {
      return undefined;
    }
  })();
  if (pid !== undefined && isCoreOf(pid, home)) process.kill(pid, 'SIGKILL');
}
