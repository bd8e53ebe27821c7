/** The core's log: one line per event, to stderr (the daemon points stderr at `<home>/core.log`). */
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const at = (level: LogLevel) => (message: string) => write(`${new Date().toISOString()} ${level} ${message}\n`);
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
