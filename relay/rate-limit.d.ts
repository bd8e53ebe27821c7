export declare class RateLimiter {
    private readonly perSecond;
    private readonly now;
    private readonly buckets;
    /** `perSecond` of 0 or less disables limiting. */
    constructor(perSecond: number, now?: () => number);
    /** Takes one token for `key`; false when the bucket is empty. */
    tryTake(key: string): boolean;
    /** Forgets users with full buckets so the map does not grow with every user ever seen. */
    sweep(): void;
}
/** Parses `--rate` values such as `50`, `50/s` or `0` (unlimited). */
export declare function parseRate(text: string): number | undefined;
