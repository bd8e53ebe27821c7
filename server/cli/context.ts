/** What every verb of `switchboard` is handed: the home it works on and where its output goes. */
import type { HomePaths } from '../../lib/node/paths';

export interface VerbContext {
  paths: HomePaths;
  /** One line (or block) of output on stdout; dropped once stdout is closed (`| head`). */
  out: (text: string) => void;
  /** Settles when stdout is closed by the reader: a verb that streams stops then. */
  stdoutClosed: Promise<void>;
}
