/** Errors any storage throws with the same meaning, whatever the engine, and the verdict a storage failure gets. */
import { DiskFullError } from '../../lib/node/storage-errors';
import type { SendFrameV3, VerdictFrame } from '../../protocol/relay';

/** `AccountStorage.addUser` for a name an active user has. */
export class UserExistsError extends Error {
  constructor(name: string) {
    super(`user "${name}" already exists; revoke it first to issue a new token`);
  }
}

/**
 * The verdict for a send the storage could not store (nothing of it was): retryable, and saying
 * so when the cause is a full disk. A storage that fails one send of a batch alone answers that
 * send with this, so every engine words it the same as the server does for a failed call.
 */
export function storageErrorVerdict(message: Pick<SendFrameV3['message'], 'client_message_id' | 'id'>, error: unknown): VerdictFrame {
  const reason = error instanceof DiskFullError ? "relay storage error: the relay's disk is full; retry shortly" : 'relay storage error';
  return { type: 'verdict', result: 'rejected', client_message_id: message.client_message_id, id: message.id, reason, retryable: true };
}
