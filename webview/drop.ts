/** What a drop onto the conversation view names: pure, so it is unit-tested without a DOM. */

/** The data types VS Code and browsers put the dropped resources' URIs under, best first. */
export const URI_LIST_TYPES = ['application/vnd.code.uri-list', 'text/uri-list'] as const;

/**
 * The URIs of a drop (RFC 2483 uri-list: one per line, `#` lines are comments), deduplicated;
 * [] when the drop carries none. The host decides which are files it accepts.
 */
export function droppedUris(getData: (type: string) => string): string[] {
  for (const t of URI_LIST_TYPES) {
    let raw = '';
    try {
      raw = getData(t) ?? '';
    } catch {
      continue;
    }
    const uris = [
      ...new Set(
        raw
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#')),
      ),
    ];
    if (uris.length) return uris;
  }
  return [];
}
