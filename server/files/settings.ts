/** The file settings kept in the store's sync_state, read by the service and the sync engine alike. */
import { DEFAULT_AUTO_DOWNLOAD_BYTES } from '../../protocol/files';
import type { Repository } from '../store/repository';

/** sync_state key of the `auto_download_bytes` setting (decimal bytes); absent: the default. */
export const AUTO_DOWNLOAD_KEY = 'settings.auto_download_bytes';

/** Received files totalling at most this many bytes per message are downloaded at once. */
export function autoDownloadBytes(repo: Repository): number {
  const value = Number(repo.getState(AUTO_DOWNLOAD_KEY) ?? DEFAULT_AUTO_DOWNLOAD_BYTES);
  return Number.isSafeInteger(value) && value >= 0 ? value : DEFAULT_AUTO_DOWNLOAD_BYTES;
}
