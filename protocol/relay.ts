/**
 * Frames between a core and the relay: JSON text frames over one WebSocket.
 * Types only; runtime validators are in `relay-schemas.ts`.
 *
 * Flow: the core sends `hello` first; the relay answers `welcome` (or `error` + close).
 * The relay then redelivers every delivery past the device's acked cursor, in sequence
 * order, followed by live ones. The core commits each delivery before acking it; acks are
 * cumulative. Every `send` gets exactly one `verdict`.
 */

import type { DeviceKeyRecord } from './e2e';

export const RELAY_PROTOCOL_VERSION = 1;

/** Largest frame either side accepts, in bytes. */
export const RELAY_MAX_FRAME_BYTES = 256 * 1024;

/** WebSocket close codes the relay uses, so the core can tell "stop" from "try again". */
export const RelayCloseCodes = {
  /** Bad or revoked token. The core must not reconnect until reconfigured. */
  Unauthorized: 4001,
  /** Malformed or out-of-order frames, or an unsupported protocol version. */
  Protocol: 4002,
  /** The relay is shutting down; reconnect later. */
  GoingAway: 1001,
  /** Another connection of the same device replaced this one. */
  Replaced: 4003,
  /** No hello in time after the upgrade, or a slow consumer (too many bytes left unread). Reconnect with backoff. */
  Policy: 1008,
  /** A frame over RELAY_MAX_FRAME_BYTES, or more bytes before welcome than the relay allows. */
  TooBig: 1009,
  /** Too many logins in progress at the relay. Reconnect with backoff. */
  TryAgainLater: 1013,
} as const;

/**
 * When the relay refuses a connection at the upgrade (HTTP 429 or 503: too many connections),
 * this response header says why, for the core to show.
 */
export const RELAY_REFUSAL_HEADER = 'x-switchboard-refusal';

/** A message as it travels: the sender's core mints `id` and `client_message_id`. */
export interface WireMessage {
  id: string;
  client_message_id: string;
  from: string;
  to: string;
  body: string;
  reply_to: string | null;
  request_id: string | null;
  created_at: string;
}

// ---- core → relay ------------------------------------------------------------------------

export interface HelloFrame {
  type: 'hello';
  v: number;
  user: string;
  token: string;
  /** Stable per core store; each device of a user acks independently. */
  device: string;
  /** The highest delivery sequence this device has committed (0 for none). */
  cursor: number;
}

export interface SendFrame {
  type: 'send';
  message: Omit<WireMessage, 'from'>;
}

/** Cumulative: every delivery with `seq <= seq` is committed by this device. */
export interface AckFrame {
  type: 'ack';
  seq: number;
}

export interface PingFrame {
  type: 'ping';
  t: number;
}

export type CoreToRelayFrame = HelloFrame | SendFrame | AckFrame | PingFrame;

// ---- relay → core ------------------------------------------------------------------------

export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  user: string;
  device: string;
  /** The relay sends a ping at least this often; silence for 3× this means a dead link. */
  heartbeat_ms: number;
  max_body_bytes: number;
  /**
   * The seq of the last delivery waiting for this device when the relay said welcome (0 when
   * none was): the backlog that follows ends there, so a core that has committed it is caught
   * up (a CLI verb run without a core pulls until then). Absent from a relay that does not say.
   */
  backlog_seq?: number;
}

export type VerdictFrame =
  | { type: 'verdict'; result: 'accepted'; client_message_id: string; id: string; server_id: string; seq: number }
  | { type: 'verdict'; result: 'duplicate'; client_message_id: string; id: string; server_id: string; original_id: string }
  | {
      type: 'verdict';
      result: 'rejected';
      client_message_id: string;
      id: string;
      reason: string;
      /** True when the same send may succeed later (rate limit, quota); false when it never will. */
      retryable: boolean;
      /**
       * For a machine: why, when the relay says. Known values are `REJECTION_CODES`; a core
       * treats any other value (or none) by `retryable` alone.
       */
      code?: string;
    };

export const REJECTION_CODES = {
  /** The recipient has as many undelivered messages or bytes as the relay holds for one recipient. Retryable. */
  quota: 'quota',
  /** Another message (of another sender, or another client_message_id) already uses this message id. Not retryable. */
  idTaken: 'id_taken',
} as const;

/**
 * Something stored for this user: a message from a peer; a receipt for one this user sent; or
 * word that one this user sent expired at the relay, undelivered, after the relay's retention.
 */
export type DeliveryItem =
  | { kind: 'message'; server_id: string; message: WireMessage }
  | { kind: 'receipt'; id: string; server_id: string; by: string; at: string }
  | { kind: 'expired'; id: string; server_id: string; to: string; at: string };

export interface DeliverFrame {
  type: 'deliver';
  seq: number;
  item: DeliveryItem;
}

export interface PongFrame {
  type: 'pong';
  t: number;
}

export interface ErrorFrame {
  type: 'error';
  code: 'unauthorized' | 'protocol' | 'too_large' | 'internal';
  message: string;
}

export type RelayToCoreFrame = WelcomeFrame | VerdictFrame | DeliverFrame | PingFrame | PongFrame | ErrorFrame;

// ---- protocol v2: groups, own-device copies, per-member receipts, mentions ----------------
//
// v2 is a superset of v1 on the wire: every v1 frame is a valid v2 frame, and the relay speaks
// both. The types above stay the v1 contract (what today's core parses); the v2 types below
// add to them. A core says `hello {v: 2}` to get the v2 stream; a v1 core (`v: 1`) keeps
// working for direct messages and is sent only the items it can parse (docs/relay.md, "v2").

export const RELAY_PROTOCOL_V1 = 1;
export const RELAY_PROTOCOL_V2 = 2;
/** Every version this relay accepts in hello; `welcome.v` is the one the connection speaks. */
export const RELAY_SUPPORTED_VERSIONS: readonly number[] = [RELAY_PROTOCOL_V1, RELAY_PROTOCOL_V2, 3 /* RELAY_PROTOCOL_V3 */, 4 /* RELAY_PROTOCOL_V4 */, 5 /* RELAY_PROTOCOL_V5 */, 6 /* RELAY_PROTOCOL_V6; v3 to v6 declared with their frames below */];

/** A conversation address is a user name (`bob`) or a group: `#` and a name under the user-name rule (`#team`). */
export const GROUP_PREFIX = '#';

export type GroupRole = 'owner' | 'admin' | 'member';

/**
 * The v2 envelope. The relay reads the addressing (`to`, `mentions`) and the body's byte
 * length, never the body itself: an end-to-end encrypted body is a later change of what
 * `body` holds, not of this format. `mentions` are user names the sender's core found in the
 * body; the relay keeps only those that are members of the conversation (the recipient of a
 * direct message; the group's current members).
 */
export interface WireMessageV2 extends WireMessage {
  mentions?: string[];
}

export interface SendFrameV2 {
  type: 'send';
  message: Omit<WireMessageV2, 'from'>;
}

/** The member has read these messages (their `server_id`s): the relay tells each sender once. */
export interface ReadFrame {
  type: 'read';
  server_ids: string[];
}

/** Most server ids one read frame may name. */
export const MAX_READ_IDS = 256;

/** Group management: each frame gets exactly one `group_verdict` with the same `request_id`. */
interface GroupRequest<T extends string> {
  type: T;
  request_id: string;
  /** The group's name, without `#`. */
  group: string;
}
export interface GroupCreateFrame extends GroupRequest<'group_create'> {
  /** Members besides the creator, who becomes the owner. */
  members: string[];
}
export interface GroupAddFrame extends GroupRequest<'group_add'> {
  users: string[];
}
export interface GroupRemoveFrame extends GroupRequest<'group_remove'> {
  users: string[];
}
export type GroupLeaveFrame = GroupRequest<'group_leave'>;
export interface GroupRenameFrame extends GroupRequest<'group_rename'> {
  new_name: string;
}
export interface GroupRoleFrame extends GroupRequest<'group_role'> {
  user: string;
  role: GroupRole;
}
/** The group as it is now (any member): answered with an `ok` group_verdict that changes nothing. */
export type GroupShowFrame = GroupRequest<'group_show'>;
export type GroupFrame = GroupCreateFrame | GroupAddFrame | GroupRemoveFrame | GroupLeaveFrame | GroupRenameFrame | GroupRoleFrame | GroupShowFrame;

/**
 * The groups the user is a member of now, answered with `group_list_result`: how a device that
 * came after the membership events (pruned once every earlier device took them) learns its rooms.
 */
export interface GroupListFrame {
  type: 'group_list';
  request_id: string;
}

export type CoreToRelayFrameV2 = HelloFrame | SendFrameV2 | AckFrame | PingFrame | ReadFrame | GroupFrame | GroupListFrame;

export interface GroupMember {
  user: string;
  role: GroupRole;
  /** The member is an agent identity of this user (protocol v4 relays say so; absent for a person). */
  owner?: string;
}

/** Why a group request was refused. Only `rate_limit` and `storage` are retryable as they stand. */
export const GROUP_REJECTION_CODES = {
  /** The group name (or a new name) does not follow the user-name rule. */
  badName: 'bad_name',
  /** A group of that name exists (create, rename). */
  groupExists: 'group_exists',
  unknownGroup: 'unknown_group',
  /** The requester is not a member, or a named user is not one (remove, role). */
  notMember: 'not_member',
  /** The requester's role does not allow it. */
  forbidden: 'forbidden',
  /** A named user has no active account at the relay. */
  unknownUser: 'unknown_user',
  /** It would leave the group without an owner: hand over ownership first (`group_role`). */
  lastOwner: 'last_owner',
  /** Members per group or groups per user at the relay's cap. */
  limit: 'limit',
  /** The user's rate (shared with sends) is spent. Retryable. */
  rateLimit: 'rate_limit',
  /** The relay could not store it (disk full, I/O). Retryable. */
  storage: 'storage',
} as const;
export type GroupRejectionCode = (typeof GROUP_REJECTION_CODES)[keyof typeof GROUP_REJECTION_CODES];

export type GroupVerdictFrame =
  | {
      type: 'group_verdict';
      request_id: string;
      result: 'ok';
      group_id: string;
      group: string;
      /** The position of the membership event in the group's timeline (or its last one, when nothing changed). */
      pos: number;
      members: GroupMember[];
    }
  | { type: 'group_verdict'; request_id: string; result: 'rejected'; code: GroupRejectionCode; reason: string; retryable: boolean };

export interface GroupSummary {
  group_id: string;
  group: string;
  /** The group's last timeline position. */
  pos: number;
  role: GroupRole;
  member_count: number;
}

export interface GroupListResultFrame {
  type: 'group_list_result';
  request_id: string;
  groups: GroupSummary[];
}

/** Codes of send verdicts added in v2 (the v1 ones are `REJECTION_CODES`). */
export const GROUP_SEND_REJECTION_CODES = {
  /** The sender is not a member of the group. Not retryable. */
  notMember: 'not_member',
  /** No group of that name. Not retryable. */
  unknownGroup: 'unknown_group',
} as const;

export type GroupEventKind = 'created' | 'added' | 'removed' | 'left' | 'renamed' | 'role';

/**
 * A v2 delivery item:
 * - `message`: a direct or group message; `group_id`/`pos` when it is a group's, and a copy of
 *   the user's own message (from another of its devices) when `message.from` is the user;
 * - `receipt`: `status` delivered or read, by one recipient (`group_id` for a group message);
 *   `by` is the user itself when another of its devices read a message it received;
 * - `expired`: as in v1, per member for a group message, also when a member's quota was full;
 * - `group`: a membership event, in the group's timeline at `pos`, with the members after it.
 */
export type DeliveryItemV2 =
  | { kind: 'message'; server_id: string; message: WireMessageV2; group_id?: string; pos?: number }
  | { kind: 'receipt'; id: string; server_id: string; by: string; at: string; status?: 'delivered' | 'read'; group_id?: string }
  | {
      kind: 'expired';
      id: string;
      server_id: string;
      to: string;
      at: string;
      group_id?: string;
      /**
       * `retention` (absent means it): held for the relay's whole retention and no device of
       * `to` took it. `quota`: a group message not stored for `to` at all, whose undelivered
       * messages at the relay were at their cap, so one member who never reads cannot hold
       * back the whole group.
       */
      reason?: 'retention' | 'quota';
    }
  | {
      kind: 'group';
      server_id: string;
      group_id: string;
      group: string;
      pos: number;
      event: GroupEventKind;
      by: string;
      at: string;
      /** Whom the event is about (added, removed, left, role); empty for created and renamed. */
      users: string[];
      renamed_from?: string;
      role?: GroupRole;
      members: GroupMember[];
    };

export interface DeliverFrameV2 {
  type: 'deliver';
  seq: number;
  item: DeliveryItemV2;
}

export type RelayToCoreFrameV2 = WelcomeFrame | VerdictFrame | DeliverFrameV2 | PingFrame | PongFrame | ErrorFrame | GroupVerdictFrame | GroupListResultFrame;

// ---- protocol v3: files ------------------------------------------------------------------
//
// v3 is v2 plus attachments: blobs uploaded and downloaded over the same link in binary chunk
// frames (protocol/files.ts), and messages that name them. A v1 or v2 device is not sent a
// message with attachments (it could not fetch them); its other devices are (docs/relay.md,
// "Files"). Binary frames are valid only on a v3 connection after welcome.

export const RELAY_PROTOCOL_V3 = 3;

/** One file of a message, as the relay checks and stores it. `name` and `mime` are the sender's: data, never paths or markup. */
export interface WireAttachment {
  /** SHA-256 of the bytes, lowercase hex: the blob's name at the relay. */
  sha256: string;
  size: number;
  name: string;
  mime: string;
}

export interface WireMessageV3 extends WireMessageV2 {
  /** At most MAX_ATTACHMENTS; each blob must be complete at the relay and the sender's to use (uploaded by them, or sent to them). */
  attachments?: WireAttachment[];
  /**
   * Protocol v6, direct messages: the end-to-end encrypted body (a `SealedBody` as JSON text,
   * protocol/e2e.ts), which holds `body`, `reply_to`, `request_id` and `mentions`; those travel
   * empty (`""`, null, absent) beside it. Opaque to the relay: it measures it and stores it.
   */
  sealed?: string;
}

export interface SendFrameV3 {
  type: 'send';
  message: Omit<WireMessageV3, 'from'>;
}

/**
 * Starts (or resumes) an upload: answered with one `blob_status` (how many bytes the relay
 * already holds of it, contiguous from 0) or `blob_refused`. The core then sends `Put` chunks
 * from `have` on, in order, with at most BLOB_WINDOW_BYTES beyond the last acknowledged `have`.
 * A blob already complete at the relay and usable by this user answers `complete` at once.
 */
export interface BlobBeginFrame {
  type: 'blob_begin';
  request_id: string;
  sha256: string;
  size: number;
}

/**
 * Asks for a blob's bytes from `offset` on: the relay sends `Data` chunks up to its end, then
 * `blob_status` (state complete, have = size) with the same request_id; or `blob_refused`
 * (not_found, forbidden: this user is neither a recipient nor the sender of a message naming it).
 */
export interface BlobGetFrame {
  type: 'blob_get';
  request_id: string;
  sha256: string;
  offset: number;
}

/** This device has the blob, verified: the relay may drop it once every recipient device has it. */
export interface BlobDoneFrame {
  type: 'blob_done';
  sha256: string;
}

/** Stops sending `Data` chunks for this request (the core gave up on it). */
export interface BlobCancelFrame {
  type: 'blob_cancel';
  request_id: string;
}

export type CoreToRelayFrameV3 = HelloFrame | SendFrameV3 | AckFrame | PingFrame | ReadFrame | GroupFrame | GroupListFrame | BlobBeginFrame | BlobGetFrame | BlobDoneFrame | BlobCancelFrame;

/**
 * An upload's standing: the answer to `blob_begin`, an acknowledgement while `Put` chunks
 * arrive (at least once per BLOB_WINDOW_BYTES / 2), and `complete` once the relay verified the
 * whole blob against its hash and made it durable. Also ends a download (`blob_get`).
 */
export interface BlobStatusFrame {
  type: 'blob_status';
  request_id: string;
  sha256: string;
  size: number;
  /** Bytes the relay holds, contiguous from 0. */
  have: number;
  state: 'partial' | 'complete';
}

export const BLOB_REJECTION_CODES = {
  /** Over the relay's `max_file_bytes`. Not retryable. */
  tooLarge: 'too_large',
  /** The recipient's (or, for an upload, the uploader's pending) bytes at the relay are at its cap. Retryable. */
  quota: 'quota',
  /** The relay could not store it (disk full, I/O). Retryable. */
  storage: 'storage',
  /** The uploaded bytes do not hash to the name: the partial is discarded; upload again from 0. */
  hashMismatch: 'hash_mismatch',
  /** A chunk not at the offset the relay expected, or for no upload in progress: begin again. */
  badOffset: 'bad_offset',
  /** No such blob (never complete, or dropped after every recipient took it or retention). Not retryable. */
  notFound: 'not_found',
  /** This user may not read it. Not retryable. */
  forbidden: 'forbidden',
  /** Too many uploads or downloads in progress for this user. Retryable. */
  busy: 'busy',
} as const;
export type BlobRejectionCode = (typeof BLOB_REJECTION_CODES)[keyof typeof BLOB_REJECTION_CODES];

export interface BlobRefusedFrame {
  type: 'blob_refused';
  /** The request it answers; absent when a chunk (which names no request) is refused. */
  request_id?: string;
  sha256: string;
  code: BlobRejectionCode;
  reason: string;
  retryable: boolean;
}

/** Codes of send verdicts added in v3. */
export const FILE_SEND_REJECTION_CODES = {
  /** An attachment's blob is not complete at the relay, or not this sender's to use. Retryable after uploading it. */
  blobMissing: 'blob_missing',
  /** An attachment over max_file_bytes, too many attachments, or a bad name or MIME type. Not retryable. */
  badAttachment: 'bad_attachment',
} as const;

export interface WelcomeFrameV3 extends WelcomeFrame {
  /** v3: the largest file this relay accepts. */
  max_file_bytes?: number;
}

/** A v3 message delivery carries the attachments (the other items are as in v2). */
export type DeliveryItemV3 =
  | { kind: 'message'; server_id: string; message: WireMessageV3; group_id?: string; pos?: number }
  | Exclude<DeliveryItemV2, { kind: 'message' }>;

export interface DeliverFrameV3 {
  type: 'deliver';
  seq: number;
  item: DeliveryItemV3;
}

export type RelayToCoreFrameV3 =
  | WelcomeFrameV3
  | VerdictFrame
  | DeliverFrameV3
  | PingFrame
  | PongFrame
  | ErrorFrame
  | GroupVerdictFrame
  | GroupListResultFrame
  | BlobStatusFrame
  | BlobRefusedFrame;

// ---- protocol v4: agent identities ---------------------------------------------------------
//
// v4 is v3 plus agent identities a person owns (docs/relay.md, "Agents"): an account named
// `<owner>.<suffix>` that the owner creates, lists and revokes over their own authenticated
// session, without relay-admin access. The relay says who owns each agent: a delivery of a
// message from an agent carries `from_owner`, a group member that is an agent carries `owner`.
// Those fields are additions an older core ignores (its schemas drop unknown keys), so they are
// sent on every version; only the agent_* frames need v4.

export const RELAY_PROTOCOL_V4 = 4;

/** Agents one owner may hold at once (active, not revoked) unless the relay says otherwise (`--max-agents-per-owner`). */
export const DEFAULT_MAX_AGENTS_PER_OWNER = 16;

/** Each agent request gets exactly one `agent_result` with the same `request_id`. */
export interface AgentCreateFrame {
  type: 'agent_create';
  request_id: string;
  /** The agent's full name, `<owner>.<suffix>`: the part before the first "." must be the session's user. */
  name: string;
}
export interface AgentListFrame {
  type: 'agent_list';
  request_id: string;
}
export interface AgentRevokeFrame {
  type: 'agent_revoke';
  request_id: string;
  name: string;
}
export type AgentFrame = AgentCreateFrame | AgentListFrame | AgentRevokeFrame;

export type CoreToRelayFrameV4 = CoreToRelayFrameV3 | AgentFrame;

/** An agent as its owner sees it. */
export interface AgentInfo {
  name: string;
  owner: string;
  created_at: string;
  revoked: boolean;
  revoked_at: string | null;
  /** Messages the agent sent that the relay accepted, and when the last one was. */
  sent: number;
  last_sent_at: string | null;
}

export const AGENT_REJECTION_CODES = {
  /** Not `<owner>.<suffix>` under the user-name rule. Not retryable. */
  badName: 'bad_name',
  /** The part before the first "." is not the requesting user. Not retryable. */
  notOwner: 'not_owner',
  /** The requester is itself an agent: agents cannot create or manage agents. Not retryable. */
  forbidden: 'forbidden',
  /** An active account of that name exists. Not retryable. */
  exists: 'agent_exists',
  /** No active agent of that name owned by the requester (revoke). Not retryable. */
  unknownAgent: 'unknown_agent',
  /** The owner holds the relay's most agents already. Retryable after revoking one. */
  limit: 'limit',
  /** The user's rate (shared with sends) is spent. Retryable. */
  rateLimit: 'rate_limit',
  /** The relay could not store it. Retryable. */
  storage: 'storage',
} as const;
export type AgentRejectionCode = (typeof AGENT_REJECTION_CODES)[keyof typeof AGENT_REJECTION_CODES];

export type AgentResultFrame =
  | {
      type: 'agent_result';
      request_id: string;
      result: 'ok';
      /** create, revoke: the one agent; list: every agent of the owner, revoked ones too, by name. */
      agents: AgentInfo[];
      /** create only: the agent's token, the one time it exists in clear (stored hashed). */
      token?: string;
    }
  | { type: 'agent_result'; request_id: string; result: 'rejected'; code: AgentRejectionCode; reason: string; retryable: boolean };

/** v4 deliveries: a message from an agent names the agent's owner (the other items are as in v3). */
export type DeliveryItemV4 =
  | { kind: 'message'; server_id: string; message: WireMessageV3; group_id?: string; pos?: number; from_owner?: string }
  | Exclude<DeliveryItemV2, { kind: 'message' }>;

export interface DeliverFrameV4 {
  type: 'deliver';
  seq: number;
  item: DeliveryItemV4;
}

export type RelayToCoreFrameV4 = Exclude<RelayToCoreFrameV3, { type: 'deliver' }> | DeliverFrameV4 | AgentResultFrame;

// ---- protocol v5: the key directory ----------------------------------------------------------
//
// v5 is v4 plus a directory of device keys for end-to-end encryption (docs/security.md): each
// device publishes its signed public keys (DeviceKeyRecord, protocol/e2e.ts) and fetches a
// user's. The relay checks that a record is the session's own device and self-signed, and keeps
// at most MAX_DEVICES_PER_USER per user; it is a directory, not a trust anchor: the core
// verifies every record and pins the keys it first saw (trust on first use).

export const RELAY_PROTOCOL_V5 = 5;

/** Publish (or replace) this session's device record. Answered by one `keys_result`. */
export interface KeysPublishFrame {
  type: 'keys_publish';
  request_id: string;
  record: DeviceKeyRecord;
}

/** The records of every device of `user` (the session's own user included). Answered by one `keys_result`. */
export interface KeysGetFrame {
  type: 'keys_get';
  request_id: string;
  user: string;
}

export type KeysFrame = KeysPublishFrame | KeysGetFrame;

export type CoreToRelayFrameV5 = CoreToRelayFrameV4 | KeysFrame;

export const KEYS_REJECTION_CODES = {
  /** The record is not the session's own user and device, or its self-signature does not verify. Not retryable. */
  badRecord: 'bad_record',
  /** The user has MAX_DEVICES_PER_USER device records already. Not retryable. */
  limit: 'limit',
  /** The user's rate (shared with sends) is spent. Retryable. */
  rateLimit: 'rate_limit',
  /** The relay could not store it. Retryable. */
  storage: 'storage',
} as const;
export type KeysRejectionCode = (typeof KEYS_REJECTION_CODES)[keyof typeof KEYS_REJECTION_CODES];

export type KeysResultFrame =
  | {
      type: 'keys_result';
      request_id: string;
      result: 'ok';
      user: string;
      /** Every device record of `user` the relay holds, by device id (publish: the user's, with the new one). */
      records: DeviceKeyRecord[];
    }
  | { type: 'keys_result'; request_id: string; result: 'rejected'; code: KeysRejectionCode; reason: string; retryable: boolean };

export type RelayToCoreFrameV5 = RelayToCoreFrameV4 | KeysResultFrame;

// ---- protocol v6: end-to-end encrypted direct messages ---------------------------------------
//
// v6 is v5 plus `sealed` in a direct message's send and deliver frames (WireMessageV3.sealed;
// docs/security.md "Direct messages"). A v6 core sends every direct message sealed, and only on
// a v6 link; the relay takes `sealed` only from a v6 connection and delivers a sealed message
// only to v6 devices (an older core could not open it). Group messages are as in v5.

export const RELAY_PROTOCOL_V6 = 6;

/** Codes of send verdicts added in v6. */
export const E2E_SEND_REJECTION_CODES = {
  /** No device of the recipient speaks v6 (all last connected with an older core): none could open it. Not retryable. */
  recipientOutdated: 'recipient_outdated',
} as const;
