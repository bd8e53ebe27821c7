/**
 * One verb's conversation with the core: `withCore` (connect or open directly, run, close) and
 * `deliver` (one send and its verdict, printed the same way on both paths). Shared by the verbs
 * in dist/cli.js and by the bundles that send or fetch files (file-transfer.ts).
 */
import type { SendParams, SendResult } from '../../protocol/rpc';
import type { HomePaths } from '../../lib/node/paths';
import { ExitCode } from '../../lib/node/cli/errors';
import { inertJson, sendVerdict } from './format';
import type { VerbContext } from './context';
import type { AttachmentSummary } from './attachments';
import { openCore, type CoreClient, type OpenOptions } from './transport';

/** Runs `body` against the core and always closes the connection (or the store) afterwards. */
export async function withCore<T>(paths: HomePaths, body: (core: CoreClient) => Promise<T>, options: { sync?: boolean; pull?: OpenOptions['pull'] } = {}): Promise<T> {
  const core = await openCore(paths, { sync: options.sync ?? false, pull: options.pull });
  try {
    return await body(core);
  } finally {
    await core.close();
  }
}

const SEND_EXIT: Record<SendResult['status'], number> = { sent: ExitCode.Ok, duplicate: ExitCode.Ok, queued: ExitCode.Queued, failed: ExitCode.Failed };

/** What a send with files adds (file-transfer.ts): their summary for the output and, at a terminal, a progress bar fed while they upload. */
export interface FileSend {
  summary: AttachmentSummary[];
  /** Called on the open connection before the send, so no progress is missed. */
  watch?: (core: CoreClient) => Promise<void>;
  done?: () => void;
}

export async function deliver(context: VerbContext, params: SendParams, json: boolean, files?: FileSend): Promise<number> {
  // Direct sends bring the relay link up for this one message; a core already has it.
  const result = await withCore(
    context.paths,
    async (core) => {
      if (files?.watch) await files.watch(core);
      const r = await core.call('message/send', params);
      return { ...r, delegated: core.delegated };
    },
    { sync: true },
  ).finally(() => files?.done?.());
  if (json) context.out(inertJson(files ? { ...result, attachments: files.summary } : result));
  else context.out(sendVerdict(result, files?.summary));
  return SEND_EXIT[result.status];
}
