/** KV's compare-and-set refusals: the key exists (create) or moved on (update). */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

export function isWrongRevision(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.code === JetStreamApiCodes.StreamWrongLastSequence;
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof JetStreamApiError) return cause.code === JetStreamApiCodes.StreamWrongLastSequence;
  return error instanceof Error && /wrong last sequence/i.test(error.message);
}
