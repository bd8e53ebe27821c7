/**
 * Real cores for integration tests, one per temp home ("sides"): made (a home set up by the
 * caller, e.g. `switchboard init` against a test relay), started and waited online, kill -9'd,
 * called over JSON-RPC, and every home removed at the end. Each test file owns one `CoreSides`
 * and calls `stopAll` then `removeHomes` in its `after`, around its own relay teardown.
 */
import type { ChildProcess } from 'node:child_process';
import type { ErrorData, Method, ParamsOf, ResultOf, RpcErrorObject } from '../../protocol/rpc';
import { kill9, startCore, tempHome } from './cli';
import { waitFor, withClient } from './wait';

export interface Side {
  /** The device's name in the test (also in its home's prefix and its RPC client's name). */
  name: string;
  user: string;
  home: string;
  core: ChildProcess | undefined;
}

export class CoreSides {
  readonly sides: Side[] = [];
  /** Run by `removeHomes`, in order: each home's removal, and whatever else the test adds. */
  readonly cleanups: (() => void)[] = [];

  /** `label` names the RPC clients (`<label>-<side>`); `homePrefix` starts each temp home's name. */
  constructor(private readonly label: string, private readonly homePrefix: string) {}

  /** A fresh home for `user` as device `name` (not started), set up by `init`. */
  readonly make = async (user: string, name: string, init: (home: string) => Promise<unknown>): Promise<Side> => {
    const { home, cleanup } = tempHome(`${this.homePrefix}-${name}-`);
    this.cleanups.push(cleanup);
    await init(home);
    const side: Side = { name, user, home, core: undefined };
    this.sides.push(side);
    return side;
  };

  /** Starts the side's core and waits until it is online with the relay. */
  readonly start = async (side: Side): Promise<void> => {
    side.core = await startCore(side.home);
    await waitFor(`${side.name} online`, async () => ((await this.rpc(side, 'status/get', {})).sync.state === 'online' ? true : undefined), 30_000);
  };

  /** kill -9 of the side's core, if it runs. */
  readonly stop = async (side: Side): Promise<void> => {
    if (side.core) await kill9(side.core);
    side.core = undefined;
  };

  readonly rpc = <M extends Method>(side: Side, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> =>
    withClient(side.home, `${this.label}-${side.name}`, (c) => c.call(method, params) as Promise<ResultOf<M>>);

  /** The RPC error a call fails with (it must fail). */
  readonly rpcError = async <M extends Method>(side: Side, method: M, params: ParamsOf<M>): Promise<RpcErrorObject & { data?: ErrorData }> => {
    try {
      await this.rpc(side, method, params);
    } catch (error) {
      return error as RpcErrorObject & { data?: ErrorData };
    }
    throw new Error(`${method} succeeded for ${side.name}; it should have failed`);
  };

  async stopAll(): Promise<void> {
    for (const side of this.sides) await this.stop(side);
  }

  removeHomes(): void {
    for (const cleanup of this.cleanups) cleanup();
  }
}
