/**
 * A real core in this process (Core.start on a temp home: its own SQLite store and socket) with
 * one initialized, subscribed client asking it over that socket, as the extension asks: for the
 * extension's models tested against the core's own paging, counts and events.
 */
import { PROTOCOL_VERSION, type Method, type NotificationArgs, type ParamsOf, type ResultOf } from '../../protocol/rpc';
import type { Rpc } from '../../extension/rpcClient';
import { SocketClient } from '../../server/cli/socket-client';
import { Core } from '../../server/core';
import { silentLogger } from '../../lib/node/log';
import { homePaths } from '../../lib/node/paths';
import { tempHome } from './cli';

export interface LiveCore {
  core: Core;
  rpc: Rpc;
}

/**
 * Runs `body` with the core and its client; `onNotification` hears every notification from
 * before the subscription on. Both are closed and the home removed, whatever happens.
 */
export async function withLiveCore(name: string, body: (live: LiveCore) => Promise<void>, onNotification: (...args: NotificationArgs) => void = () => undefined): Promise<void> {
  const home = tempHome(`sb-${name}-`);
  let core: Core | undefined;
  let client: SocketClient | undefined;
  try {
    core = await Core.start(homePaths(home.home), { serve: true, sync: false, log: silentLogger });
    const c = await SocketClient.connect(homePaths(home.home).socket);
    client = c;
    c.onNotification(onNotification);
    await c.call('initialize', { client: { name, version: '1' }, protocol: PROTOCOL_VERSION });
    await c.call('events/subscribe', {});
    const rpc: Rpc = { request: <M extends Method>(method: M, params: ParamsOf<M>) => c.call(method, params) as Promise<ResultOf<M>> };
    await body({ core, rpc });
  } finally {
    client?.close();
    await core?.stop();
    home.cleanup();
  }
}
