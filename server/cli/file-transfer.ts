/**
 * The file verbs' work: `send --attach` (each file checked and hashed before delegation, the
 * upload drawn on a terminal) and `download` (fetch, verify, write out). A bundle of its own
 * (bundles.ts): their declarations stay in dist/cli.js (verbs.ts, download.ts), and hashing,
 * progress and file writing (node:crypto, node:fs/promises) weigh on no other verb's start.
 */
import { randomUUID } from 'node:crypto';
import type { Attachment, SendParams } from '../../protocol/rpc';
import { CliError, ExitCode } from '../../lib/node/cli/errors';
import type { VerbContext } from './context';
import { formatBytes } from './bytes';
import { inert, inertJson } from './format';
import { measureAttachments } from './attachments';
import { ProgressBar } from './progress';
import { watchTransfers } from './transfer-watch';
import { deliver, withCore } from './session';
import { checkOutDirectory, outDirectory, plan, writeFiles, type WrittenFile } from './write-files';

/**
 * `send --attach`: the files are measured first (a bad path is said before anything is sent),
 * then sent with `params` (whose body is the caption).
 */
export async function sendWithFiles(context: VerbContext, params: SendParams, paths: readonly string[], json: boolean): Promise<number> {
  const files = await measureAttachments(paths);
  // A person at a terminal sees the upload move; the client id ties the progress to this message.
  const bar = ProgressBar.open(process.stderr, 'sending', { json });
  const sent: SendParams = { ...params, ...(bar ? { client_message_id: params.client_message_id ?? randomUUID() } : {}), attachments: files.inputs };
  const names = files.summary.map((f) => f.name);
  return deliver(context, sent, json, {
    summary: files.summary,
    watch: bar && ((core) => watchTransfers(core, bar, { direction: 'up', clientMessageId: sent.client_message_id, names })),
    done: bar && (() => bar.done()),
  });
}

/**
 * How long one `attachment/download` waits for the files. The verb asks again while bytes keep
 * arriving, so a large file is not cut off; a wait in which nothing moved ends it.
 */
export const DOWNLOAD_STEP_MS = 30_000;

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

/** `download`'s work, once its flags are parsed (download.ts declares them). */
export async function runDownload(context: VerbContext, id: string, values: { out: string; force?: boolean; json?: boolean }): Promise<number> {
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
}
