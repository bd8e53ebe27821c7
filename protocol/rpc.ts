/**
 * The local JSON-RPC contract between the core and its clients (CLI, extension, agents).
 *
 * This module holds names and types only, with no runtime dependencies, so that the CLI's
 * delegated path can import it without pulling in a schema library. The runtime validators
 * live in `rpc-schemas.ts` and are checked against these types at compile time.
 */

/** Bumped when a method changes incompatibly. The core refuses older clients with a clear error. */
export const PROTOCOL_VERSION = 1;
/** The oldest client protocol version the core still serves. */
export const MIN_CLIENT_PROTOCOL_VERSION = 1;

/** Largest JSON-RPC frame (header excluded) the core accepts from a client. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Largest frame (header excluded) a client accepts from the core. An answer is not bounded by
 * MAX_FRAME_BYTES (a list of 1000 messages near the relay's 256 KiB frame each is about 260 MB;
 * `outbox/list` has no limit), so this cap is only a guard: a broken core's announced length
 * is refused at once instead of being buffered, and stays under what one JS string can hold.
 */
export const MAX_ANSWER_FRAME_BYTES = 256 * 1024 * 1024;
/** User names, ids and bodies are limited in one place, shared with the relay: see limits.ts. */
export { MAX_BODY_BYTES, MAX_ID_LENGTH, USER_NAME_MAX_LENGTH, USER_NAME_PATTERN } from './limits';
/** A relay address at a glance; the full rule (what a WebSocket client can dial) is relayUrlProblem in relay-url.ts. */
export const RELAY_URL_PATTERN = /^wss?:\/\/\S+$/;

export type SendStatus = 'sent' | 'duplicate' | 'queued' | 'failed';
export type Direction = 'in' | 'out';
/** Where a message stands. Outbound: queued → sent → delivered, or failed / aborted. Inbound: received. */
export type MessageState = 'queued' | 'sent' | 'delivered' | 'failed' | 'aborted' | 'received';
/**
 * pending → inflight → done (at the relay), or dead (refused, out of attempts) / aborted. A done
 * row becomes `expired` when the relay dropped it undelivered after its retention; expired,
 * dead and aborted are terminal (requeue sends a copy under a new id).
 */
export const OUTBOX_STATES = ['pending', 'inflight', 'done', 'dead', 'aborted', 'expired'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];
export type SyncState = 'disabled' | 'offline' | 'connecting' | 'online' | 'unauthorized' | 'error';

export interface Message {
  /** Minted by the sending core; the same on every copy (sender, relay, recipient). */
  id: string;
  client_message_id: string;
  /** The relay's id once it accepted the message. */
  server_id: string | null;
  /** The other party: the recipient for outbound messages, the sender for inbound ones. */
  conversation: string;
  direction: Direction;
  from: string;
  to: string;
  body: string;
  reply_to: string | null;
  /** Set on questions sent with `ask`; a reply correlates through `reply_to`. */
  request_id: string | null;
  created_at: string;
  state: MessageState;
  read: boolean;
  /** The group's name (without `#`) for a group message, whose `conversation` and `to` are `#name`; null for a direct message. */
  group: string | null;
  /** Members named with `@name` in the body, as the relay checked them; [] when none. */
  mentions: string[];
  /** Inbound: this user is mentioned, or it is a direct message (which counts as a mention). False for outbound. */
  mentions_me: boolean;
  /** Outbound: how many recipients' cores committed it and how many marked it read; null for inbound. */
  receipts: ReceiptSummary | null;
  /** Its files, in the order the sender attached them; [] when none. */
  attachments: Attachment[];
  /**
   * The sender is an agent identity of this user (`alice.claude`, owned by `alice`), as the
   * relay said it (protocol v4). Absent for a person, an outbound message, and rows from before.
   */
  from_owner?: string;
}

/**
 * Where one file of a message stands at this home. Inbound: `remote` (at the relay only),
 * `downloading`, `ready` (downloaded and verified against `sha256`), `failed` (`error` says
 * why; downloading again may help). Outbound: `ready` once the file is in this home's store
 * (the sender's copy); the upload's progress is `transferred`.
 */
export type AttachmentState = 'remote' | 'downloading' | 'ready' | 'failed';

export interface Attachment {
  /** Its position on the message, from 0. */
  index: number;
  /** The sender's name for it: data, never a path (lib/file-names.ts makes a safe one to write). */
  name: string;
  size: number;
  sha256: string;
  mime: string;
  state: AttachmentState;
  /** Bytes moved so far: downloaded (inbound) or durable at the relay (outbound). */
  transferred: number;
  /** Why it failed, for a person; null otherwise. */
  error: string | null;
  /** The verified file in this home's store once `ready` (read it, copy it; never write to it); null otherwise. */
  path: string | null;
}

/** Per-recipient receipts of one outbound message in counts (a direct message has one recipient). */
export interface ReceiptSummary {
  /** Recipients the message went to: the other party, or the group's members but the sender at send time. */
  total: number;
  delivered: number;
  read: number;
}

/** One recipient's receipts of one outbound message. */
export interface Receipt {
  user: string;
  /** When the recipient's core committed it; null until then. */
  delivered_at: string | null;
  /** When the recipient marked it read; null until then, and always for a recipient who sends no read receipts. */
  read_at: string | null;
  /**
   * The relay will not deliver it to this recipient: `quota` (their undelivered messages at the
   * relay were at its cap when it was sent, so the group went on without them) or `retention`
   * (no device of theirs took it in time); null otherwise.
   */
  dropped: 'quota' | 'retention' | null;
}

export interface ReceiptsResult extends ReceiptSummary {
  id: string;
  receipts: Receipt[];
}

/** One definition of roles and members for both wires. */
import type { GroupMember, GroupRole } from './relay';
export type { GroupMember, GroupRole };

/** A group as this home knows it (from the relay's membership events and answers). */
export interface Group {
  group_id: string;
  /** Without `#`; the conversation is `#name`. */
  name: string;
  /** This user's role; null once this user left or was removed (the history stays). */
  role: GroupRole | null;
  members: GroupMember[];
  created_by: string | null;
  created_at: string | null;
  /** Unread messages in the group's conversation. */
  unread: number;
  /** Unread messages that mention this user. */
  unread_mentions: number;
}

export interface OutboxItem {
  id: string;
  client_message_id: string;
  to: string;
  body: string;
  state: OutboxState;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface Conversation {
  /** A user name, or `#name` for a group. */
  peer: string;
  kind: 'user' | 'group';
  unread: number;
  /** Unread messages that mention this user (every unread direct message counts). */
  unread_mentions: number;
  total: number;
  last: Message | null;
  /** For a group: its member count; null for a user. */
  members: number | null;
  /** For a user that is an agent identity: its owner, as the relay said it; absent otherwise. */
  owner?: string;
}

export interface Peer {
  name: string;
  messages: number;
  unread: number;
  last_at: string | null;
  /** The peer is an agent identity of this user, as the relay said it (protocol v4); absent for a person. */
  owner?: string;
  /** Trust in the peer's device keys (docs/security.md): `unverified` also when none are known yet. */
  trust: TrustState;
}

/**
 * Trust on first use of a user's device keys: `unverified` (pinned as first seen, or none known
 * yet), `verified` (the safety number was confirmed), `changed` (the relay now lists a key that
 * differs from the pin: sends to the user fail until `verify <user> --accept-change`).
 */
export type TrustState = 'unverified' | 'verified' | 'changed';

export interface TrustParams {
  user: string;
}

export interface TrustConfirmParams {
  user: string;
  /** The 60 digits as the peer read them out; spaces and dashes are ignored. */
  safety_number: string;
}

/** What `trust/*` answers: where trust in `user`'s keys stands now. */
export interface TrustInfo {
  user: string;
  trust: TrustState;
  /** Twelve groups of five digits from both users' pinned keys; null while no keys are known for one of them. */
  safety_number: string | null;
  /** While `changed`: the number the new keys would give (compare it before accepting them); else null. */
  new_safety_number: string | null;
  /** Devices of the user whose keys are pinned. */
  devices: number;
  /** The keys were fetched from the relay's directory just now; false: offline, a relay before v5, or no answer in time (the pinned keys are shown). */
  fresh: boolean;
}

export interface SyncStatus {
  state: SyncState;
  relay: string | null;
  user: string | null;
  last_inbound_at: string | null;
  last_ack_at: string | null;
  last_error: string | null;
  connected_since: string | null;
  queued: number;
  /**
   * Recipients whose queued messages wait because the relay refused one for the recipient's
   * quota: nothing more goes to them before `retry_at` (backing off); others flow meanwhile.
   */
  held: HeldRecipient[];
}

export interface HeldRecipient {
  to: string;
  /** The relay's refusal, for a person. */
  reason: string;
  retry_at: string;
}

/** The store's health: `disk_full` while writes fail for want of space, `ok` again once one stores. */
export interface StoreStatus {
  path: string;
  state: 'ok' | 'disk_full';
  /** "disk full at <path>" while full, else null. */
  error: string | null;
  /** When writes began failing, while full. */
  since: string | null;
}

export interface CoreStatus {
  version: string;
  protocol: number;
  pid: number;
  home: string;
  socket: string | null;
  since: string;
  clients: number;
  messages: number;
  unread: number;
  outbox: Record<OutboxState, number>;
  store: StoreStatus;
  sync: SyncStatus;
}

// ---- requests ---------------------------------------------------------------------------

export interface ClientInfo {
  name: string;
  version: string;
}

/** Switchboard clients send `client` and `protocol`; LSP clients send them in `initializationOptions`. */
export interface InitializeParams {
  client?: ClientInfo;
  protocol?: number;
  initializationOptions?: { client?: ClientInfo; protocol?: number };
}

export interface InitializeResult {
  server: { name: string; version: string };
  protocol: number;
  methods: string[];
  notifications: string[];
  /** Present so vscode-languageclient accepts the answer. */
  capabilities: Record<string, never>;
  serverInfo: { name: string; version: string };
}

export interface SendParams {
  /** A user name, or `#name` for a group (the core computes `mentions` from the body). */
  to: string;
  body: string;
  reply_to?: string;
  client_message_id?: string;
  request_id?: string;
  /** How long to wait for the relay's verdict before answering `queued`. */
  wait_ms?: number;
  /** When false, a send that cannot reach the relay now stores nothing and fails. */
  queue?: boolean;
  /**
   * Files to send with the message (`body` is then the caption, possibly empty). The core
   * copies each into its store, checking the bytes against `sha256` and `size` as the client
   * measured them (a file that changed since fails the send with `FileChanged`, storing
   * nothing); the message is `sent` only once every blob is durable at the relay.
   */
  attachments?: AttachmentInput[];
}

export interface AttachmentInput {
  /** Absolute path of a regular file the core can read. */
  path: string;
  /** The name the recipient sees; default the path's base name. */
  name?: string;
  sha256: string;
  size: number;
  /** Default from the name's extension (application/octet-stream when unknown). */
  mime?: string;
}

export interface SendResult {
  status: SendStatus;
  id: string;
  client_message_id: string;
  to: string;
  server_id: string | null;
  /** For a person: why the message is queued or failed, and what fixes it. Null when sent. */
  reason: string | null;
  /** For a script: `reason` as a stable code (docs/protocol.md lists them). Null when sent. */
  reason_code: SendReasonCode | null;
}

/**
 * Why the relay cannot be reached right now (a core's link, or a CLI verb's pull): the same
 * codes name why a send is queued and why nothing was fetched.
 */
export const SYNC_PROBLEM_CODES = ['not_configured', 'unauthorized', 'unreachable', 'timeout', 'tls', 'not_relay', 'refused', 'bad_url', 'disconnected'] as const;
export type SyncProblemCode = (typeof SYNC_PROBLEM_CODES)[number];

/** A sync problem: a stable code and a sentence that names the command that fixes it. */
export interface SyncProblem {
  code: SyncProblemCode;
  message: string;
}

/**
 * Why a send is queued (a sync problem, or the relay deferred it, or no verdict came in time)
 * or failed (the relay rejected it, it ran out of attempts, expired at the relay, or was aborted).
 */
export type SendReasonCode = SyncProblemCode | 'deferred' | 'no_verdict' | 'not_waited' | 'rejected' | 'dead' | 'expired' | 'aborted' | 'uploading';

/**
 * What a CLI verb run without a core fetched from the relay before answering: `fetched` new
 * messages stored, `caught_up` when the relay had nothing more waiting, `problem` why not.
 */
export interface PullResult {
  fetched: number;
  caught_up: boolean;
  problem: SyncProblem | null;
}

export interface InboxListParams {
  unread?: boolean;
  from?: string;
  /** Only this conversation: a user name or `#name`. */
  in?: string;
  /** Only messages that mention this user (direct messages count). */
  mentions?: boolean;
  limit?: number;
}

export interface MessagesResult {
  messages: Message[];
}

export interface InboxListResult extends MessagesResult {
  /** More messages match than `limit` let through. */
  has_more: boolean;
}

export interface ConversationMessagesParams {
  /** A user name or `#name`. */
  peer: string;
  limit?: number;
  /** Page towards older messages: only messages created before this message id. */
  before?: string;
}

export interface ConversationMessagesResult {
  messages: Message[];
  has_more: boolean;
}

export interface IdParams {
  id: string;
}

export interface MarkReadParams {
  ids?: string[];
  /** A user name or `#name`. */
  conversation?: string;
  all?: boolean;
}

export interface MarkReadResult {
  updated: number;
  unread: number;
}

export interface SearchParams {
  query: string;
  limit?: number;
}

export interface OutboxListParams {
  state?: OutboxState;
}

export interface OutboxListResult {
  items: OutboxItem[];
}

export interface RequeueResult {
  aborted: string;
  item: OutboxItem;
}

export interface SubscribeParams {
  /**
   * Resume after this event cursor. Absent: only events from now on. 0: everything kept. A
   * cursor older than the events the core has pruned fails with `CursorTooOld`: resync.
   */
  since?: number;
}

export interface SubscribeResult {
  /** The newest cursor at subscription time; the backlog up to here follows as notifications. */
  cursor: number;
}

export interface ConfigureParams {
  relay: string;
  user: string;
  token: string;
  /**
   * Allows a `ws://` relay on another machine (token and messages in clear); stored in the
   * home's config. Without it such a URL is refused (protocol/relay-url.ts).
   */
  insecure?: boolean;
  /**
   * Answer only once the first connection attempt with these settings has ended (or after this
   * many ms), with what it found in `check`. Without it the answer comes at once.
   */
  wait_ms?: number;
}

/** What one connection attempt with new settings found (`config/set` with `wait_ms`; `init`). */
export interface RelayCheck {
  /**
   * `connected`; `unauthorized` (token refused); `unreachable` (nothing answered at the host and
   * port); `timeout` (no answer or no welcome in time); `tls` (the TLS handshake failed);
   * `not_relay` (something answered, not a Switchboard relay); `refused` (a relay turned the
   * connection away, e.g. busy); `url` (the URL cannot be dialled); `pending` (still trying when
   * the wait ended).
   */
  outcome: 'connected' | 'unauthorized' | 'unreachable' | 'timeout' | 'tls' | 'not_relay' | 'refused' | 'url' | 'pending';
  /** One line for a person. */
  message: string;
}

export interface ConfigureResult extends SyncStatus {
  /** Present when `wait_ms` was given. */
  check?: RelayCheck;
}

/** `name` is a group name without `#` (a leading `#` is accepted and dropped). */
export interface GroupCreateParams {
  name: string;
  /** Members besides the creator, who becomes the owner. */
  members?: string[];
}
export interface GroupNameParams {
  name: string;
}
export interface GroupUsersParams {
  name: string;
  users: string[];
}
export interface GroupRenameParams {
  name: string;
  new_name: string;
}
export interface GroupRoleParams {
  name: string;
  user: string;
  role: GroupRole;
}
export interface GroupListResult {
  groups: Group[];
}

/** What this user chose; stored in the home. */
export interface Settings {
  /** Send read receipts when this user marks messages read (default true). */
  receipts_read: boolean;
  /** Download a received message's files at once when they total at most this many bytes (default DEFAULT_AUTO_DOWNLOAD_BYTES; 0: never). */
  auto_download_bytes: number;
}
export type SettingsParams = Partial<Settings>;

// ---- notifications ----------------------------------------------------------------------

export interface MessageEvent {
  cursor: number;
  message: Message;
}

export interface OutboxEvent {
  cursor: number;
  item: OutboxItem;
}

export interface GroupEvent {
  cursor: number;
  group: Group;
}

/**
 * How one file's transfer goes, at most a few times a second per file and once at its end (not
 * kept in the event log: a client that missed some reads `transferred` off the message).
 */
export interface TransferProgress {
  /** The message's id. */
  id: string;
  index: number;
  direction: 'up' | 'down';
  transferred: number;
  size: number;
}

/**
 * A user's trust changed in this core's pins: a change of their keys was found (by `trust/show`,
 * a send's lookup), the change was accepted, or the safety number confirmed. Sent live to every
 * subscriber, not kept in the event log: a client that was away reads `peers/list` again.
 */
export interface TrustChanged {
  user: string;
  trust: TrustState;
}

export interface AttachmentDownloadParams {
  /** The message's id. */
  id: string;
  /** Only this attachment; default all. */
  index?: number;
  /** Answer once every asked file is ready or failed, or after this many ms (then some may still be `downloading`). Default 0: at once. */
  wait_ms?: number;
}

export interface AttachmentDownloadResult {
  id: string;
  attachments: Attachment[];
}

/** `claude` (this user's `<user>.claude`) or the full `alice.claude`. */
export interface AgentNameParams {
  name: string;
}

import type { AgentInfo } from './relay';
export type { AgentInfo };

/** An agent as the relay knows it, and where its home is on this machine. */
export interface AgentEntry extends AgentInfo {
  /** `agentHome(<this home>, name)`: run as it with `switchboard --home <home> …` or `switchboard mcp --agent <name>`. */
  home: string;
  /** Whether that home holds the agent's settings (config.json and token). */
  home_present: boolean;
}

export interface AgentCreateResult {
  agent: AgentEntry;
  /** The agent's relay token, shown this once (also written 0600 to the agent's home). */
  token: string;
}

export interface AgentListResult {
  agents: AgentEntry[];
}

export interface AgentRevokeResult {
  agent: AgentEntry;
}

export type CoreEvent =
  | ({ type: 'message/received' } & MessageEvent)
  | ({ type: 'message/updated' } & MessageEvent)
  | ({ type: 'outbox/changed' } & OutboxEvent)
  | ({ type: 'group/changed' } & GroupEvent);

/** Every request the core serves, with its params and result types. */
export interface Requests {
  initialize: [InitializeParams, InitializeResult];
  'message/send': [SendParams, SendResult];
  'message/get': [IdParams, Message];
  'message/markRead': [MarkReadParams, MarkReadResult];
  /** Who of the recipients has this outbound message (delivered) and who read it. */
  'message/receipts': [IdParams, ReceiptsResult];
  'inbox/list': [InboxListParams, InboxListResult];
  'conversation/list': [Record<string, never>, { conversations: Conversation[] }];
  'conversation/messages': [ConversationMessagesParams, ConversationMessagesResult];
  search: [SearchParams, MessagesResult];
  'outbox/list': [OutboxListParams, OutboxListResult];
  'outbox/requeue': [IdParams, RequeueResult];
  'outbox/abort': [IdParams, OutboxItem];
  'peers/list': [Record<string, never>, { peers: Peer[] }];
  'status/get': [Record<string, never>, CoreStatus];
  'events/subscribe': [SubscribeParams, SubscribeResult];
  'sync/reconnect': [Record<string, never>, SyncStatus];
  'config/set': [ConfigureParams, ConfigureResult];
  'daemon/shutdown': [Record<string, never>, { ok: true }];
  /**
   * Group management goes to the relay over the core's link and answers with the group as the
   * relay's verdict left it; a refusal is a `GroupRefused` error, an unreachable relay `NotSent`.
   */
  'group/create': [GroupCreateParams, Group];
  'group/add': [GroupUsersParams, Group];
  'group/remove': [GroupUsersParams, Group];
  'group/leave': [GroupNameParams, Group];
  'group/rename': [GroupRenameParams, Group];
  'group/role': [GroupRoleParams, Group];
  /** From the relay when it answers in time, else as this home last knew it. */
  'group/show': [GroupNameParams, Group];
  /** The groups this home knows, current ones first. */
  'group/list': [Record<string, never>, GroupListResult];
  /**
   * Agent identities this user owns (protocol v4 relays): each goes to the relay over the
   * core's link. Offline (or a relay before v4) is `NotSent`, within a bounded wait; a refusal
   * is `AgentRefused`. `create` also writes the agent's home (`agentHome`, lib/node/paths.ts).
   */
  'agent/create': [AgentNameParams, AgentCreateResult];
  'agent/list': [Record<string, never>, AgentListResult];
  'agent/revoke': [AgentNameParams, AgentRevokeResult];
  /**
   * Trust in a user's device keys (end-to-end encryption, docs/security.md): each fetches the
   * user's and this user's records from the relay's key directory when online (v5), verifies and
   * reconciles them with the pins, then answers. `confirm` with a number that does not match, or
   * while the keys are `changed`, is `TrustRefused`; so is any of them for a user with no keys.
   */
  'trust/show': [TrustParams, TrustInfo];
  'trust/confirm': [TrustConfirmParams, TrustInfo];
  'trust/accept': [TrustParams, TrustInfo];
  'settings/get': [Record<string, never>, Settings];
  'settings/set': [SettingsParams, Settings];
  /**
   * Starts downloading a received message's files that are not ready (each verified against
   * its hash before it is `ready`); an outbound message's are ready already. NotFound for an
   * unknown id or index.
   */
  'attachment/download': [AttachmentDownloadParams, AttachmentDownloadResult];
  /** LSP courtesy: a leaving client. The core keeps serving everyone else. */
  shutdown: [null | undefined | Record<string, never>, null];
}

export type Method = keyof Requests;
export type ParamsOf<M extends Method> = Requests[M][0];
export type ResultOf<M extends Method> = Requests[M][1];

export interface Notifications {
  'message/received': MessageEvent;
  'message/updated': MessageEvent;
  'outbox/changed': OutboxEvent;
  'group/changed': GroupEvent;
  'sync/status': SyncStatus;
  'transfer/progress': TransferProgress;
  'trust/changed': TrustChanged;
}
export type NotificationName = keyof Notifications;
/** What `initialize` lists; every name of `Notifications`, checked below. */
export const NOTIFICATIONS = ['message/received', 'message/updated', 'outbox/changed', 'group/changed', 'sync/status', 'transfer/progress', 'trust/changed'] as const satisfies readonly NotificationName[];
/** Fails to compile naming a notification added to `Notifications` but not to NOTIFICATIONS. */
type NoneOf<T extends never> = T;
export type NotificationsListed = NoneOf<Exclude<NotificationName, (typeof NOTIFICATIONS)[number]>>;
/**
 * A notification as a listener's arguments: checking the name narrows the params, so a
 * listener never annotates a payload by hand.
 */
export type NotificationArgs = { [N in NotificationName]: [name: N, params: Notifications[N]] }[NotificationName];

export function isNotificationName(name: string): name is NotificationName {
  return (NOTIFICATIONS as readonly string[]).includes(name);
}

// ---- errors -----------------------------------------------------------------------------

export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Same client_message_id, different content. CLI exit 5. */
  Conflict: -32001,
  NotFound: -32002,
  ProtocolVersion: -32003,
  NotInitialized: -32004,
  InvalidState: -32005,
  /** The send could not reach the relay and queueing was refused. */
  NotSent: -32006,
  FrameTooLarge: -32007,
  TooManyClients: -32008,
  ShuttingDown: -32009,
  /** The write could not be stored: the disk holding the store is full. Retry once there is space. */
  DiskFull: -32010,
  /** `events/subscribe` from a cursor whose next events were pruned: list again, then subscribe without `since`. */
  CursorTooOld: -32011,
  /** The relay refused a group request: `data.code` is its GroupRejectionCode, `data.retryable` whether trying again may help. */
  GroupRefused: -32012,
  /**
   * An attachment could not be taken into the store: the file is missing, not a regular file,
   * over the limit, or its bytes no longer match the `sha256`/`size` given (it changed).
   * `data.kind` is `file`; `data.path` names it. Nothing was stored.
   */
  FileRefused: -32013,
  /** The relay refused an agent request: `data.code` is its AgentRejectionCode (protocol/relay.ts), `data.retryable` whether trying again may help. */
  AgentRefused: -32014,
  /**
   * Trust in a peer's keys refuses it: a send to a peer whose keys `changed` (`data.code`
   * `key_changed`), a safety number that does not match (`safety_number_mismatch`), or no keys
   * known for the user (`no_keys`).
   */
  TrustRefused: -32015,
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * A JSON-RPC error as it travels: what a delegated client gets over the socket and a direct one
 * from the dispatcher, alike. `data` is an ErrorData when the core raised it on purpose; raw
 * framing errors carry none.
 */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** The `data` of every error the core raises on purpose: enough for a client to act on it. */
export interface ErrorData {
  kind: 'conflict' | 'not_found' | 'protocol' | 'invalid_state' | 'invalid_params' | 'not_sent' | 'frame' | 'busy' | 'disk_full' | 'internal' | 'cursor_too_old' | 'group_refused' | 'file' | 'agent_refused' | 'trust';
  /** For conflicts: the id of the earlier message that owns the client_message_id. */
  id?: string;
  /** For cursor_too_old: every event up to this cursor was pruned. */
  pruned_through?: number;
  /** For trust: key_changed, safety_number_mismatch or no_keys. For group_refused / agent_refused: the relay's code (protocol/relay.ts GROUP_REJECTION_CODES, AGENT_REJECTION_CODES) and whether a retry may help. */
  code?: string;
  retryable?: boolean;
  /** For file: the attachment's path as the client gave it. */
  path?: string;
}
