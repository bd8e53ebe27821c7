/**
 * Feeds a progress bar from the core's `transfer/progress` notifications for one message,
 * delegated or direct alike (both deliver notifications to a session that subscribed). A send
 * learns its message's id only from the answer, which comes after the upload: until then the
 * message is known by the client id this command chose, matched against `outbox/changed`.
 */
import type { TransferProgress } from '../../protocol/rpc';
import type { ProgressBar } from './progress';
import type { CoreClient } from './transport';

export interface WatchOptions {
  direction: TransferProgress['direction'];
  /** The message, when known (download). */
  id?: string;
  /** Else the client id of the message being sent. */
  clientMessageId?: string;
  /** The files' names by index, as their sender gave them; read when drawn, so they may be filled in later. */
  names: readonly string[];
}

/** Subscribes `core` to events and draws what moves; a core that cannot subscribe just shows no bar. */
export async function watchTransfers(core: CoreClient, bar: ProgressBar, options: WatchOptions): Promise<void> {
  let id = options.id;
  // Progress that came before the id was known, by message id (the last of each: a bar shows the newest).
  const early = new Map<string, TransferProgress>();
  const show = (p: TransferProgress) =>
    bar.update({ index: p.index, count: options.names.length, name: options.names[p.index] ?? `file ${p.index + 1}`, transferred: p.transferred, size: p.size });
  core.onNotification((name, params) => {
    if (name === 'transfer/progress') {
      if (params.direction !== options.direction) return;
      if (id === undefined) early.set(params.id, params);
      else if (params.id === id) show(params);
      return;
    }
    if (id !== undefined || options.clientMessageId === undefined) return;
    const item = name === 'outbox/changed' ? params.item : name === 'message/updated' ? params.message : undefined;
    if (item?.client_message_id !== options.clientMessageId) return;
    id = item.id;
    const last = early.get(id);
    early.clear();
    if (last) show(last);
  });
  await core.call('events/subscribe', {}).catch(() => undefined);
}
