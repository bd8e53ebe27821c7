/**
 * `switchboard download <message-id> [--out <dir>] [--force] [--json]`: has the core fetch
 * and verify the message's files (`attachment/download`), then writes them out. Nothing is
 * written unless every file is ready, so a run either gives the whole message or says what is
 * missing; running it again resumes the download. The declaration; the work is
 * file-transfer.ts, a bundle of its own (bundles.ts).
 */
import { command, spec } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import type { VerbContext } from './context';
import { bundle, inBundle } from './bundles';
import type * as FileTransfer from './file-transfer';

const downloadSpec = spec({
  name: 'download',
  summary: "write a message's files into a directory, each verified against its SHA-256",
  details: [
    'Fetches what is not here yet (resuming a partial download), verifies each file, then writes every file of the message into --out.',
    'Names are the sender\'s made safe: no directories, no leading dot, no control or invisible characters, at most 255 bytes; two alike become "name (2).ext". Nothing is ever written outside --out.',
    'An existing file is never replaced without --force, and a symbolic link is never written through.',
    'Nothing is written unless every file is downloaded and verified: a failed or stalled download exits 1 (run it again to resume).',
    'Prints each written path, one per line (--json: {"id", "files": [{"index", "name", "path", "size", "sha256", "mime"}]}).',
  ],
  flags: {
    out: { type: 'string', value: 'dir', default: '.', description: 'the directory to write into (created if missing; . is the current one)' },
    force: { type: 'boolean', description: 'replace files of the same name in --out' },
    json: JSON_FLAG,
  },
  positionals: [{ name: 'message-id', description: 'a message with files (one you received or sent)' }],
  examples: ['switchboard download 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10 --out ~/Downloads', 'switchboard download 0193a5c4-7d1e-7c4a-9b61-2f0c3e8d9a10 --json | jq -r ".files[].path"'],
});

export const download = command(downloadSpec, async ({ values, positionals }, context: VerbContext) =>
  inBundle(() => bundle<typeof FileTransfer>('file-transfer').runDownload(context, positionals[0]!, values)),
);
