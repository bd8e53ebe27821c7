/**
 * Processes a test file starts die with it. node's runner stops a file that runs past
 * --test-timeout with a signal; without this, cores and relays it had spawned would live on
 * (holding ports and temp dirs) after their test's `finally` never ran.
 */
import type { ChildProcess } from 'node:child_process';

const spawned = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const child of spawned) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  spawned.clear();
}

/** Tracks `child` (by PID) until it exits; kills it if this process exits or is signalled first. */
export function reapWithThisProcess<T extends ChildProcess>(child: T): T {
  if (!installed) {
    installed = true;
    process.once('exit', killAll);
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
      process.once(signal, () => {
        killAll();
        process.exit(code);
      });
    }
  }
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}
