/** Injected by the build (see scripts/build.mjs); the fallback covers runs from source in tests. */
declare const SWITCHBOARD_VERSION: string | undefined;
export const VERSION: string = typeof SWITCHBOARD_VERSION === 'string' ? SWITCHBOARD_VERSION : '0.0.0-dev';
