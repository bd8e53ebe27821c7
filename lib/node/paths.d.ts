/** Longest socket path we create: Linux allows 107 bytes, macOS 103; stay under both. */
export declare const MAX_SOCKET_PATH_BYTES = 100;
export interface HomePaths {
    home: string;
    store: string;
    lock: string;
    /** Who holds the lock: informational only, never used to decide whether the lock is held. */
    holder: string;
    config: string;
    token: string;
    log: string;
    socket: string;
}
export declare function resolveHome(explicit?: string, env?: NodeJS.ProcessEnv): string;
export declare function homePaths(home: string, env?: NodeJS.ProcessEnv): HomePaths;
/**
 * The socket sits in the home (0700) when the path fits in `sun_path`. Otherwise it goes to a
 * short directory of the user's own, named by a hash of the home so distinct homes never
 * collide: `$XDG_RUNTIME_DIR/switchboard` (per user, 0700, made by the login manager), else
 * `~/.switchboard/run` (the OS home is short on every usual system), and only when neither
 * fits the shared temp directory. Every client checks whichever it is (socket-trust.ts), so a
 * directory another user pre-created there is refused, never connected to.
 */
export declare function socketPath(home: string, env?: NodeJS.ProcessEnv, platform?: NodeJS.Platform): string;
/** Where a socket may go when `<home>/core.sock` is too long, best first; the core creates the one used 0700. */
export declare function socketDirCandidates(env?: NodeJS.ProcessEnv): string[];
