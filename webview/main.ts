/**
 * The conversation webview: a thread and a composer. Talks to the host only through the
 * typed, validated protocol in protocol/webview.ts. Peer text is rendered inert (render.ts).
 */
import { parseHostToWebview, parseViewState } from '../protocol/webview-schemas';
import { MAX_COMPOSER_CHARS, MAX_COPY_CHARS, MAX_REFS_PER_REQUEST, VIEW_STATE_VERSION, WEBVIEW_PROTOCOL_VERSION, type ConversationViewState, type HostToWebview, type PendingFile, type ThreadGroup, type ThreadMessage, type WebviewToHost } from '../protocol/webview';
import { MAX_ATTACHMENTS } from '../protocol/files';
import type { Receipt } from '../protocol/rpc';
import { oneLine } from '../lib/display';
import { applyProgress, mergeThread, renderMembers, renderMessage, renderPending, type DocLike } from './render';
import { droppedUris } from './drop';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: ConversationViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const threadEl = $<HTMLElement>('thread');
const olderBtn = $<HTMLButtonElement>('older');
const emptyEl = $<HTMLElement>('empty');
const bannerEl = $<HTMLElement>('banner');
const titleEl = $<HTMLElement>('peer');
const membersEl = $<HTMLElement>('members');
const form = $<HTMLFormElement>('composer');
const input = $<HTMLTextAreaElement>('input');
const sendBtn = $<HTMLButtonElement>('send');
const replyBar = $<HTMLElement>('replying');
const replyText = $<HTMLElement>('replying-text');
const replyCancel = $<HTMLButtonElement>('replying-cancel');
const verdictEl = $<HTMLElement>('verdict');
const attachBtn = $<HTMLButtonElement>('attach');
const pendingEl = $<HTMLElement>('pending');
const dropHint = $<HTMLElement>('drop-hint');
const trustEl = $<HTMLElement>('trust');
const trustIcon = $<HTMLElement>('trust-icon');
const trustText = $<HTMLElement>('trust-text');
const verifyBtn = $<HTMLButtonElement>('verify');

let peer = '';
let thread: ThreadMessage[] = [];
let hasMore = false;
let replyTo: string | null = null;
let pending: { requestId: string; body: string } | null = null;
/** Files picked for the next message (the host holds their paths). */
let files: PendingFile[] = [];
let loadingOlder = false;
let self: string | null = null;
let group: ThreadGroup | null = null;
/** Per-member receipts of this user's group messages, as the host last sent them. */
const receipts = new Map<string, Receipt[]>();
/** File references seen in bodies: true/false once the host said whether each is a file in the workspace; null while asked. */
const refs = new Map<string, boolean | null>();
/** Paths a render met that were never asked about (sent after the render). */
const toAsk = new Set<string>();
/** A message Find in Messages wants shown, until it is loaded (older pages are fetched for it, a few at most). */
let revealId: string | null = null;
let revealPages = 0;
/** The message Find in Messages showed: outlined (across re-renders) until the user clicks in the thread. */
let revealedId: string | null = null;
const MAX_REVEAL_PAGES = 20;

function fileRef(path: string): boolean {
  const known = refs.get(path);
  if (known === undefined) toAsk.add(path);
  return known === true;
}

function askRefs(): void {
  if (!toAsk.size) return;
  const paths = [...toAsk];
  toAsk.clear();
  for (const p of paths) refs.set(p, null);
  for (let i = 0; i < paths.length; i += MAX_REFS_PER_REQUEST) post({ type: 'resolveRefs', paths: paths.slice(i, i + MAX_REFS_PER_REQUEST) });
}

const saved = parseViewState(vscode.getState());
if (saved) {
  peer = saved.peer;
  input.value = saved.draft;
  titleEl.textContent = oneLine(peer, 64);
}

function save(): void {
  if (peer) vscode.setState({ v: VIEW_STATE_VERSION, peer, draft: input.value });
}

function post(m: WebviewToHost): void {
  vscode.postMessage(m);
}

const doc = document as unknown as DocLike;

function render(keepScroll: 'bottom' | 'anchor'): void {
  const atBottom = threadEl.scrollHeight - threadEl.scrollTop - threadEl.clientHeight < 40;
  const prevHeight = threadEl.scrollHeight;
  const prevTop = threadEl.scrollTop;
  const byId = new Map(thread.map((m) => [m.id, m] as const));
  const frag = document.createDocumentFragment();
  const now = Date.now();
  for (const m of thread) frag.appendChild(renderMessage(doc, m, { now, lookup: (id) => byId.get(id), self, receipts: (id) => receipts.get(id), fileRef }) as unknown as Node);
  threadEl.replaceChildren(frag);
  askRefs();
  if (revealedId) Array.from(threadEl.querySelectorAll<HTMLElement>('article.msg')).find((a) => a.getAttribute('data-id') === revealedId)?.classList.add('revealed');
  olderBtn.hidden = !hasMore;
  olderBtn.disabled = loadingOlder;
  olderBtn.textContent = loadingOlder ? 'Loading…' : 'Load older messages';
  emptyEl.hidden = thread.length > 0;
  if (keepScroll === 'anchor') threadEl.scrollTop = prevTop + (threadEl.scrollHeight - prevHeight);
  else if (atBottom || keepScroll === 'bottom') threadEl.scrollTop = threadEl.scrollHeight;
  if (revealId) tryReveal();
}

/** Scrolls to the message Find in Messages picked, loading older pages until it is there. */
function tryReveal(): void {
  const id = revealId;
  if (!id) return;
  const node = Array.from(threadEl.querySelectorAll<HTMLElement>('article.msg')).find((a) => a.getAttribute('data-id') === id);
  if (node) {
    revealId = null;
    revealedId = id;
    node.classList.add('revealed');
    node.scrollIntoView({ block: 'center' });
    return;
  }
  if (hasMore && !loadingOlder && thread[0] && revealPages < MAX_REVEAL_PAGES) {
    revealPages++;
    loadingOlder = true;
    post({ type: 'loadOlder', before: thread[0].id });
  } else if (!hasMore || revealPages >= MAX_REVEAL_PAGES) {
    revealId = null;
    say('That message is not in this conversation any more.', 'queued');
  }
}

function renderFiles(): void {
  pendingEl.hidden = files.length === 0;
  pendingEl.replaceChildren(...(files.length ? [renderPending(doc, files) as unknown as Node] : []));
}

function say(text: string, status: 'failed' | 'pending' | 'queued' = 'failed'): void {
  verdictEl.textContent = text;
  verdictEl.className = `verdict verdict-${status}`;
  verdictEl.hidden = false;
}

function renderGroup(): void {
  membersEl.hidden = group === null;
  membersEl.replaceChildren(...(group ? [renderMembers(doc, group, self) as unknown as Node] : []));
}

function markVisibleRead(): void {
  if (!document.hasFocus()) return;
  const ids = thread.filter((m) => m.direction === 'in' && !m.read).map((m) => m.id);
  if (ids.length) post({ type: 'markRead', ids });
}

function setReplyTo(id: string | null): void {
  replyTo = id;
  const m = id ? thread.find((x) => x.id === id) : undefined;
  replyBar.hidden = !m;
  replyText.textContent = m ? `Replying to ${oneLine(m.from, 40)}: ${oneLine(m.body, 80)}` : '';
  if (m) input.focus();
}

function handle(msg: HostToWebview): void {
  switch (msg.type) {
    case 'init':
      peer = msg.peer;
      self = msg.self;
      receipts.clear();
      titleEl.textContent = oneLine(peer, 64);
      thread = mergeThread([], msg.messages);
      hasMore = msg.hasMore;
      // the webview's own state is the fresher (it is saved on every keystroke); the host's
      // copy is what is left after the view was closed
      if (!input.value && msg.draft) input.value = msg.draft;
      save();
      render('bottom');
      markVisibleRead();
      break;
    case 'messages':
      thread = mergeThread(thread, msg.messages);
      if (msg.mode === 'older') {
        loadingOlder = false;
        if (msg.hasMore !== undefined) hasMore = msg.hasMore;
        render('anchor');
      } else {
        render('bottom');
        markVisibleRead();
      }
      break;
    case 'sendResult':
      if (pending?.requestId === msg.requestId) {
        const failed = msg.status === 'failed';
        if (!failed) {
          if (draftTimer) clearTimeout(draftTimer);
          input.value = '';
          files = [];
          renderFiles();
          setReplyTo(null);
          save();
        }
        pending = null;
        sendBtn.disabled = false;
        input.disabled = false;
        input.focus();
      }
      verdictEl.textContent = msg.text;
      verdictEl.className = `verdict verdict-${msg.status}`;
      verdictEl.hidden = false;
      break;
    case 'connection':
      // the host says when something is wrong (core, relay, a full disk); '' when nothing is
      bannerEl.hidden = msg.detail === '';
      bannerEl.textContent = msg.detail;
      bannerEl.className = `banner ${msg.connected ? 'banner-warn' : 'banner-error'}`;
      break;
    case 'group':
      group = msg.group;
      renderGroup();
      break;
    case 'receipts':
      receipts.set(msg.id, msg.receipts);
      render('anchor');
      break;
    case 'attached': {
      const known = new Set(files.map((f) => f.token));
      files = [...files, ...msg.files.filter((f) => !known.has(f.token))].slice(0, MAX_ATTACHMENTS);
      renderFiles();
      break;
    }
    case 'progress': {
      const next = applyProgress(thread, msg);
      if (next !== thread) {
        thread = next;
        render('anchor');
      }
      break;
    }
    case 'refs':
      for (const r of msg.refs) refs.set(r.path, r.exists);
      if (msg.refs.some((r) => r.exists)) render('anchor');
      break;
    case 'trust':
      // the host's words for the peer's trust, as text only; hidden for a group
      trustEl.hidden = msg.trust === null;
      if (msg.trust) {
        trustEl.className = `trust trust-${msg.trust.state}`;
        trustIcon.className = `codicon codicon-${msg.trust.state === 'changed' ? 'warning' : msg.trust.state === 'verified' ? 'verified' : 'unverified'}`;
        trustText.textContent = msg.trust.text;
      }
      break;
    case 'reveal':
      revealId = msg.id;
      revealPages = 0;
      if (thread.length || !hasMore) tryReveal();
      break;
    case 'error':
      loadingOlder = false;
      olderBtn.disabled = false;
      verdictEl.textContent = msg.text;
      verdictEl.className = 'verdict verdict-failed';
      verdictEl.hidden = false;
      if (pending) {
        pending = null;
        sendBtn.disabled = false;
        input.disabled = false;
      }
      break;
  }
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = parseHostToWebview(e.data);
  if (msg) handle(msg);
  else console.warn('switchboard: dropped a malformed message from the host');
});

function submit(): void {
  const body = input.value;
  if ((!body.trim() && !files.length) || pending) return;
  if (body.length > MAX_COMPOSER_CHARS) {
    verdictEl.textContent = `Failed: the message is longer than ${MAX_COMPOSER_CHARS} characters`;
    verdictEl.className = 'verdict verdict-failed';
    verdictEl.hidden = false;
    return;
  }
  const requestId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  pending = { requestId, body };
  sendBtn.disabled = true;
  input.disabled = true;
  verdictEl.textContent = 'Sending…';
  verdictEl.className = 'verdict verdict-pending';
  verdictEl.hidden = false;
  post({ type: 'send', requestId, body: body.trim() ? body : '', replyTo, attachments: files.map((f) => f.token) });
}

verifyBtn.addEventListener('click', () => post({ type: 'verify' }));

form.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  } else if (e.key === 'Escape' && replyTo) {
    setReplyTo(null);
  }
});
let draftTimer: ReturnType<typeof setTimeout> | undefined;
input.addEventListener('input', () => {
  save();
  if (draftTimer) clearTimeout(draftTimer);
  draftTimer = setTimeout(() => post({ type: 'draft', draft: input.value }), 500);
});
// the view going away (tab closed or hidden) does not wait for the pause: hand the draft over now
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'hidden' || !draftTimer) return;
  clearTimeout(draftTimer);
  draftTimer = undefined;
  post({ type: 'draft', draft: input.value });
});
olderBtn.addEventListener('click', () => {
  const oldest = thread[0];
  if (!oldest || loadingOlder) return;
  loadingOlder = true;
  render('anchor');
  post({ type: 'loadOlder', before: oldest.id });
});
/** A body's link, file reference or code-block button: each asks the host, which checks again. */
function bodyAction(target: HTMLElement | null): boolean {
  const link = target?.closest('a.link');
  const href = link?.getAttribute('data-href');
  if (href) {
    post({ type: 'openLink', url: href });
    return true;
  }
  const ref = target?.closest('a.file-ref, button.code-open');
  if (ref) {
    const n = (a: string) => {
      const v = ref.getAttribute(a);
      return v === null ? null : Number(v);
    };
    const path = ref.getAttribute('data-path');
    const line = n('data-line');
    const commit = ref.getAttribute('data-commit');
    if (path && line) post({ type: 'openRef', path, line, col: n('data-col'), endLine: n('data-end'), commit });
    return true;
  }
  const copy = target?.closest('button.code-copy');
  if (copy) {
    const text = copy.closest('.code-block')?.querySelector('code')?.textContent ?? '';
    if (text) post({ type: 'copy', text: text.slice(0, MAX_COPY_CHARS) });
    return true;
  }
  return false;
}
threadEl.addEventListener('keydown', (e) => {
  // links are not <a href>: Enter opens them as a click does
  if (e.key === 'Enter' && (e.target as HTMLElement | null)?.matches('a.link, a.file-ref') && bodyAction(e.target as HTMLElement)) e.preventDefault();
});
threadEl.addEventListener('click', (e) => {
  const target = e.target as HTMLElement | null;
  if (revealedId) {
    revealedId = null;
    threadEl.querySelector('article.msg.revealed')?.classList.remove('revealed');
  }
  if (bodyAction(target)) {
    e.preventDefault();
    return;
  }
  const fileBtn = target?.closest('button.attachment-action');
  if (fileBtn) {
    const action = fileBtn.getAttribute('data-action');
    const id = fileBtn.getAttribute('data-id');
    const index = Number(fileBtn.getAttribute('data-index'));
    if ((action === 'save' || action === 'open' || action === 'download') && id && Number.isInteger(index)) post({ type: 'file', action, id, index });
    return;
  }
  const btn = target?.closest('button.reply-button');
  const id = btn?.getAttribute('data-id');
  if (id) setReplyTo(id);
});
attachBtn.addEventListener('click', () => post({ type: 'attach' }));
pendingEl.addEventListener('click', (e) => {
  const token = (e.target as HTMLElement | null)?.closest('button.pending-remove')?.getAttribute('data-token');
  if (!token) return;
  files = files.filter((f) => f.token !== token);
  renderFiles();
});
// Drag and drop: files from the Explorer arrive as a uri-list (VS Code asks for Shift while
// dragging over a webview). Files from the desktop carry no path into a webview: say so.
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  e.preventDefault();
  dragDepth++;
  dropHint.hidden = false;
});
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dropHint.hidden = true;
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  dropHint.hidden = true;
  const dt = e.dataTransfer;
  if (!dt) return;
  const uris = droppedUris((t) => dt.getData(t));
  if (uris.length) post({ type: 'drop', uris: uris.slice(0, MAX_ATTACHMENTS) });
  else if (dt.files.length) say('Files from outside VS Code cannot be dropped here: drop them from the Explorer (hold Shift), or use the attach button.');
});
replyCancel.addEventListener('click', () => setReplyTo(null));
window.addEventListener('focus', markVisibleRead);
setInterval(() => {
  if (thread.length) render('anchor');
}, 60_000);

post({ type: 'ready', v: WEBVIEW_PROTOCOL_VERSION });
