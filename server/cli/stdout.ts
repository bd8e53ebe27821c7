/**
 * stdout for the CLI. A reader that goes away (`switchboard inbox | head -1`) is normal in a
 * pipeline: output stops, the verb finishes quietly (no EPIPE stack trace) and streaming
 * verbs stop, as other Unix tools do.
 */
import { writeStderr } from '../../lib/node/log';

export interface Stdout {
  /** Writes one line (or block) and a newline; a no-op once the reader has gone. */
  out(text: string): void;
  /** Settles when stdout is closed by its reader. */
  readonly closed: Promise<void>;
  /** A write failed for a reason other than a closed pipe (a full disk behind `> file`). */
  readonly failed: boolean;
}

export function openStdout(stream: NodeJS.WriteStream = process.stdout): Stdout {
  let gone = false;
  let failed = false;
  let settle: () => void = () => {};
  const closed = new Promise<void>((resolve) => (settle = resolve));
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (gone) return;
    gone = true;
    if (error.code !== 'EPIPE') {
      failed = true;
      writeStderr(`switchboard: cannot write to stdout: ${error.message}\n`);
    }
    settle();
  });
  return {
    out(text) {
      if (!gone) stream.write(`${text}\n`);
    },
    closed,
    get failed() {
      return failed;
    },
  };
}
