/**
 * The work of verbs a delegated `send` never needs lives in bundles of its own beside
 * dist/cli.js (scripts/build.mjs), each named after its entry module and required only when
 * its verb runs, so none of it is read, compiled or run on any other verb's start. The verbs'
 * declarations (flags, help, usage errors) stay in dist/cli.js with every other verb's, so
 * `--help` and a bad flag are answered without loading anything.
 *
 * Under tsx (tests, scripts) the same name resolves to the entry module's source beside this
 * one, so a handler runs the same code either way.
 */
import { join } from 'node:path';
import { fromOtherBundle } from '../../lib/node/cli/errors';

/** Entry modules of server/cli/ that are bundles of their own. */
export type BundleName = 'core-service' | 'daemon-control' | 'doctor-checks' | 'file-transfer' | 'mcp-install';

/** The bundle `name`.js beside this one; `T` is its entry module's type (`typeof import(…)`). */
export function bundle<T>(name: BundleName): T {
  return require(join(__dirname, `${name}.js`)) as T;
}

/**
 * Runs a verb's work from another bundle. That bundle has its own copy of CliError, so an error
 * it throws is made this bundle's again (fromOtherBundle): same line, exit code, code and hint.
 */
export async function inBundle(work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    throw fromOtherBundle(error);
  }
}
