/**
 * The relay's storage, as the server sees it: one interface, `RelayStorage`, made of small ones
 * grouped by concern, with an implementation per engine behind it (SQLite on one machine,
 * `relay/storage/sqlite/`; NATS JetStream for a cluster). Nothing here names an engine.
 *
 * The rules every implementation keeps (docs/architecture.md, "The relay's storage"):
 *
 * - **Async, domain-level, atomic.** Every method returns a Promise and is one decision taken
 *   and written as a whole ("accept this send", "ack up to this seq"), never row access: it
 *   either happens entirely or not at all. In SQLite that is one transaction (a savepoint of a
 *   group commit); in JetStream, a create-only KV write is the point of no return and what
 *   follows it is written so that a retry completes it.
 * - **Durable before resolved.** A Promise resolves only once what it wrote survives a crash of
 *   the relay (SQLite: the WAL fsynced; JetStream: the publish acknowledged by the stream's
 *   quorum). The server answers and pushes only after that.
 * - **Honest failure.** A rejected Promise means nothing of that call was stored, and the
 *   server turns it into the retryable storage verdict. Throw `DiskFullError`
 *   (lib/node/storage-errors.ts) when the cause is lack of space, so the verdict can say so.
 *   A call that could be partly stored must not reject: it completes what it started.
 * - **Order.** Calls are independent of one another: the storage promises nothing about the
 *   order in which two concurrent calls apply. The server serializes what must stay in order
 *   (a connection's frames). Within one user's deliveries, sequence numbers grow in commit
 *   order, and a call resolving with a delivery at `seq` means every delivery of that user
 *   below `seq` is committed too (readable by `deliveriesAfter`).
 * - **Exactly once.** (sender, client_message_id) is accepted once within the dedupe window,
 *   however many nodes and connections race on it: one `accepted`, every other `duplicate`
 *   (or, with other content, the conflict rejection).
 *
 * Verdict frames and delivery items are built by the implementation (they are decisions of the
 * storage: a duplicate's original ids, a quota refusal), with the same words whatever the
 * engine: the rules that phrase them live in the shared ledger code.
 */
import type { Hash } from 'node:crypto';
import type {
  AgentFrame,
  AgentResultFrame,
  GroupFrame,
  GroupSummary,
  GroupVerdictFrame,
  KeysGetFrame,
  KeysPublishFrame,
  KeysResultFrame,
  SendFrameV3,
  VerdictFrame,
} from '../../protocol/relay';

/** Stops a watch. */
export type Unsubscribe = () => void;

// ---- deliveries ------------------------------------------------------------------------------

/** A stored delivery: its seq in the user's sequence and its item as JSON text, sent without re-encoding. */
export interface StoredDelivery {
  seq: number;
  /** The delivery item as JSON text. */
  item: string;
}

/**
 * Who may be sent a delivery (protocol v2): a connection of protocol `version` is sent the rows
 * with `minVersion <= version`; a copy of the user's own message skips the device that sent it.
 */
export interface DeliveryView {
  version: number;
  device: string;
}

/** A delivery just committed for `user`, to push to that user's live devices (those its view lets see it). */
export interface CommittedDelivery extends StoredDelivery {
  user: string;
  /** The lowest protocol version that can parse the item; 1 when absent. */
  minVersion?: number;
  /** Set on a copy of the user's own message: the device that sent it, which is not sent it back. */
  originDevice?: string;
}

/** A send's verdict and the deliveries it committed (to push after it resolves). */
export interface SendOutcome {
  verdict: VerdictFrame;
  deliveries: CommittedDelivery[];
}

/** What one bounded step of retention did (`DeliveryStorage.prune`). */
export interface PruneOutcome {
  /** Undelivered messages that expired (their senders were told). */
  expired: number;
  /** Delivered or never-needed records dropped: deliveries past retention, dedupe records, receipt markers. */
  deleted: number;
  /** Notices for the senders of the expired messages, to push. */
  notices: CommittedDelivery[];
  /** True when a batch was full: call again for the rest. */
  more: boolean;
  /** Blobs whose records this step deleted: their bytes go next (`BlobContent.deleteBlob`). */
  blobsToDelete: string[];
}

/** A device registered at hello (`DeliveryStorage.openDevice`). */
export interface OpenedDevice {
  /** The device's acked cursor: the session streams from `acked + 1`. */
  acked: number;
  /** Receipts the hello cursor produced (it counts as an ack), to push. */
  receipts: CommittedDelivery[];
  /** The seq of the last delivery the device's view may be sent after `acked` (welcome's `backlog_seq`); 0 when none. */
  backlogSeq: number;
  /** True when the credential's older (scrypt) hash was rewritten with `upgradeTo`. */
  tokenUpgraded: boolean;
}

export interface OpenDeviceRequest {
  /** The credential the token was checked against: the device is opened only while it is still active. */
  credentialId: number;
  user: string;
  device: string;
  /** The cursor from hello: what the core says it has committed. */
  cursor: number;
  /** The protocol the connection speaks (which deliveries it sees; which devices can take files). */
  version: number;
  /** The token's new hash, for a credential still stored under an older one. */
  upgradeTo?: StoredToken;
  now: Date;
}

/**
 * Every recipient's sequence of deliveries, the dedupe table, receipts and per-device cursors.
 * Quotas (undelivered messages and bytes per recipient) are checked and counted here, atomically
 * with the send they refuse or admit.
 */
export interface DeliveryStorage {
  /**
   * Accepts sends of `sender` (from `device`) that arrived together: for each, in order, dedupe
   * on (sender, client_message_id) (duplicate / conflict), check the id's owner, the recipient,
   * sizes, attachments and quota, then append a delivery for each recipient (the sender's other
   * devices included) and record the dedupe entry. One outcome per message, same order. Each
   * send is atomic on its own; a rejected Promise means none of them was stored.
   */
  acceptSends(sender: string, device: string, messages: SendFrameV3['message'][], now: Date): Promise<SendOutcome[]>;
  /**
   * Registers a device at hello, if credential `credentialId` is still active (else undefined),
   * applies its hello cursor as an ack and reads its backlog's last seq, in one step: a delivery
   * committed after it resolves is one the session's first `deliveriesAfter` reads.
   */
  openDevice(request: OpenDeviceRequest): Promise<OpenedDevice | undefined>;
  /** The deliveries `view` may be sent after `afterSeq`, in seq order, at most `limit`. */
  deliveriesAfter(user: string, afterSeq: number, limit: number, view: DeliveryView): Promise<StoredDelivery[]>;
  /**
   * A device's cumulative ack through `seq` (protocol `version`: rows it was never sent are
   * passed over). Returns the receipts it produced, one per message on the first device to ack
   * it, already appended to each sender's sequence. An ack at or below the cursor does nothing.
   */
  ack(user: string, device: string, seq: number, version: number, now: Date): Promise<CommittedDelivery[]>;
  /** The reader marked these messages read (from `device`): once per reader and message, a `read` receipt to the sender and the reader's other devices. */
  markRead(reader: string, serverIds: string[], device: string, now: Date): Promise<CommittedDelivery[]>;
  /** One bounded step of retention (expire, prune dedupe, receipts, timeline, unused blob records). */
  prune(now: Date): Promise<PruneOutcome>;
  /**
   * Deliveries committed by others (another relay node): the server offers them to its live
   * sessions. May repeat deliveries this node's own calls returned (a session passes over a seq
   * it has sent). A single-node storage never calls `listener`.
   */
  watchDeliveries(listener: (deliveries: CommittedDelivery[]) => void): Unsubscribe;
}

// ---- accounts and tokens -------------------------------------------------------------------

export type TokenHashKind = 'sha256' | 'scrypt';

export interface StoredToken {
  kind: TokenHashKind;
  hash: Buffer;
  /** Empty for SHA-256 rows: a salt adds nothing to a hash of 256 random bits. */
  salt: Buffer;
}

/** A user's active credential: its token hash, and an id that changes whenever a token is issued again. */
export interface Credential extends StoredToken {
  id: number;
  name: string;
}

export interface UserListing {
  name: string;
  created_at: string;
  revoked_at: string | null;
}

/** Users and their token hashes: what `relay add-user|revoke` write and hello checks. */
export interface AccountStorage {
  /** Creates the user (canonical name, checked by the caller); throws `UserExistsError` (relay/storage/errors.ts) if an active one has that name. */
  addUser(name: string, token: StoredToken, now: Date): Promise<void>;
  /** Revokes the active credential stored under exactly `name`; true when there was one. */
  revokeUser(name: string, now: Date): Promise<boolean>;
  activeCredential(name: string): Promise<Credential | undefined>;
  /** Of these credential ids, the ones no longer active (revoked, or reissued): their sessions are closed. */
  inactiveCredentials(ids: number[]): Promise<Set<number>>;
  listUsers(): Promise<UserListing[]>;
  /** Active accounts stored under a non-canonical spelling, each with the other spellings stored (see RelayStore.caseCollisions). */
  caseCollisions(): Promise<{ name: string; others: string[] }[]>;
  /**
   * Calls `listener` soon after credentials change outside this process (`relay revoke` run
   * elsewhere, another node): the server then checks its sessions. `pollMs` bounds how late.
   */
  watchCredentials(listener: () => void, pollMs: number): Unsubscribe;
}

// ---- groups ----------------------------------------------------------------------------------

export interface GroupOutcome {
  verdict: GroupVerdictFrame;
  /** Membership events (and their deliveries) committed by the request, to push. */
  deliveries: CommittedDelivery[];
}

/** Groups, memberships and group timelines (protocol v2). A group send goes through `DeliveryStorage.acceptSends`. */
export interface GroupStorage {
  /** A group request (create, add, remove, leave, rename, role, show), decided and written as a whole. */
  applyGroupRequest(actor: string, frame: GroupFrame, now: Date): Promise<GroupOutcome>;
  /** The user's groups. */
  listGroups(user: string): Promise<GroupSummary[]>;
}

// ---- agents ----------------------------------------------------------------------------------

export interface AgentOutcome {
  answer: AgentResultFrame;
  /** An agent was revoked: its live sessions are closed after the call resolves. */
  revoked?: string;
}

/** Agent identities of a person (protocol v4). */
export interface AgentStorage {
  /** agent_create / agent_list / agent_revoke of `user`, decided and written as a whole (create mints the agent's token and account). */
  applyAgentRequest(user: string, frame: AgentFrame, now: Date): Promise<AgentOutcome>;
}

// ---- key directory ---------------------------------------------------------------------------

/** Devices' signed public keys (protocol v5). */
export interface KeyDirectoryStorage {
  /** Publishes the session's own device record (checked, bounded per user); answers with the user's records. */
  publishKeys(user: string, device: string, frame: KeysPublishFrame, now: Date): Promise<KeysResultFrame>;
  /** Every record of the user `frame.user` names. */
  getKeys(frame: KeysGetFrame): Promise<KeysResultFrame>;
}

// ---- blobs -----------------------------------------------------------------------------------

/** A complete blob as recorded, and whether `user` may use it. */
export interface BlobAccess {
  size: number;
  mayUse: boolean;
}

/** Which blobs are complete, who may use each, which recipient devices have yet to take one (protocol v3). */
export interface BlobRecords {
  /** The blob `sha256` if it is complete, and whether `user` may use it; undefined when there is no such blob. */
  blob(sha256: string, user: string): Promise<BlobAccess | undefined>;
  /** Records a complete, verified, durable blob uploaded by `user` (who may then use it). */
  recordBlob(sha256: string, size: number, user: string, now: Date): Promise<void>;
  /** A device has taken the blob: true when that was the last taker and the record is gone (its bytes go next). */
  takeBlob(sha256: string, user: string, device: string): Promise<boolean>;
}

/** An upload being written: what is there already (and its hash state), and more bytes appended in order. */
export interface PartialBlob {
  /** Bytes already stored (a resumed upload continues from here). */
  readonly have: number;
  /** The hash of those bytes so far; the caller feeds it what it appends. */
  readonly hash: Hash;
  /** Appends one chunk ("put blob chunk"). */
  write(data: Uint8Array): Promise<unknown>;
  /** Makes what was written durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A complete blob being read. */
export interface BlobReader {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** The bytes of blobs: partial uploads per (user, sha256) and complete blobs per sha256. */
export interface BlobContent {
  openPartial(user: string, sha256: string, size: number): Promise<PartialBlob>;
  discardPartial(user: string, sha256: string): Promise<void>;
  /** Makes the user's finished partial the blob `sha256`. */
  promote(user: string, sha256: string): Promise<void>;
  /** Rejects with an error of code `ENOENT` when there is no such blob. */
  openBlob(sha256: string): Promise<BlobReader>;
  deleteBlob(sha256: string): Promise<void>;
  /** Removes partial uploads untouched since `cutoff` that are not `active`; returns how many. */
  sweepPartials(cutoff: Date, active: (user: string, sha256: string) => boolean): Promise<number>;
}

// ---- the whole ---------------------------------------------------------------------------------

/** What the storage reports about itself while it runs (logged by the server). */
export interface StorageEvents {
  /** The storage ran out of space, or has room again. */
  onSpaceChange?: (change: { full: boolean; message: string }) => void;
  /** The storage can no longer vouch for what it stored (a failed fsync): the relay stops. */
  onDurabilityLost?: (error: Error) => void;
  /** Work the storage ran after a commit failed (logged, never fatal). */
  onActionFailed?: (error: unknown) => void;
}

export interface RelayStorage {
  /** What the relay runs on, for logs ("sqlite /path/relay.db"). */
  readonly description: string;
  readonly accounts: AccountStorage;
  readonly deliveries: DeliveryStorage;
  readonly groups: GroupStorage;
  readonly agents: AgentStorage;
  readonly keys: KeyDirectoryStorage;
  readonly blobs: BlobRecords;
  readonly blobContent: BlobContent;
  /** Resolves once every call made so far has settled. */
  idle(): Promise<void>;
  /** Settles what is in flight, then releases the engine. A call after close rejects. */
  close(): Promise<void>;
  /** A line for the stop log ("1200 writes in 40 commits"). */
  summary(): string;
}

/** The limits a storage enforces atomically with the writes they bound (the relay's flags; docs/operations.md, Limits). */
export interface RelayStorageLimits {
  /** Largest message body (UTF-8 bytes). */
  maxBodyBytes: number;
  /** Undelivered messages held for one recipient; a send beyond it is refused (retryable). */
  quotaMessages: number;
  /** Undelivered bytes (stored items and the files they name) held for one recipient. */
  quotaBytes: number;
  /** Deliveries older than this are dropped; for an undelivered message, its sender is told `expired`. */
  retentionMs: number;
  /** How long (sender, client_message_id) and message ids are remembered. At least `retentionMs`. */
  dedupeWindowMs: number;
  /** Current members of one group, the owner included. */
  maxGroupMembers: number;
  /** Groups one user may be a current member of. */
  maxGroupsPerUser: number;
  /** Largest file (blob) a message may name. */
  maxFileBytes: number;
  /** Active agent identities one person may hold. */
  maxAgentsPerOwner: number;
}

/** Which storage a relay runs on. */
export type RelayStorageKind = 'sqlite' | 'jetstream';
