/**
 * One connection from a relay node to its NATS cluster: any of the seed URLs, optionally with a
 * credentials file (`--nats-creds`), a bounded first connect, and reconnects forever across
 * every node the cluster announces. While it reconnects, requests fail fast (the client's own
 * per-request timeout), which relay/jetstream/errors.ts turns into a retryable refusal.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { errorMessage } from '../../lib/error-message';

export interface ClusterConnectOptions {
  urls: string[];
  /** A NATS credentials file (JWT + nkey seed), as `nats` tools use. */
  credsFile?: string;
  /** Shown in the server's connection list (`nats server report connections`). */
  name?: string;
  /** Bound on the first connect, over all seeds (default 10 s). */
  connectTimeoutMs?: number;
  /** Wait between reconnect attempts to one server (default 250 ms, jittered by the client). */
  reconnectWaitMs?: number;
}

export class ClusterConnectError extends Error {
  readonly code = 'cluster_connect';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'ClusterConnectError';
  }
}

export async function connectCluster(options: ClusterConnectOptions): Promise<NatsConnection> {
  if (options.urls.length === 0) throw new ClusterConnectError('no NATS URL given');
  let authenticator;
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(options.credsFile);
    } catch (error) {
      throw new ClusterConnectError(`cannot read the NATS credentials file ${options.credsFile}: ${errorMessage(error)}`, error);
    }
    authenticator = credsAuthenticator(creds);
  }
  const timeout = options.connectTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  // The client tries each seed in turn, each bounded by `timeout`; the race bounds them all.
  const attempt = connect({
    servers: options.urls,
    name: options.name ?? 'switchboard-relay',
    timeout,
    authenticator,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectWaitMs ?? 250,
    // A seed that is down at start must not fail the start while another answers.
    waitOnFirstConnect: false,
  });
  try {
    return await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ClusterConnectError(`no NATS server answered within ${timeout} ms at ${options.urls.join(', ')}`)), timeout);
      }),
    ]);
  } catch (error) {
    // A connection that completes after the deadline is closed, not leaked.
    attempt.then((nc) => nc.close()).catch(() => undefined);
    if (error instanceof ClusterConnectError) throw error;
    throw new ClusterConnectError(`cannot connect to NATS at ${options.urls.join(', ')}: ${errorMessage(error)}`, error);
  } finally {
    clearTimeout(timer);
  }
}
