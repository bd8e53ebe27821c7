/**
 * Frames between a core and the relay: JSON text frames over one WebSocket.
 * Types only; runtime validators are in `relay-schemas.ts`.
 *
 * Flow: the core sends `hello` first; the relay answers `welcome` (or `error` + close).
 * The relay then redelivers every delivery past the device's acked cursor, in sequence
 * order, followed by live ones. The core commits each delivery before acking it; acks are
 * cumulative. Every `send` gets exactly one `verdict`.
 */

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
