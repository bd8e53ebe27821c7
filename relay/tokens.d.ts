export type TokenHashKind = 'sha256' | 'scrypt';
export interface StoredToken {
    kind: TokenHashKind;
    hash: Buffer;
    /** Empty for SHA-256 rows: a salt adds nothing to a hash of 256 random bits. */
    salt: Buffer;
}
/** A token a person can paste: prefix says what it is, 32 random bytes make it unguessable. */
export declare function generateToken(): string;
export declare function hashToken(token: string): StoredToken;
/** Compared in constant time; an unknown user is compared against a dummy so it costs the same. */
export declare function checkSha256Token(token: string, stored: Buffer | undefined): boolean;
/** At most this many scrypt checks run at once: the libuv pool has 4 threads by default. */
export declare const LEGACY_CHECKS_AT_ONCE = 2;
/** Further checks wait in line up to this many; beyond, the hello is refused as busy. */
export declare const LEGACY_CHECKS_QUEUED = 32;
/** Checks against scrypt rows written by older relays, a bounded few at a time. */
export declare class LegacyTokenChecks {
    private readonly atOnce;
    private readonly queued;
    /** scrypt derivations started, for operators and tests. */
    started: number;
    private running;
    private readonly waiting;
    constructor(atOnce?: number, queued?: number);
    /** False when the line is full: the caller refuses the hello as busy rather than wait. */
    hasRoom(): boolean;
    check(token: string, stored: StoredToken): Promise<boolean>;
}
/** The scrypt hash an older relay stored for `token`; exported for tests that build such rows. */
export declare function deriveScrypt(token: string, salt: Buffer): Promise<Buffer>;
