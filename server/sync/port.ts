/** What the core's services need from the relay sync engine. */
import type { ConfigureParams, PullResult, RelayCheck, SendResult, SyncProblem, SyncStatus } from '../../protocol/rpc';
import type { AgentFrame, AgentResultFrame, GroupFrame, GroupSummary, GroupVerdictFrame, KeysFrame, KeysResultFrame } from '../../protocol/relay';
import type { SendFrameMessage } from './send-frame';

/**
 * What a send's caller learns from the relay's verdict (the verdict part of a `SendResult`).
 * Not the webview's `SendVerdict` (protocol/webview.ts), which is only the status word.
 */
export type RelayVerdict = Pick<SendResult, 'status' | 'server_id' | 'reason' | 'reason_code'>;

export interface SyncPort {
  status(): SyncStatus;
  isOnline(): boolean;
  /** Why the relay cannot be reached now (not configured, token refused, unreachable…); null while online. */
  problem(): SyncProblem | null;
  /** Fetches what the relay holds, bounded by `ms` (a CLI verb run without a core). */
  pull(ms: number): Promise<PullResult>;
  /** The outbox has new work. */
  kick(): void;
  /**
   * Called inside the write that stores a new outbound message: claims it for the wire at
   * once when the link is up and nothing queued is ahead of it. True means the caller stores
   * the row inflight (one attempt) and the message leaves as soon as that write commits.
   */
  claimOnInsert(message: SendFrameMessage): boolean;
  /**
   * Resolves with the relay's verdict when it arrives, or undefined when the wait ends
   * another way (after `ms`, or the message died without one): then the outbox row tells.
   */
  awaitVerdict(id: string, ms: number): Promise<RelayVerdict | undefined>;
  /** Resolves once a connection attempt in progress has ended, or after `ms`. */
  whenSettled(ms: number): Promise<void>;
  reconnect(): void;
  configure(config: ConfigureParams): void;
  /** What the first connection attempt since the last `configure` found; `pending` if it is still going after `ms`. */
  whenConfigured(ms: number): Promise<RelayCheck>;
  onStatus(listener: (status: SyncStatus) => void): void;
  /** The relay protocol the live link speaks (1 or 2); null while offline. */
  relayVersion(): number | null;
  /**
   * Sends a group request on the live link and resolves with its verdict, once an `ok` one is
   * stored (groups and members); undefined when the link is down or gone, or after `ms`.
   */
  groupRequest(frame: GroupRequestBody, ms: number): Promise<GroupVerdictFrame | undefined>;
  /** An agent request (protocol v4) and the relay's answer; undefined when offline, not v4, or after `ms`. */
  agentRequest(frame: AgentRequestBody, ms: number): Promise<AgentResultFrame | undefined>;
  /** A key-directory request (protocol v5) and the relay's answer; undefined when offline, not v5, or after `ms`. */
  keysRequest(frame: KeysRequestBody, ms: number): Promise<KeysResultFrame | undefined>;
  /** The user's groups as the relay lists them; undefined when offline or after `ms`. */
  groupList(ms: number): Promise<GroupSummary[] | undefined>;
  /** The relay's largest file: its welcome's max_file_bytes while a v3 link is up, else what the configured relay last announced; null if it never did. */
  maxFileBytes(): number | null;
  /** Attachments were marked downloading: fetch them when the link is up. */
  kickDownloads(): void;
  /**
   * Resolves once none of these attachments of message `id` is downloading (each ready or
   * failed), or after `ms`.
   */
  awaitDownloads(id: string, ms: number, index?: number): Promise<void>;
  /** Read receipts were queued: send them when the link is up. */
  kickReadReceipts(): void;
  stop(): Promise<void>;
}

/** A group frame before the link gives it its request id. */
export type GroupRequestBody = GroupFrame extends infer F ? (F extends GroupFrame ? Omit<F, 'request_id'> : never) : never;

/** An agent frame before the link gives it its request id. */
export type AgentRequestBody = AgentFrame extends infer F ? (F extends AgentFrame ? Omit<F, 'request_id'> : never) : never;

/** A key-directory frame before the link gives it its request id. */
export type KeysRequestBody = KeysFrame extends infer F ? (F extends KeysFrame ? Omit<F, 'request_id'> : never) : never;
