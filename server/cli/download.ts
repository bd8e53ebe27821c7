/**
 * `switchboard download <message-id> [--out <dir>] [--force] [--json]`: has the core fetch
 * and verify the message's files (`attachment/download`), then writes them out
 * (write-files.ts). Nothing is written unless every file is ready, so a run either gives the
 * whole message or says what is missing; running it again resumes the download.
 */
import type { Attachment } from '../../protocol/rpc';
import { CliError, ExitCode } from '../../lib/node/cli/errors';
import { command, spec } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import type { VerbContext } from './context';
import { formatBytes } from './bytes';
import { inert, inertJson } from './format';
import { ProgressBar } from './progress';
import { watchTransfers } from './transfer-watch';
import { withCore } from './verbs';
import { checkOutDirectory, outDirectory, plan, writeFiles, type WrittenFile } from './write-files';

/**
 * How long one `attachment/download` waits for the files. The verb asks again while bytes keep
 * arriving, so a large file is not cut off; a wait in which nothing moved ends it.
 */
export const DOWNLOAD_STEP_MS = 30_000;

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

const pending = (a: Attachment) => a.state === 'remote' || a.state === 'downloading';
const moved = (list: readonly Attachment[]) => list.reduce((sum, a) => sum + a.transferred, 0);

/** Asks the core for the files until each is ready or failed, or until a wait passes with no byte moved. */
async function fetchAll(context: VerbContext, id: string, bar: ProgressBar | undefined): Promise<Attachment[]> {
  return withCore(
    context.paths,
    async (core) => {
      let { attachments } = await core.call('attachment/download', { id, wait_ms: 0 });
      if (attachments.length === 0 || !attachments.some(pending)) return attachments;
      if (bar) await watchTransfers(core, bar, { direction: 'down', id, names: attachments.map((a) => a.name) });
      for (let before = -1; attachments.some(pending) && moved(attachments) !== before; ) {
        before = moved(attachments);
        ({ attachments } = await core.call('attachment/download', { id, wait_ms: DOWNLOAD_STEP_MS }));
      }
      return attachments;
    },
    // Without a core this command brings the relay link up for the download itself.
    { sync: true },
  ).finally(() => bar?.done());
}

/** Why the files cannot be written yet, one clause per file that is not ready. */
export function notReady(id: string, attachments: readonly Attachment[]): CliError | undefined {
  const problems = attachments
    .filter((a) => a.state !== 'ready' || a.path === null)
    .map((a) => {
      const name = inert(a.name);
      if (a.state === 'failed') return `${name} failed: ${inert(a.error ?? 'unknown reason')}`;
      if (pending(a)) return `${name} is still downloading (${formatBytes(a.transferred)} of ${formatBytes(a.size)}; nothing arrived for ${DOWNLOAD_STEP_MS / 1000} s)`;
      return `${name} is not in the store`;
    });
  if (problems.length === 0) return undefined;
  return new CliError(`message ${inert(id)}: ${problems.join('; ')}; nothing was written`, ExitCode.Failed, {
    code: 'not_downloaded',
    hint: 'run `switchboard download` again to retry (a partial download resumes); `switchboard status` shows the relay link',
  });
}

export const download = command(downloadSpec, async ({ values, positionals }, context: VerbContext) => {
  const id = positionals[0]!;
  const json = values.json ?? false;
  // A --out that is a file is said before anything is fetched; a missing one is created only to write into.
  checkOutDirectory(values.out);
  const attachments = await fetchAll(context, id, ProgressBar.open(process.stderr, 'downloading', { json }));
  if (attachments.length === 0) throw new CliError(`message ${inert(id)} has no files`, ExitCode.Failed, { code: 'not_found' });
  const problem = notReady(id, attachments);
  if (problem) throw problem;
  const dir = outDirectory(values.out);
  const planned = plan(dir, attachments as (Attachment & { path: string })[], values.force ?? false);
  const files: WrittenFile[] = await writeFiles(planned, values.force ?? false, (file) => {
    if (!json) context.out(inert(file.path));
  });
  if (json) context.out(inertJson({ id, files }));
  return ExitCode.Ok;
});
