/**
 * The core's log: one line per event, to stderr (the daemon points stderr at `<home>/core.log`).
 * Messages quote relay reasons and errors, so each goes through the text-safety policy: a line
 * break or a control character shows as `<U+XXXX>` and can never forge or hide a record.
 */
import { safeLogText } from '../lib/text-safety';

export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const at = (level: LogLevel) => (message: string) => write(`${new Date().toISOString()} ${level} ${safeLogText(message)}\n`);
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
