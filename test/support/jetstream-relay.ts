/**
 * The relay's JetStream building blocks wired to a test cluster: one connection, provisioned
 * streams and buckets, and the tables over them. `retrying` repeats a cluster call while it
 * fails with the retryable ClusterUnavailableError, as a core retries a retryable refusal:
 * bounded in time, and counting the refusals it saw.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { connectCluster } from '../../relay/jetstream/connect';
import { provision, type Provisioned, type ProvisionOptions } from '../../relay/jetstream/provision';
import { DedupeTable } from '../../relay/jetstream/dedupe';
import { DeliveryLog } from '../../relay/jetstream/deliveries';
import { CursorTable } from '../../relay/jetstream/cursors';
import { AccountTable, MembershipTable } from '../../relay/jetstream/accounts';
import { ClusterUnavailableError } from '../../relay/jetstream/errors';
import { sleep } from './wait';

export interface RelayTables {
  nc: NatsConnection;
  provisioned: Provisioned;
  dedupe: DedupeTable;
  log: DeliveryLog;
  cursors: CursorTable;
  accounts: AccountTable;
  members: MembershipTable;
  close(): Promise<void>;
}

export async function openTables(urls: string[], options: ProvisionOptions & { name?: string } = {}): Promise<RelayTables> {
  const nc = await connectCluster({ urls, name: options.name ?? 'relay-test', connectTimeoutMs: 10_000, reconnectWaitMs: 100 });
  try {
    const provisioned = await provision(nc, options);
    const { js, jsm, buckets } = provisioned;
    return {
      nc,
      provisioned,
      dedupe: new DedupeTable(buckets.dedupe),
      log: new DeliveryLog(js, jsm, options.timeoutMs ?? 5000),
      cursors: new CursorTable(buckets.cursors),
      accounts: new AccountTable(buckets.accounts, jsm),
      members: new MembershipTable(buckets.members),
      close: () => nc.close(),
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

export interface RetryStats {
  refusals: number;
}

/** Calls `run` until it does not throw ClusterUnavailableError; other errors pass at once. */
export async function retrying<T>(what: string, run: () => Promise<T>, stats?: RetryStats, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) throw error;
      if (stats) stats.refusals++;
      if (Date.now() > deadline) throw new Error(`${what}: still refused after ${timeoutMs} ms: ${error.message}`);
      await sleep(200);
    }
  }
}
