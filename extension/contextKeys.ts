/**
 * Every context key the extension sets (GitLens's constants.context.ts style), with the type of
 * its value. No `vscode` import: the status model derives these values, and
 * test/unit/extension-ids.test.ts holds package.json's `when` clauses to this map.
 */
import type { SyncState } from '../protocol/rpc';

export const ContextKeys = {
  /** Where this window's link to the core stands; the welcome views switch on it. */
  connection: 'switchboard.connection',
  /** The core has a relay configured (its sync state is not `disabled`). */
  configured: 'switchboard.configured',
  /** Shorthand for `switchboard.connection == connected`, for users' own `when` clauses. */
  connected: 'switchboard.connected',
  /** The core's relay link state, for users' own `when` clauses. */
  syncState: 'switchboard.syncState',
} as const;
export type ContextKey = (typeof ContextKeys)[keyof typeof ContextKeys];

/** The `switchboard.connection` values package.json's welcome views name. */
export type ConnectionContext = 'connecting' | 'connected' | 'unreachable' | 'noRuntime' | 'incompatible';

/** The value each key holds. `undefined`: not known yet (VS Code treats it as unset). */
export interface ContextValues {
  [ContextKeys.connection]: ConnectionContext;
  [ContextKeys.configured]: boolean;
  [ContextKeys.connected]: boolean;
  [ContextKeys.syncState]: SyncState | undefined;
}

/** Keys set for users' own `when` clauses and docs/extension.md, not named by package.json itself. */
export const USER_CONTEXT_KEYS: readonly ContextKey[] = [ContextKeys.connected, ContextKeys.syncState];

// The compiler keeps ContextValues and ContextKeys to the same keys.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const valuesNameEveryKey: Same<keyof ContextValues, ContextKey> = true;
void valuesNameEveryKey;
