/**
 * Who holds a store's lock, as the holder describes itself in `core.json`. For messages only:
 * never used to decide whether the lock is held. No SQLite here, so the CLI's lean bundle can
 * name a holder without loading the store engine.
 */
import { readFileSync } from 'node:fs';
import type { HomePaths } from '../lib/node/paths';

export interface HolderInfo {
  pid: number;
  /** The socket a core serves on; null when the holder is a CLI running a verb directly. */
  socket: string | null;
  since: string;
  kind: 'core' | 'cli';
}

export function describeHolder(h: HolderInfo): string {
  const what = h.kind === 'core' ? `a core (pid ${h.pid}${h.socket ? `, socket ${h.socket}` : ''})` : `a switchboard command (pid ${h.pid})`;
  return `${what} since ${h.since}`;
}

export function readHolder(paths: HomePaths): HolderInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(paths.holder, 'utf8')) as Partial<HolderInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.since !== 'string') return undefined;
    return { pid: parsed.pid, socket: typeof parsed.socket === 'string' ? parsed.socket : null, since: parsed.since, kind: parsed.kind === 'cli' ? 'cli' : 'core' };
  } catch {
    return undefined;
  }
}
