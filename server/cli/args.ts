/** Flags several verbs declare alike, so their help, limits and refusals read the same everywhere. */
import type { BooleanFlag, NumberFlag, StringFlag } from '../../lib/node/cli/command';

export const JSON_FLAG = { type: 'boolean', description: 'print one JSON object (its fields: docs/protocol.md, "CLI `--json` output")' } as const satisfies BooleanFlag;

/** Same default and ceiling as the core's `limit` (protocol/rpc-schemas.ts). */
export const LIMIT_FLAG = { type: 'number', value: 'N', default: 50, min: 1, max: 1000, integer: true, description: 'at most N messages' } as const satisfies NumberFlag;

/** Default time a send waits for the relay's verdict when online. */
export const DEFAULT_WAIT_SECONDS = 10;

export const WAIT_FLAG = {
  type: 'number',
  value: 'seconds',
  default: DEFAULT_WAIT_SECONDS,
  min: 0,
  max: 600,
  unit: 'seconds',
  description: "how long to wait for the relay's verdict before answering queued",
} as const satisfies NumberFlag;

/** The global option every `switchboard` verb takes (main.ts reads it before the verb parses). */
export const HOME_FLAG = { type: 'string', value: 'dir', description: 'the store to use (default $SWITCHBOARD_HOME, else ~/.switchboard)' } as const satisfies StringFlag;
