/**
 * What a relay on JetStream tells its callers when the cluster cannot take a write or answer a
 * read: one typed, retryable error, so the relay can answer a send `rejected` with
 * `retryable: true` (the core retries it) instead of a crash or a false `accepted`.
 *
 * The client reports a cluster without quorum in several ways, depending on where it stands:
 * a publish or API request that nobody answers in time (TimeoutError, or a RequestError that
 * wraps one), "no responders" (no stream leader, or no server at all: 503), a JetStream API
 * error with status 503 ("JetStream system temporarily unavailable", no meta leader), or a
 * connection that is closed or reconnecting under the request. Each of these means "not known
 * to be stored" — not "not stored": a write the surviving node had proposed can still commit
 * once the quorum is back (seen in the no-quorum test). So every write in relay/jetstream is
 * idempotent on retry (create-only keys, Nats-Msg-Id on publishes, monotonic cursors), and
 * the same write again settles what happened.
 */
import { ClosedConnectionError, ConnectionError, DrainingConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import { errorMessage } from '../../lib/error-message';

export class ClusterUnavailableError extends Error {
  readonly code = 'cluster_unavailable';
  readonly retryable = true;
  constructor(
    /** What was being done ("publish to sb.dlv.…", "kv create sb_dedupe"), for the log line. */
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`the NATS cluster did not confirm "${operation}" (${errorMessage(cause)}): no quorum or no server reachable; retry shortly`);
    this.name = 'ClusterUnavailableError';
  }
}

/**
 * True for the client errors that mean "the cluster is not (fully) there right now", looked
 * for along the error's cause chain: the client wraps them (a publish that met "no responders"
 * is thrown as JetStreamNotEnabled, whose cause is a RequestError, whose cause is NoResponders).
 */
export function isUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || !(error instanceof Error)) return false;
  if (error instanceof ClusterUnavailableError) return true;
  if (error instanceof TimeoutError || error instanceof NoRespondersError) return true;
  if (error instanceof ClosedConnectionError || error instanceof ConnectionError || error instanceof DrainingConnectionError) return true;
  if (error instanceof JetStreamApiError && (error.status === 503 || error.status === 408)) return true;
  if ((error instanceof RequestError || error instanceof JetStreamError) && /timeout|timed out|no responders/i.test(error.message)) return true;
  return isUnavailable(error.cause, depth + 1);
}

/** Runs a cluster operation; an "unavailable" failure becomes a ClusterUnavailableError, others pass. */
export async function clusterCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ClusterUnavailableError) throw error;
    if (isUnavailable(error)) throw new ClusterUnavailableError(operation, error);
    throw error;
  }
}
