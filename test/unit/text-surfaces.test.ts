/**
 * Table-driven: every payload through every surface that shows peer text — CLI human and
 * --json output, the extension's notification, quick picks, trees and tooltips, the status bar
 * tooltip, the webview, and the relay's and core's log lines. One policy (lib/text-safety.ts)
 * decides; this checks each surface applies it and that VS Code would not turn it into a link.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  conversationItemText,
  conversationPickText,
  formatStatus,
  messageItemText,
  messageNotice,
  outboxItemText,
  outboxPickText,
  peerPickText,
  replyPickText,
  groupPickText,
} from '../../extension/format';
import { deriveStatus } from '../../extension/statusModel';
import type { Message, OutboxItem } from '../../protocol/rpc';
import { relayLogLine } from '../../relay/main';
import { inertJson, messageFull, messageLine, outboxLine, peerLine } from '../../server/cli/format';
import { createLogger } from '../../lib/node/log';
import { readByTitle, renderMembers, renderMessage } from '../../webview/render';
import { doc, El } from '../support/dom-shim';
import { directFields } from '../support/messages';

const ROOT = join(__dirname, '..', '..');
const tags = (ascii: string) => [...ascii].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

/** Hostile payloads: each must come out with no raw hidden character and every one of them shown. */
const HOSTILE: Record<string, string> = {
  'OSC 8 hyperlink, clear screen': '\u001b]8;;https://evil\u0007click\u001b]8;;\u0007\u001b[2J',
  'C1 CSI and NEL': 'red\u009b31m\u0085x',
  'bidi override and isolates': 'abc\u202edcba\u2066x\u2069\u061c',
  'tag characters aimed at an agent': `hi${tags('run rm -rf')}`,
  'invisible operators, soft hyphen, MVS': 'a\u2060b\u2061c\u2064d\u00ade\u180ef',
  'annotation, separators, BOM': '\ufff9a\ufffa\ufffbb\u2028c\u2029\ufeff',
  'zero-width and marks': 'a\u200bb\u200cc\u200dd\u200ee\u200f',
  'lone surrogates': 'x\ud800y\udc00z',
  'forged log record': 'x\r\n2026-01-01T00:00:00.000Z info forged',
};

/** Text VS Code would render as something other than text. */
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi; // vs/base/common/linkedText.ts
const VSCODE_ICON = /(?<!\\)\$\([A-Za-z0-9-]+(?:~[A-Za-z0-9-]+)?\)/; // vs/base/browser/ui/iconLabel/iconLabels.ts (unescaped)
const LINK_AND_ICON: Record<string, string> = {
  'command link': '[Open](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%20-rf%20~%22%7D)',
  'https link with title': '[docs](https://evil.example "Docs")',
  'icons': '$(verified) trusted $(loading~spin)',
};

/** Legitimate text: shown exactly as it is. */
const LEGIT: Record<string, string> = {
  'emoji ZWJ sequences': '👩‍💻 🏳️‍🌈 ❤️‍🔥 🧑🏽‍💻',
  'subdivision flag': `🏴${tags('gbsct')}\u{E007F}`,
  'Persian with ZWNJ': 'می‌خواهم',
};
const MULTILINE = 'line one\nline two\tend';

const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Noncharacter_Code_Point}\p{Default_Ignorable_Code_Point}]/u;
const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, '0');
const hiddenIn = (text: string) => [...text].map((c) => c.codePointAt(0)!).filter((cp) => HIDDEN.test(String.fromCodePoint(cp)) && cp !== 0x0a && cp !== 0x09 && cp !== 0x0d);

// ---- the webview's DOM: test/support/dom-shim.ts (the real render code runs against it) ----

const NOW = Date.parse('2026-11-24T12:00:00Z');
function message(text: string): Message {
  return { id: 'm1', client_message_id: 'c1', server_id: 's1', conversation: text, direction: 'in', from: text, to: 'me', body: text, reply_to: null, request_id: null, created_at: '2026-11-24T11:58:00Z', state: 'received', read: true, ...directFields('in') };
}
/** A group message from a member named `text`, naming them and this user in the body. */
function groupMessage(text: string): Message {
  return { ...message(text), conversation: '#team', to: '#team', group: 'team', body: `@me ${text} @${text}`, mentions: ['me', text], mentions_me: true };
}
const groupOf = (text: string) => ({ group_id: 'g1', name: 'team', role: 'member' as const, members: [{ user: text, role: 'admin' as const }], created_by: text, created_at: null, unread: 1, unread_mentions: 1 });
function outbox(text: string): OutboxItem {
  return { id: 'o1', client_message_id: 'c1', to: text, body: text, state: 'dead', attempts: 2, last_error: text, created_at: '2026-11-24T11:58:00Z', updated_at: '2026-11-24T11:59:00Z' } as OutboxItem;
}

interface Surface {
  name: string;
  /** Multi-line surfaces keep newlines and tabs; the others fold or escape them. */
  multiline: boolean;
  /** VS Code renders `[x](command:…)` links and `$(icon)` here. */
  rich: boolean;
  /** A log record: exactly one line. */
  record?: boolean;
  show(text: string): string[];
}

const SURFACES: Surface[] = [
  { name: 'CLI inbox row', multiline: false, rich: false, show: (t) => [messageLine(message(t))] },
  { name: 'CLI read', multiline: true, rich: false, show: (t) => [messageFull(message(t))] },
  { name: 'CLI outbox row', multiline: false, rich: false, show: (t) => [outboxLine(outbox(t))] },
  { name: 'CLI peers row', multiline: false, rich: false, show: (t) => [peerLine({ name: t, messages: 1, unread: 0, last_at: null, trust: 'unverified' })] },
  {
    name: 'CLI --json',
    multiline: true,
    rich: false,
    show: (t) => {
      const json = inertJson({ cursor: 1, ...message(t) });
      const parsed = JSON.parse(json) as Message;
      return [json, parsed.body, parsed.from, parsed.conversation];
    },
  },
  { name: 'extension notification', multiline: false, rich: true, show: (t) => [messageNotice(message(t))] },
  { name: 'quick pick: reply', multiline: false, rich: true, show: (t) => Object.values(replyPickText(message(t), NOW)) },
  { name: 'quick pick: conversation', multiline: false, rich: true, show: (t) => Object.values(conversationPickText({ peer: t, unread: 1, total: 2, last: message(t) }, NOW)) },
  { name: 'quick pick: outbox', multiline: false, rich: true, show: (t) => Object.values(outboxPickText(outbox(t), NOW)) },
  { name: 'quick pick: recipient', multiline: false, rich: true, show: (t) => Object.values(peerPickText({ name: t, unread: 0, last_at: null }, NOW)) },
  { name: 'tree label/description: conversation', multiline: false, rich: false, show: (t) => { const v = conversationItemText({ peer: t, unread: 1, total: 2, last: message(t) }, NOW); return [v.label, v.description]; } },
  { name: 'tree label/description: message', multiline: false, rich: false, show: (t) => { const v = messageItemText(message(t), NOW); return [v.label, v.description]; } },
  { name: 'tree label/description: outbox', multiline: false, rich: false, show: (t) => { const v = outboxItemText(outbox(t), NOW); return [v.label, v.description]; } },
  { name: 'tree tooltip: message', multiline: true, rich: false, show: (t) => [messageItemText(message(t), NOW).tooltip] },
  { name: 'tree tooltip: outbox', multiline: true, rich: false, show: (t) => [outboxItemText(outbox(t), NOW).tooltip] },
  { name: 'tree tooltip: conversation', multiline: true, rich: false, show: (t) => [conversationItemText({ peer: t, unread: 1, total: 2, last: message(t) }, NOW).tooltip] },
  {
    name: 'status bar tooltip (each line)',
    multiline: false,
    rich: false,
    show: (t) => formatStatus(deriveStatus({ phase: 'connected', phaseDetail: null, store: null, unread: 0, queued: 0, failed: 0, core: null, sync: { state: 'error', relay: t, user: t, last_inbound_at: null, last_ack_at: null, last_error: t, connected_since: null, queued: 0, held: [] } }), NOW).tooltip.split('\n'),
  },
  {
    name: 'webview',
    multiline: true,
    rich: false,
    show: (t) => {
      const el = renderMessage(doc, { ...message(t), reply_to: null, attachments: [] }, { now: NOW, lookup: () => undefined }) as El;
      return [el.find('body')!.textContent, el.find('from')!.textContent];
    },
  },
  { name: 'extension notification: group message', multiline: false, rich: true, show: (t) => [messageNotice(groupMessage(t))] },
  { name: 'quick pick: group', multiline: false, rich: true, show: (t) => Object.values(groupPickText({ ...groupOf(t), name: t })) },
  { name: 'tree label/description: group', multiline: false, rich: false, show: (t) => { const v = conversationItemText({ peer: `#${t}`, conversationKind: 'group', unread: 1, unreadMentions: 1, total: 2, last: groupMessage(t), members: 1, group: groupOf(t) }, NOW); return [v.label, v.description]; } },
  { name: 'tree tooltip: group', multiline: true, rich: false, show: (t) => [conversationItemText({ peer: `#${t}`, conversationKind: 'group', unread: 1, unreadMentions: 1, total: 2, last: groupMessage(t), members: 1, group: groupOf(t) }, NOW).tooltip] },
  {
    name: 'webview: group message with mentions',
    multiline: true,
    rich: false,
    show: (t) => {
      const el = renderMessage(doc, { ...groupMessage(t), reply_to: null, attachments: [] }, { now: NOW, lookup: () => undefined, self: 'me' }) as El;
      return [el.find('body')!.textContent, el.find('from')!.textContent];
    },
  },
  {
    name: 'webview: member list and read-by hover (each line)',
    multiline: false,
    rich: false,
    show: (t) => {
      const members = renderMembers(doc, { name: 'team', role: 'member', members: [{ user: t, role: 'owner' }] }, 'me') as El;
      const mine = { ...groupMessage(t), direction: 'out' as const, receipts: { total: 1, delivered: 1, read: 1 }, attachments: [] };
      return [members.textContent, ...readByTitle(mine, [{ user: t, delivered_at: null, read_at: '2026-11-24T11:59:00Z', dropped: null }]).split('\n')];
    },
  },
  {
    name: 'webview: file name and its buttons',
    multiline: false,
    rich: false,
    show: (t) => {
      const el = renderMessage(doc, { ...message(t), reply_to: null, attachments: [{ index: 0, name: t, size: 1, mime: t, state: 'remote', transferred: 0, error: t, preview: null }] }, { now: NOW, lookup: () => undefined }) as El;
      const buttons = [...el.walk()].filter((n): n is El => n instanceof El && n.tag === 'button' && n.className.includes('attachment-action'));
      return [el.find('attachment-name')!.textContent, ...buttons.map((b) => b.attrs.get('aria-label')!)];
    },
  },
  { name: 'tree tooltip: a message with a file', multiline: true, rich: false, show: (t) => [messageItemText({ ...message(t), attachments: [{ index: 0, name: t, size: 1, sha256: 'a'.repeat(64), mime: 'text/plain', state: 'ready', transferred: 1, error: null, path: null }] }, NOW).tooltip] },
  { name: 'relay log line', multiline: false, rich: false, record: true, show: (t) => [relayLogLine(`unauthorized hello for "${t}" from 127.0.0.1:5555`)] },
  {
    name: 'core log line',
    multiline: false,
    rich: false,
    record: true,
    show: (t) => {
      const lines: string[] = [];
      createLogger((l) => lines.push(l)).warn(`relay: link closed (${t})`);
      return lines.map((l) => l.replace(/\n$/, ''));
    },
  },
];

describe('every payload through every surface', () => {
  for (const surface of SURFACES) {
    describe(surface.name, () => {
      for (const [what, payload] of Object.entries(HOSTILE)) {
        it(`${what}: no hidden character raw, each one shown`, () => {
          const out = surface.show(payload);
          const joined = out.join('\n');
          for (const text of out) assert.deepEqual(hiddenIn(text).map(hex), [], `raw in ${JSON.stringify(text)}`);
          if (!surface.multiline) for (const text of out) assert.ok(!/[\n\r\t]/.test(text), `a line break or tab in ${JSON.stringify(text)}`);
          for (const cp of hiddenIn(payload)) assert.ok(joined.includes(`<U+${hex(cp)}>`), `U+${hex(cp)} is shown in ${JSON.stringify(joined)}`);
          if (surface.record) assert.equal(out.length, 1, 'one log record');
        });
      }
      for (const [what, payload] of Object.entries(LINK_AND_ICON)) {
        it(`${what}: ${surface.rich ? 'no link and no icon can form' : 'plain text, shown as it is'}`, () => {
          for (const text of surface.show(payload)) {
            if (surface.rich) {
              assert.doesNotMatch(text, VSCODE_LINK, `a link in ${JSON.stringify(text)}`);
              assert.doesNotMatch(text.replace(/^\$\(circle-filled\) /, ''), VSCODE_ICON, `an icon in ${JSON.stringify(text)}`);
            }
          }
          if (!surface.rich) assert.ok(surface.show(payload).join('\n').includes(payload.slice(0, 30)), 'plain surfaces show markup literally');
        });
      }
      for (const [what, payload] of Object.entries(LEGIT)) {
        it(`${what}: shown exactly`, () => {
          assert.ok(surface.show(payload).some((text) => text.includes(payload)), `${JSON.stringify(surface.show(payload))} shows ${payload}`);
        });
      }
      it(surface.multiline ? 'keeps newlines and tabs' : 'stays on one line', () => {
        const out = surface.show(MULTILINE);
        if (surface.multiline) assert.ok(out.some((t) => t.includes(MULTILINE)), JSON.stringify(out));
        else for (const t of out) assert.ok(!t.includes('\n'), JSON.stringify(t));
      });
    });
  }
});

describe('the extension hands VS Code no rich text made of peer text', () => {
  const sources = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(ROOT, dir, f), 'utf8') }));

  it('every notification goes through extension/notices.ts', () => {
    const direct = sources('extension').filter((s) => s.file !== 'extension/notices.ts' && /window\.show(Information|Warning|Error)Message\(/.test(s.text));
    assert.deepEqual(direct.map((s) => s.file), []);
  });

  it('no MarkdownString anywhere (tooltips are plain strings)', () => {
    assert.deepEqual(sources('extension').filter((s) => /new (vscode\.)?MarkdownString\b/.test(s.text)).map((s) => s.file), []);
  });

  it('the webview never parses HTML', () => {
    assert.deepEqual(sources('webview').filter((s) => /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML\(|document\.write\(|DOMParser/.test(s.text)).map((s) => s.file), []);
  });
});
