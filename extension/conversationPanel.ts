/**
 * The conversation webview host: one panel per peer, restored after a reload through a
 * WebviewPanelSerializer, updated live from the core's events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { groupAddress, groupNameOf, isGroupAddress } from '../protocol/names';
import type { Group, Message, TransferProgress } from '../protocol/rpc';
import { CONVERSATION_VIEW_TYPE, WEBVIEW_PROTOCOL_VERSION, type HostToWebview, type ThreadGroup, type ThreadMessage, type WebviewToHost } from '../protocol/webview';
import { parseViewState, parseWebviewToHost } from '../protocol/webview-schemas';
import type { CoreConnection } from './connection';
import { errorText, verdictText } from './format';
import { oneLine } from '../lib/display';
import type { InboxModel } from './inboxModel';
import { Disposable } from './lifecycle';
import { connectionMessage, type StatusModel } from './statusModel';
import { conversationHtml, makeNonce } from './webviewHtml';
import { filesDir, previewable, toThreadAttachment, type PickedFile } from './files';
import { copyText, openLink, openRef, resolvePaths } from './codeLinks';
import { Commands, draftKey } from './ids';
import { reportSendRefusal } from './trustCommands';
import { threadTrust } from './trustText';
import { downloadAttachment, filesFromUris, openAttachment, pickFiles, reportFileAction, saveAttachment, sendWithFiles } from './fileActions';

/** Makes the webview URI of a verified store file (asWebviewUri), or null for a file not to preview. */
export type PreviewOf = (a: Message['attachments'][number]) => string | null;

/** A message for the webview; `preview` says which ready images it may show (the host checked their bytes). */
export function toThreadMessage(m: Message, preview: PreviewOf = () => null): ThreadMessage {
  return {
    id: m.id,
    direction: m.direction,
    from: m.from,
    to: m.to,
    body: m.body,
    created_at: m.created_at,
    state: m.state,
    read: m.read,
    reply_to: m.reply_to,
    group: m.group,
    mentions: m.mentions,
    mentions_me: m.mentions_me,
    receipts: m.receipts,
    attachments: m.attachments.map((a) => toThreadAttachment(a, preview(a))),
  };
}

export function toThreadGroup(g: Group): ThreadGroup {
  return { name: g.name, role: g.role, members: g.members.map((m) => ({ user: m.user, role: m.role })) };
}

/** Whose receipts are worth asking for: this user's own group messages someone has. */
export function wantsReceipts(m: Pick<Message, 'direction' | 'group' | 'receipts'>): boolean {
  return m.direction === 'out' && m.group !== null && !!m.receipts && m.receipts.total > 0;
}

const PAGE = 50;

export class ConversationPanel extends Disposable {
  private ready = false;
  private readonly queue: HostToWebview[] = [];
  /** The receipt counts last fetched per message: fetch again only when they changed. */
  private readonly receiptsAt = new Map<string, string>();
  /** Files picked for the composer, by the token the webview knows them by (it never sees a path). */
  private readonly picked = new Map<string, PickedFile>();
  /** Ids of this panel's messages with files: progress goes only to the panel showing them. */
  private readonly withFiles = new Set<string>();
  /** Store files already checked to be previewable images, by sha256. */
  private readonly previews = new Map<string, boolean>();
  /** Upserts are converted (their previews checked) in order: a later state never loses to an earlier one. */
  private chain: Promise<void> = Promise.resolve();
  /** Messages with files this panel sent that are still uploading → the composer request that sent them (its verdict follows). */
  private readonly uploading = new Map<string, string>();

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly peer: string,
    private readonly owner: ConversationPanels,
  ) {
    super();
    panel.title = oneLine(peer, 64);
    // the home's verified files are the only other thing the webview may load (image previews)
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [owner.distUri, owner.mediaUri, vscode.Uri.file(filesDir(owner.connection.home()))] };
    panel.webview.html = this.html();
    this._register(panel.webview.onDidReceiveMessage((raw) => void this.onMessage(raw)));
    this._register(panel.onDidChangeViewState(() => panel.active && this.markRead()));
    this._register(panel.onDidDispose(() => this.dispose()));
  }

  private html(): string {
    const w = this.panel.webview;
    return conversationHtml({
      cspSource: w.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.owner.distUri, 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.owner.mediaUri, 'webview.css')).toString(),
      codiconUri: w.asWebviewUri(vscode.Uri.joinPath(this.owner.distUri, 'codicons', 'codicon.css')).toString(),
    });
  }

  /** A message for this webview, with previews of its ready images once their bytes checked out. */
  private async thread(m: Message): Promise<ThreadMessage> {
    if (m.attachments.length) this.withFiles.add(m.id);
    const dir = filesDir(this.owner.connection.home());
    for (const a of m.attachments) {
      if (a.state !== 'ready' || this.previews.has(a.sha256)) continue;
      this.previews.set(a.sha256, await previewable(a, dir));
    }
    return toThreadMessage(m, (a) => (a.state === 'ready' && a.path && this.previews.get(a.sha256) ? this.panel.webview.asWebviewUri(vscode.Uri.file(a.path)).toString() : null));
  }

  private threads(ms: Message[]): Promise<ThreadMessage[]> {
    return Promise.all(ms.map((m) => this.thread(m)));
  }

  /** The message Find in Messages picked, sent once the thread is loaded (after init). */
  private pendingReveal: string | null = null;

  reveal(id: string, live: boolean): void {
    this.pendingReveal = id;
    if (live && this.ready) this.flushReveal();
  }

  private flushReveal(): void {
    if (!this.pendingReveal) return;
    void this.panel.webview.postMessage({ type: 'reveal', id: this.pendingReveal } satisfies HostToWebview);
    this.pendingReveal = null;
  }

  /** A transfer/progress for one of this panel's messages. */
  progress(p: TransferProgress): void {
    if (this.withFiles.has(p.id)) this.post({ type: 'progress', id: p.id, index: p.index, direction: p.direction, transferred: p.transferred, size: p.size });
  }

  private offer(files: PickedFile[]): void {
    if (!files.length) return;
    const out = files.map((f) => {
      const token = randomUUID();
      this.picked.set(token, f);
      return { token, name: f.name, size: f.size, mime: f.mime };
    });
    this.post({ type: 'attached', files: out });
  }

  post(m: HostToWebview): void {
    if (!this.ready) {
      if (m.type !== 'init') this.queue.push(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const msg = parseWebviewToHost(raw);
    if (!msg) {
      this.owner.log.warn(`conversation ${this.peer}: dropped a malformed message from the webview`);
      return;
    }
    try {
      await this.handle(msg);
    } catch (err) {
      this.post({ type: 'error', text: errorText(err) });
    }
  }

  private async handle(msg: WebviewToHost): Promise<void> {
    const conn = this.owner.connection;
    switch (msg.type) {
      case 'ready':
        await this.load();
        return;
      case 'send': {
        const files = msg.attachments.map((t) => this.picked.get(t));
        if (files.some((f) => !f)) {
          this.post({ type: 'sendResult', requestId: msg.requestId, status: 'failed', text: 'Failed: a file is no longer attached; attach it again' });
          return;
        }
        let res;
        try {
          res = files.length
            ? await sendWithFiles(conn, { to: this.peer, body: msg.body, ...(msg.replyTo ? { reply_to: msg.replyTo } : {}) }, files as PickedFile[])
            : await conn.request('message/send', {
                to: this.peer,
                body: msg.body,
                client_message_id: randomUUID(),
                wait_ms: 5000,
                ...(msg.replyTo ? { reply_to: msg.replyTo } : {}),
              });
        } catch (err) {
          // a changed key or no keys: the notification (with Verify) and the composer say why; the text stays
          const refused = reportSendRefusal({ inbox: this.owner.inbox, panels: this.owner }, this.peer, err);
          // FileRefused (missing, a folder, too large, changed while sent) names the file
          this.post({ type: 'sendResult', requestId: msg.requestId, status: 'failed', text: refused ?? `Failed: ${errorText(err)}` });
          return;
        }
        for (const t of msg.attachments) this.picked.delete(t);
        // sent (or queued): the composer is empty again, and so is the kept draft
        if (res.status !== 'failed') await this.owner.saveDraft(this.peer, '');
        if (files.length && res.status === 'queued') this.uploading.set(res.id, msg.requestId);
        const uploading = files.length > 0 && res.status === 'queued' && (res.reason_code === 'uploading' || res.reason_code === 'not_waited');
        const v = verdictText({ status: res.status, reason: res.reason });
        this.post({ type: 'sendResult', requestId: msg.requestId, status: res.status, text: uploading ? `Sending ${files.length === 1 ? 'the file' : `${files.length} files`}…` : v.text });
        if (res.status !== 'failed' || res.id) {
          try {
            const m = await conn.request('message/get', { id: res.id });
            this.upsert(m);
          } catch {
            // the event stream will bring it
          }
        }
        return;
      }
      case 'loadOlder': {
        const res = await conn.request('conversation/messages', { peer: this.peer, limit: PAGE, before: msg.before });
        this.post({ type: 'messages', mode: 'older', messages: await this.threads(res.messages), hasMore: res.has_more });
        void this.fetchReceipts(res.messages);
        return;
      }
      case 'markRead':
        if (this.panel.active) await this.owner.markRead(msg.ids);
        return;
      case 'draft':
        await this.owner.saveDraft(this.peer, msg.draft);
        return;
      case 'openLink':
        await openLink(msg.url);
        return;
      case 'copy':
        await copyText(msg.text);
        return;
      case 'resolveRefs':
        this.post({ type: 'refs', refs: await resolvePaths(msg.paths) });
        return;
      case 'openRef':
        await openRef({ path: msg.path, line: msg.line, col: msg.col, endLine: msg.endLine, commit: msg.commit });
        return;
      case 'verify':
        await vscode.commands.executeCommand(Commands.verifySafetyNumber, this.peer);
        return;
      case 'attach':
        this.offer(await pickFiles(`Attach files for ${oneLine(this.peer, 64)}`));
        return;
      case 'drop': {
        const uris: vscode.Uri[] = [];
        for (const u of msg.uris) {
          try {
            uris.push(vscode.Uri.parse(u, true));
          } catch {
            // not a URI: filesFromUris would refuse it anyway
          }
        }
        this.offer(await filesFromUris(uris));
        return;
      }
      case 'file': {
        const what = msg.action === 'save' ? 'Save As' : msg.action === 'open' ? 'Open' : 'Download';
        const p = msg.action === 'save' ? saveAttachment(conn, msg.id, msg.index) : msg.action === 'open' ? openAttachment(conn, msg.id, msg.index) : downloadAttachment(conn, msg.id, msg.index);
        await reportFileAction(what, p);
        return;
      }
    }
  }

  /** (Re)send the first page: on ready and after a reconnection. */
  async load(): Promise<void> {
    const conn = this.owner.connection;
    if (!conn.connected) {
      this.ready = true;
      void this.panel.webview.postMessage({ type: 'init', v: WEBVIEW_PROTOCOL_VERSION, peer: this.peer, self: null, messages: [], hasMore: false, draft: this.owner.draft(this.peer) } satisfies HostToWebview);
      this.post(this.owner.connectionMessage());
      return;
    }
    const res = await conn.request('conversation/messages', { peer: this.peer, limit: PAGE });
    const init: HostToWebview = { type: 'init', v: WEBVIEW_PROTOCOL_VERSION, peer: this.peer, self: this.owner.self(), messages: await this.threads(res.messages), hasMore: res.has_more, draft: this.owner.draft(this.peer) };
    this.ready = true;
    this.receiptsAt.clear();
    void this.panel.webview.postMessage(init);
    for (const m of this.queue.splice(0)) void this.panel.webview.postMessage(m);
    this.post(this.owner.connectionMessage());
    this.lastTrust = '';
    this.showTrust();
    this.flushReveal();
    this.markRead();
    if (!isGroupAddress(this.peer)) void this.lookUpKeys();
    if (isGroupAddress(this.peer)) {
      try {
        this.showGroup(await conn.request('group/show', { name: groupNameOf(this.peer) }));
      } catch (err) {
        this.owner.log.warn(`conversation ${this.peer}: group/show failed: ${errorText(err)}`);
      }
    }
    await this.fetchReceipts(res.messages);
  }

  /** A new or changed message of this conversation; its receipts again when their counts moved. */
  upsert(m: Message): void {
    const requestId = this.uploading.get(m.id);
    if (requestId && m.state !== 'queued') {
      // the composer said "Sending the files…": now say how it ended
      this.uploading.delete(m.id);
      const failed = m.state === 'failed' || m.state === 'aborted';
      this.post({ type: 'sendResult', requestId, status: failed ? 'failed' : 'sent', text: failed ? `Failed: the files were not sent (${m.state}); see the Outbox` : 'Sent' });
    }
    this.chain = this.chain.then(async () => this.post({ type: 'messages', mode: 'upsert', messages: [await this.thread(m)] })).catch(() => undefined);
    void this.fetchReceipts([m]);
  }

  private lastTrust = '';

  /** The header's trust state, as the Inbox model knows it; posted only when it changed. */
  showTrust(): void {
    const m: HostToWebview = { type: 'trust', trust: threadTrust(isGroupAddress(this.peer), this.owner.inbox.trustOf(this.peer)) };
    const key = JSON.stringify(m);
    if (key === this.lastTrust) return;
    this.lastTrust = key;
    this.post(m);
  }

  /**
   * Opening a conversation looks the peer's keys up in the relay's directory (`trust/show`), so
   * a change shows in the header and the Inbox before anything is typed; the answer reaches
   * both through the model (and the core's trust/changed).
   */
  private async lookUpKeys(): Promise<void> {
    try {
      const info = await this.owner.connection.request('trust/show', { user: this.peer });
      this.owner.inbox.applyTrust(info.user, info.trust);
    } catch (err) {
      // no keys yet (an older peer) or the core is older: the header stays as it was
      this.owner.log.info(`conversation ${this.peer}: trust/show: ${errorText(err)}`);
    }
  }

  showGroup(g: Group): void {
    this.post({ type: 'group', group: toThreadGroup(g) });
  }

  /** Who has and who read each of these messages that is this user's own in a group (the hover of "read by"). */
  private async fetchReceipts(messages: Message[]): Promise<void> {
    for (const m of messages) {
      if (!wantsReceipts(m) || !m.receipts) continue;
      const key = `${m.receipts.delivered}/${m.receipts.read}/${m.receipts.total}`;
      if (this.receiptsAt.get(m.id) === key) continue;
      this.receiptsAt.set(m.id, key);
      try {
        const r = await this.owner.connection.request('message/receipts', { id: m.id });
        this.post({ type: 'receipts', id: m.id, receipts: r.receipts });
      } catch (err) {
        this.receiptsAt.delete(m.id);
        this.owner.log.warn(`conversation ${this.peer}: message/receipts failed: ${errorText(err)}`);
        return;
      }
    }
  }

  markRead(): void {
    if (!this.panel.active || !this.owner.connection.connected) return;
    const unread = this.owner.inbox.conversation(this.peer)?.unread ?? 0;
    if (unread > 0) void this.owner.markConversationRead(this.peer);
  }

  override dispose(): void {
    this.owner.forget(this);
    super.dispose();
  }
}

export class ConversationPanels extends Disposable implements vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, ConversationPanel>();
  readonly distUri: vscode.Uri;
  readonly mediaUri: vscode.Uri;
  private readonly workspaceState: vscode.Memento;

  constructor(
    context: vscode.ExtensionContext,
    readonly connection: CoreConnection,
    readonly inbox: InboxModel,
    readonly log: vscode.LogOutputChannel,
    private readonly status: Pick<StatusModel, 'current' | 'onDidChange'>,
  ) {
    super();
    this.distUri = vscode.Uri.joinPath(context.extensionUri, 'dist');
    this.mediaUri = vscode.Uri.joinPath(context.extensionUri, 'media');
    this.workspaceState = context.workspaceState;
    this._register(vscode.window.registerWebviewPanelSerializer(CONVERSATION_VIEW_TYPE, this));
    this._register(connection.onMessageReceived((e) => this.route(e.message)));
    this._register(connection.onMessageUpdated((e) => this.route(e.message)));
    this._register(connection.onTransferProgress((p) => this.panels.forEach((panel) => panel.progress(p))));
    this._register(connection.onGroupChanged((e) => this.panels.get(groupAddress(e.group.name))?.showGroup(e.group)));
    // a peer's trust moved in the model (trust/changed, a refused send, a trust/* answer): its header follows
    this._register(inbox.onDidChange((node) => (node ? this.panels.get(node.peer)?.showTrust() : this.panels.forEach((p) => p.showTrust()))));
    this._register(connection.onDidConnect(() => this.panels.forEach((p) => void p.load().catch(() => undefined))));
    this._register(status.onDidChange(() => this.broadcastConnection()));
    this._register({ dispose: () => [...this.panels.values()].forEach((p) => p.panel.dispose()) });
  }

  /** Open (or reveal) the conversation with a peer; `messageId`: scrolled to that message (Find in Messages). */
  show(peer: string, messageId?: string): ConversationPanel {
    const existing = this.panels.get(peer);
    const p = existing ?? this.adopt(vscode.window.createWebviewPanel(CONVERSATION_VIEW_TYPE, peer, vscode.ViewColumn.Active, { enableScripts: true, retainContextWhenHidden: false }), peer);
    // a hidden panel's webview was discarded: it loads again on reveal and asks for init first
    const live = !!existing && existing.panel.visible;
    if (existing) existing.panel.reveal();
    if (messageId) p.reveal(messageId, live);
    return p;
  }

  /** The composer text kept for a conversation (survives closing the view and reloading the window). */
  draft(peer: string): string {
    const v = this.workspaceState.get<unknown>(draftKey(peer));
    return typeof v === 'string' ? v : '';
  }

  async saveDraft(peer: string, draft: string): Promise<void> {
    await this.workspaceState.update(draftKey(peer), draft ? draft : undefined);
  }

  isActive(peer: string): boolean {
    const p = this.panels.get(peer);
    return !!p && p.panel.active && p.panel.visible && vscode.window.state.focused;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const s = parseViewState(state);
    if (!s) {
      panel.dispose();
      return;
    }
    const existing = this.panels.get(s.peer);
    if (existing) {
      panel.dispose();
      existing.panel.reveal();
      return;
    }
    this.adopt(panel, s.peer);
  }

  private adopt(panel: vscode.WebviewPanel, peer: string): ConversationPanel {
    const p = new ConversationPanel(panel, peer, this);
    this.panels.set(peer, p);
    return p;
  }

  forget(p: ConversationPanel): void {
    if (this.panels.get(p.peer) === p) this.panels.delete(p.peer);
  }

  private route(m: Message): void {
    const p = this.panels.get(m.conversation);
    if (!p) return;
    p.upsert(m);
    if (m.direction === 'in' && !m.read && this.isActive(m.conversation)) void this.markRead([m.id]);
  }

  /** This user's name on the relay, as the core last said. */
  self(): string | null {
    return this.status.current.sync?.user ?? null;
  }

  /** The banner's message for the current status. */
  connectionMessage(): HostToWebview {
    return connectionMessage(this.status.current);
  }

  private lastBroadcast = '';

  /** Tells every open conversation the status, when what the banner would say changed. */
  private broadcastConnection(): void {
    const m = this.connectionMessage();
    const key = JSON.stringify(m);
    if (key === this.lastBroadcast) return;
    this.lastBroadcast = key;
    for (const p of this.panels.values()) p.post(m);
  }

  async markRead(ids: string[]): Promise<void> {
    if (!ids.length || !this.connection.connected) return;
    this.inbox.markReadLocally({ ids });
    await this.connection.request('message/markRead', { ids });
  }

  async markConversationRead(peer: string): Promise<void> {
    this.inbox.markReadLocally({ peer });
    await this.connection.request('message/markRead', { conversation: peer });
  }
}
