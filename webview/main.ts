/**
 * The conversation webview: a thread and a composer. Talks to the host only through the
 * typed, validated protocol in protocol/webview.ts. Peer text is rendered inert (render.ts).
 */
import { parseHostToWebview, parseViewState } from '../protocol/webview-schemas';
import { MAX_COMPOSER_CHARS, VIEW_STATE_VERSION, WEBVIEW_PROTOCOL_VERSION, type ConversationViewState, type HostToWebview, type ThreadGroup, type ThreadMessage, type WebviewToHost } from '../protocol/webview';
import type { Receipt } from '../protocol/rpc';
import { oneLine } from '../lib/display';
import { mergeThread, renderMembers, renderMessage, type DocLike } from './render';

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

let peer = '';
let thread: ThreadMessage[] = [];
let hasMore = false;
let replyTo: string | null = null;
let pending: { requestId: string; body: string } | null = null;
let loadingOlder = false;
let self: string | null = null;
let group: ThreadGroup | null = null;
/** Per-member receipts of this user's group messages, as the host last sent them. */
const receipts = new Map<string, Receipt[]>();

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
  for (const m of thread) frag.appendChild(renderMessage(doc, m, { now, lookup: (id) => byId.get(id), self, receipts: (id) => receipts.get(id) }) as unknown as Node);
  threadEl.replaceChildren(frag);
  olderBtn.hidden = !hasMore;
  olderBtn.disabled = loadingOlder;
  olderBtn.textContent = loadingOlder ? 'Loading…' : 'Load older messages';
  emptyEl.hidden = thread.length > 0;
  if (keepScroll === 'anchor') threadEl.scrollTop = prevTop + (threadEl.scrollHeight - prevHeight);
  else if (atBottom || keepScroll === 'bottom') threadEl.scrollTop = threadEl.scrollHeight;
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
          input.value = '';
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
  if (!body.trim() || pending) return;
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
  post({ type: 'send', requestId, body, replyTo });
}

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
olderBtn.addEventListener('click', () => {
  const oldest = thread[0];
  if (!oldest || loadingOlder) return;
  loadingOlder = true;
  render('anchor');
  post({ type: 'loadOlder', before: oldest.id });
});
threadEl.addEventListener('click', (e) => {
  const target = e.target as HTMLElement | null;
  const btn = target?.closest('button.reply-button');
  const id = btn?.getAttribute('data-id');
  if (id) setReplyTo(id);
});
replyCancel.addEventListener('click', () => setReplyTo(null));
window.addEventListener('focus', markVisibleRead);
setInterval(() => {
  if (thread.length) render('anchor');
}, 60_000);

post({ type: 'ready', v: WEBVIEW_PROTOCOL_VERSION });
