/** Flag parsing for one verb with node's own parser; its errors become usage errors (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usage } from './errors';

export function parseVerbArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, verb: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(`${verb}: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
}
