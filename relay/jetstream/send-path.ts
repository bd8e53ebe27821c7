/**
 * A send on the cluster: claim (sender, client_message_id) in the dedupe table, append one
 * delivery per recipient, mark the claim committed, answer. Every step is durable in the
 * cluster before the next, and each is safe to repeat:
 *
 * - the claim is a KV create: one winner per key, forever (not the stream's duplicate window);
 * - each append carries Nats-Msg-Id `<server id>:<recipient>`: a publish retried after a lost
 *   PubAck (its node died mid-publish) is stored once;
 * - a claim found `pending` belongs to a send whose node died between claim and commit, which
 *   therefore never answered it: this node redoes its appends under the same ids (the stream
 *   drops those that landed, within its duplicate window) and answers `accepted` with the
 *   first server id, the answer the first node would have given.
 *
 * Any cluster failure surfaces as ClusterUnavailableError (retryable): the sender retries the
 * same send, and the steps above make that retry land exactly once.
 */
import type { DedupeTable } from './dedupe';
import type { DeliveryLog } from './deliveries';

export interface SendRequest {
  sender: string;
  clientMessageId: string;
  /** Hash of the send's content: same id + other content is a conflict, never a duplicate. */
  fingerprint: string;
  /** The server id this send gets if it is new. */
  serverId: string;
  recipients: string[];
  /** The stored delivery item for one recipient under a server id (it names that id). */
  item(serverId: string, recipient: string): string;
  now?: Date;
}

export type SendVerdict =
  | { verdict: 'accepted'; serverId: string; seqs: Record<string, number>; resumed: boolean }
  | { verdict: 'duplicate'; serverId: string }
  | { verdict: 'conflict'; serverId: string };

export function appendId(serverId: string, recipient: string): string {
  return `${serverId}:${recipient}`;
}

export async function acceptSend(dedupe: DedupeTable, log: DeliveryLog, request: SendRequest): Promise<SendVerdict> {
  const claim = await dedupe.claim(request.sender, request.clientMessageId, {
    server_id: request.serverId,
    fingerprint: request.fingerprint,
    at: (request.now ?? new Date()).toISOString(),
  });
  const { record } = claim;
  if (claim.kind === 'existing') {
    if (record.fingerprint !== request.fingerprint) return { verdict: 'conflict', serverId: record.server_id };
    if (record.state === 'committed') return { verdict: 'duplicate', serverId: record.server_id };
  }
  const seqs: Record<string, number> = {};
  for (const recipient of request.recipients) {
    const appended = await log.append(recipient, request.item(record.server_id, recipient), appendId(record.server_id, recipient));
    seqs[recipient] = appended.seq;
  }
  await dedupe.commit(request.sender, request.clientMessageId, record, claim.revision);
  return { verdict: 'accepted', serverId: record.server_id, seqs, resumed: claim.kind === 'existing' };
}
