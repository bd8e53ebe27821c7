/**
 * One core's connection: its handshake state, its liveness, the order of its verdicts, and
 * the pump that streams its deliveries in sequence order with bounded buffering.
 */
import type WebSocket from 'ws';
import { type RelayToCoreFrame, type SendFrame, type VerdictFrame } from '../protocol/relay';
import type { RelayStore } from './store';
export type SessionState = 'awaiting-hello' | 'authenticating' | 'ready' | 'closed';
export interface SessionOptions {
    /** The connection's TCP (or TLS) socket under ws. */
    transport: {
        readonly remoteAddress?: string;
        readonly remotePort?: number;
        pause(): void;
    };
    /** Called before each write: frames written in one turn leave together (see turn-writes.ts). */
    holdWrites?: () => void;
    /** Unflushed outgoing bytes beyond which the connection is dropped as a slow consumer. */
    maxPendingBytes?: number;
}
export interface SessionIdentity {
    user: string;
    device: string;
    credentialId: number;
}
export declare class RelaySession {
    readonly socket: WebSocket;
    private readonly store;
    state: SessionState;
    identity: SessionIdentity | undefined;
    /**
     * Set when a send was refused for rate: later sends on this connection are refused too
     * until that one comes back, so a refusal can never let a later message overtake it.
     */
    refusedForRate: {
        clientMessageId: string;
        until: number;
    } | undefined;
    lastFrameAt: number;
    /** Frames that arrived while the token was being checked; handled right after welcome. */
    readonly heldFrames: string[];
    /** Bytes received before welcome (the upgrade's leftovers, hello and anything pipelined). */
    preloginBytes: number;
    /** Set at accept: closes the connection if no hello arrives in time. */
    helloTimer: NodeJS.Timeout | undefined;
    /** Called once when this session is dropped for not reading what it is sent. */
    onSlowConsumer: (unflushedBytes: number) => void;
    /** Sends that passed the rate checks this turn, stored together by the server. */
    readonly sendsToStore: {
        message: SendFrame['message'];
        answer: (verdict: VerdictFrame) => void;
    }[];
    /** The next delivery seq this connection has not yet been sent. */
    private nextSeq;
    private inFlight;
    /** Bytes handed to ws and not yet flushed to the kernel: what a reader that stopped reading costs us. */
    private unflushedBytes;
    private pumpScheduled;
    private readonly verdictSlots;
    /** `address:port`, for logs. */
    readonly remote: string;
    /** The address the connection comes from, without the port: what per-address limits count. */
    readonly address: string;
    private readonly transport;
    private readonly holdWrites;
    private readonly maxPendingBytes;
    constructor(socket: WebSocket, store: RelayStore, options: SessionOptions);
    get key(): string;
    isOpen(): boolean;
    send(frame: RelayToCoreFrame): void;
    /** Sends an error frame (if one is given) and closes with `code`; later frames are ignored. */
    fail(code: number, reason: string, error?: Extract<RelayToCoreFrame, {
        type: 'error';
    }>): void;
    /**
     * `fail`, then cut the connection if its close does not complete within a short grace: for
     * a peer that may never answer the close (ws would otherwise wait 30 s for it). With
     * `stopReading`, nothing more is read from it meanwhile (it is flooding).
     */
    drop(code: number, reason: string, options?: {
        error?: Extract<RelayToCoreFrame, {
            type: 'error';
        }>;
        stopReading?: boolean;
    }): void;
    /** Starts streaming deliveries after `acked`, the device's committed cursor. */
    startDeliveries(acked: number): void;
    /** A delivery for this user was committed; send it now if it is next in line. */
    notifyDelivery(seq: number, item: string): void;
    /** Keeps verdicts in the order their sends arrived, even when some resolve sooner. */
    reserveVerdict(): (verdict: VerdictFrame) => void;
    private sendText;
    /**
     * Whether the pump may send more: deliveries wait in the store, not in memory, so the pump
     * keeps well under the slow-consumer cap and only frames the peer asked for (verdicts,
     * pongs) can push a connection that stopped reading over it.
     */
    private hasRoom;
    private sendDelivery;
    private schedulePump;
    /** Reads deliveries from the store in pages while the socket keeps up. */
    private pump;
}
export declare function sessionKey(user: string, device: string): string;
/** The peer's address without the port; IPv4 peers of a dual-stack socket count as IPv4. */
export declare function normalizeAddress(address: string | undefined): string;
