/**
 * One connection from a core to its relay, typed end to end. It performs the handshake,
 * validates every inbound frame, keeps the link alive with pings and declares it dead after
 * three silent heartbeats. It never reconnects: the sync engine owns backoff (see backoff.ts)
 * and calls `connect` again.
 */
import { EventEmitter } from 'node:events';
import { type DeliverFrame, type ErrorFrame, type PongFrame, type SendFrame, type VerdictFrame, type WelcomeFrame } from '../../protocol/relay';
export interface RelayLinkConnectOptions {
    /** ws:// or wss:// */
    url: string;
    user: string;
    token: string;
    device: string;
    /** Highest delivery seq this device has committed (0 for none). */
    cursor: number;
    /** Extra trusted CA certificate(s) in PEM, for a relay with a private certificate. */
    ca?: string | Buffer;
    /** How long to wait for the upgrade and the welcome together. Default 10 s. */
    handshakeTimeoutMs?: number;
}
export interface RelayLinkClose {
    code: number;
    reason: string;
    /** The relay refused the credentials: do not reconnect until the user reconfigures. */
    unauthorized: boolean;
    /**
     * Set when the attempt never reached the relay's welcome for a reason other than the token,
     * so a person can be told what to fix (see `connectFailure`); absent on a link that was open.
     */
    failure?: RelayLinkFailure;
}
/**
 * Why a connection attempt failed before the welcome: `unreachable` (nothing answered at the
 * host and port), `timeout` (no answer or no welcome in time), `tls` (the TLS handshake failed),
 * `not_relay` (something answered, but not a Switchboard relay), `refused` (a relay refused the
 * connection at the upgrade, e.g. too many connections), `url` (the URL cannot be dialled).
 */
export type RelayLinkFailure = 'unreachable' | 'timeout' | 'tls' | 'not_relay' | 'refused' | 'url';
export type RelayLinkConnectResult = {
    ok: true;
    welcome: WelcomeFrame;
} | {
    ok: false;
    close: RelayLinkClose;
};
export type RelayLinkState = 'idle' | 'connecting' | 'open' | 'closed';
export interface RelayLinkEvents {
    welcome: [frame: WelcomeFrame];
    verdict: [frame: VerdictFrame];
    deliver: [frame: DeliverFrame];
    pong: [frame: PongFrame];
    /** Exactly once per `connect`, however the link ended (including a failed handshake). */
    close: [info: RelayLinkClose];
    /** Error frames from the relay and transport errors; informational, `close` follows. */
    error: [error: RelayLinkError];
}
export declare class RelayLinkError extends Error {
    /** The relay's error code when the relay sent an error frame. */
    readonly relayCode?: ErrorFrame["code"] | undefined;
    constructor(message: string, 
    /** The relay's error code when the relay sent an error frame. */
    relayCode?: ErrorFrame["code"] | undefined);
}
export declare class RelayLink extends EventEmitter<RelayLinkEvents> {
    private socket;
    private currentState;
    private heartbeatMs;
    private lastFrameAt;
    private deadline;
    private timers;
    /** Set when this side decides why the link ends; reported instead of the echo from ws. */
    private localClose;
    private sawUnauthorized;
    private settleConnect;
    /** The URL of the current attempt, for messages. */
    private url;
    /** The current attempt got past the HTTP upgrade: a WebSocket server answered. */
    private upgraded;
    /** Called before each write: frames written in one turn leave together (see turn-writes.ts). */
    private holdWrites;
    get state(): RelayLinkState;
    /** The relay's welcome, or how the attempt ended. Never rejects. */
    connect(options: RelayLinkConnectOptions): Promise<RelayLinkConnectResult>;
    /** Queues a send on the open link; false when the link is not open (the caller keeps it queued). */
    send(message: SendFrame['message']): boolean;
    /** Cumulative: every delivery with seq <= `seq` is committed by this core. */
    ack(seq: number): boolean;
    close(code?: number, reason?: string): void;
    private write;
    private onMessage;
    private onWelcome;
    /** Declares the link dead when nothing has arrived within the deadline. */
    private startWatchdog;
    /** This side refuses the relay's frames: close with a protocol code and say why. */
    private abort;
    private onClose;
    private report;
    private stopTimers;
}
/** A transport error before the welcome, said so a person knows what to check. */
export declare function connectFailure(url: string, err: Error & {
    code?: string;
}): RelayLinkClose;
