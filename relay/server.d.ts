import { RelayStore } from './store';
export interface RelayServerOptions {
    dataDir: string;
    /** Loopback unless told otherwise: exposing a relay is a deliberate act. */
    host?: string;
    /** 0 picks a free port; read it back from `port`. */
    port?: number;
    tls?: {
        certFile: string;
        keyFile: string;
    };
    heartbeatMs?: number;
    /** Sends per second per user; 0 disables the limit. */
    ratePerSecond?: number;
    maxBodyBytes?: number;
    groupCommit?: boolean;
    /** How often to look for revocations made by other processes (`relay revoke`). */
    revocationPollMs?: number;
    /** Undelivered messages / bytes held per recipient (`--quota-messages`, `--quota-bytes`). */
    quotaMessages?: number;
    quotaBytes?: number;
    /** Age after which undelivered items expire (`--retention`). */
    retentionMs?: number;
    /** How long sends are remembered for dedupe and id ownership (`--dedupe-window`); at least `retentionMs`. */
    dedupeWindowMs?: number;
    /** Open WebSocket connections in total, logged in or not. */
    maxConnections?: number;
    /** Open WebSocket connections from one address. */
    maxConnectionsPerAddress?: number;
    /** Hellos being checked at once (between hello and welcome). */
    maxLogins?: number;
    /** A connection that has not sent hello this long after its upgrade is closed. */
    helloTimeoutMs?: number;
    /** Bytes a connection may send before its welcome: its hello and anything pipelined behind it. */
    maxPreloginBytes?: number;
    /** The TLS handshake and the upgrade request's headers must arrive within this. */
    upgradeTimeoutMs?: number;
    /** Unflushed outgoing bytes of one connection beyond which it is dropped as a slow consumer. */
    maxPendingBytes?: number;
    log?: (line: string) => void;
}
/** What a stranger may hold before logging in, and what a peer that stops reading may cost. */
export declare const RELAY_LIMIT_DEFAULTS: {
    readonly maxConnections: 4096;
    readonly maxConnectionsPerAddress: 64;
    readonly maxLogins: 256;
    readonly helloTimeoutMs: 5000;
    readonly maxPreloginBytes: number;
    readonly upgradeTimeoutMs: 10000;
    readonly maxPendingBytes: number;
};
/** Counters of what the limits refused, for logs and tests. */
export interface RelayLimitStats {
    refusedTotal: number;
    refusedPerAddress: number;
    refusedLogins: number;
    helloTimeouts: number;
    preloginOverflows: number;
    slowConsumers: number;
    /** scrypt derivations run for rows written by older relays. */
    scryptChecks: number;
    /** Such rows rewritten as SHA-256 after a good login. */
    tokensUpgraded: number;
    /** Hellos received and not yet answered with welcome or a refusal. */
    loginsInProgress: number;
}
export declare const DEFAULT_HEARTBEAT_MS = 15000;
export declare const DEFAULT_MAX_BODY_BYTES: number;
export declare const DEFAULT_RATE_PER_SECOND = 1000;
export declare class RelayServer {
    /** Public for tools and tests running the relay in-process (e.g. to cap its store's size). */
    readonly store: RelayStore;
    private readonly ledger;
    private readonly writes;
    private readonly limiter;
    private readonly http;
    private readonly wss;
    private readonly settings;
    private readonly sessions;
    private readonly byDevice;
    private readonly byUser;
    private readonly timers;
    private readonly perAddress;
    private readonly legacyChecks;
    private loginsInProgress;
    private readonly counters;
    private lastDataVersion;
    private pruning;
    private closing;
    private constructor();
    static start(options: RelayServerOptions): Promise<RelayServer>;
    get port(): number;
    get url(): string;
    get connectionCount(): number;
    stats(): RelayLimitStats;
    /**
     * Stops accepting, lets committed-but-unanswered writes answer, closes every socket with
     * 1001 and closes the database. Nothing is lost: every verdict follows its commit.
     */
    close(): Promise<void>;
    /** Closes the live connections of a user whose credential was revoked in this process. */
    disconnectRevoked(): void;
    /** Refuses, with an HTTP status and a reason the core shows, or hands the connection to ws. */
    private upgrade;
    private accept;
    private forget;
    private onMessage;
    private handleText;
    private protocolError;
    private authenticate;
    private login;
    private refuseHello;
    private welcome;
    private handleSend;
    private storeSends;
    private handleAck;
    /** Offers committed deliveries to every live device of their users. */
    private push;
    private startTimers;
    /**
     * Expires and prunes in bounded steps (one write each) until nothing is due; the senders of
     * expired messages are told at once when online, else when they next connect.
     */
    private prune;
    /** Pings ready sessions and drops any connection silent for three heartbeats. */
    private heartbeat;
    /** `relay revoke` runs in another process; notice its commit and close affected sessions. */
    private pollRevocations;
    private shutdown;
}
