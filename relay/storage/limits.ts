/** The storage limits a relay has when no flag changes them (docs/operations.md, Limits). */
import { DEFAULT_MAX_AGENTS_PER_OWNER } from '../../protocol/relay';
import { DEFAULT_MAX_FILE_BYTES } from '../../protocol/files';
import { MAX_BODY_BYTES } from '../../protocol/limits';
import { DEFAULT_GROUP_LIMITS } from '../groups';
import { DEFAULT_LEDGER_LIMITS } from '../ledger';
import type { RelayStorageLimits } from './types';

export const DEFAULT_STORAGE_LIMITS: RelayStorageLimits = {
  maxBodyBytes: MAX_BODY_BYTES,
  ...DEFAULT_LEDGER_LIMITS,
  ...DEFAULT_GROUP_LIMITS,
  maxFileBytes: DEFAULT_MAX_FILE_BYTES,
  maxAgentsPerOwner: DEFAULT_MAX_AGENTS_PER_OWNER,
};
