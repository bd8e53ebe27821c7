/** Watches the relay link of cores running in the test's own process. */
import type { TestContext } from 'node:test';
import { RelayLink } from '../../server/sync/relay-link';

/** Records the cursor of every hello the cores in this process send, until the test ends. */
export function helloCursors(t: TestContext): number[] {
  const cursors: number[] = [];
  const original = RelayLink.prototype.connect;
  t.mock.method(RelayLink.prototype, 'connect', function (this: RelayLink, options: Parameters<RelayLink['connect']>[0]) {
    cursors.push(options.cursor);
    return original.call(this, options);
  });
  return cursors;
}
