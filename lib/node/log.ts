/**
 * The core's log: one line per event, to stderr (the daemon points stderr at `<home>/core.log`).
 * Messages quote relay reasons and errors, so each goes through the text-safety policy: a line
 * break or a control character shows as `<U+XXXX>` and can never forge or hide a record.
 */
import { safeLogText } from '../text-safety';

export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Logging never throws. On a full disk the log file cannot grow: the line is dropped, and
 * the next line is written once there is space again. Without this, a crash handler that
 * logs would raise a new error for every line it tries to write.
 */
export function createLogger(write: (line: string) => void = writeStderr): Logger {
  const at = (level: LogLevel) => (message: string) => {
    try {
      write(`${new Date().toISOString()} ${level} ${safeLogText(message)}\n`);
    } catch {
      // Dropped: see above.
    }
  };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

let stderrGuarded = false;

/** stderr (a file, for a daemon) reports a failed write as an 'error' event: without a listener, an uncaught exception. */
export function writeStderr(line: string): void {
  if (!stderrGuarded) {
    stderrGuarded = true;
    process.stderr.on('error', () => {});
  }
  process.stderr.write(line);
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
