/**
 * Every command: palette, tree context menus, status bar quick pick. Commands see the window
 * through `CommandHost` (commandHost.ts), the narrow interface App implements, so this module never imports App.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { USER_NAME_RULE, isValidUserName } from '../protocol/limits';
import { canonicalUserName, groupAddress, groupNameOf, isGroupAddress } from '../protocol/names';
import { type Group, type Message, type OutboxItem, type SendParams } from '../protocol/rpc';
import { MAX_ATTACHMENTS } from '../protocol/files';
import { filesLine, formatSize } from '../lib/file-display';
import { pickFiles, sendWithFiles } from './fileActions';
import type { PickedFile } from './files';
import { cleartextRelayProblem, relayUrlProblem } from '../protocol/relay-url';
import { conversationPickText, errorText, groupErrorText, groupPickText, noLinks, outboxPickText, peerPickText, plural, replyPickText, statusActions, verdictText } from './format';
import { inertText, oneLine } from '../lib/display';
import { Commands, TOKEN_SECRET_KEY, type CommandId, type RunnableCommand } from './ids';
import type { ConversationNode, InboxNode, LoadMoreNode, MessageNode } from './inboxModel';
import type { IDisposable } from './lifecycle';
import { confirm, showError, showInfo, showWarning } from './notices';
import type { OutboxItemNode, OutboxNode } from './outboxModel';
import type { CommandHost } from './commandHost';
import { reportSendRefusal, verifySafetyNumber } from './trustCommands';


/** The one typed way to run a command: only ids from ids.ts. */
export function runCommand(id: RunnableCommand, ...args: unknown[]): Thenable<unknown> {
  return vscode.commands.executeCommand(id, ...args);
}

function requireConnected(app: CommandHost): boolean {
  if (app.connection.connected) return true;
  const st = app.connection.current;
  void showError(`Switchboard: not connected to the core${st.detail ? ` (${oneLine(st.detail, 200)})` : ''}.`, 'Reconnect', 'Show Log').then((p) => {
    if (p === 'Reconnect') void runCommand(Commands.reconnect);
    if (p === 'Show Log') void runCommand(Commands.showLog);
  });
  return false;
}

async function report(p: Promise<unknown>, what: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    void showError(`Switchboard: ${what} failed: ${errorText(err)}`);
  }
}

/** Send, then say honestly what happened. */
export async function sendAndReport(app: CommandHost, params: Omit<SendParams, 'client_message_id' | 'wait_ms'>): Promise<void> {
  const full: SendParams = { ...params, client_message_id: randomUUID(), wait_ms: 5000 };
  let result;
  try {
    result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: noLinks(`Sending to ${oneLine(params.to, 64)}…`) }, () => app.connection.request('message/send', full));
  } catch (err) {
    // a changed key or no keys: said as such, with the text kept as the conversation's draft
    if (!reportSendRefusal(app, params.to, err, params.body)) void showError(`Failed: ${errorText(err)}`);
    return;
  }
  const v = verdictText({ status: result.status, reason: result.reason, to: result.to });
  app.log.info(`send ${oneLine(result.client_message_id, 200)} → ${oneLine(result.to, 64)}: ${result.status}${result.reason ? ` (${oneLine(result.reason, 300)})` : ''}`);
  if (v.severity === 'error') void showError(v.text);
  else if (v.severity === 'warning') void showWarning(v.text);
  else void showInfo(v.text);
}

/** A recipient: a peer, a group (`#name`), or a name typed in (a user, or `#name` for a group). */
export async function pickRecipient(app: CommandHost, title = 'Send Message: recipient'): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { peer?: string }>();
  qp.title = title;
  qp.placeholder = 'Pick a peer or a group, or type a user name (#name for a group)';
  qp.busy = true;
  let known: (vscode.QuickPickItem & { peer: string })[] = [];
  const typed = (v: string) => {
    const t = v.trim();
    if (!t) return [];
    return [{ label: noLinks(oneLine(t, 64)), description: isGroupAddress(t) ? 'send to this group' : 'send to this user', alwaysShow: true, peer: t }];
  };
  const show = () => (qp.items = [...typed(qp.value).filter((t) => !known.some((p) => p.peer === t.peer)), ...known]);
  Promise.all([
    app.connection.request('group/list', {}).then(
      (r) => r.groups.filter((g) => g.role !== null).map((g) => ({ ...groupPickText(g), peer: groupAddress(g.name) })),
      (err) => {
        app.log.warn(`group/list failed: ${errorText(err)}`);
        return [];
      },
    ),
    app.connection.request('peers/list', {}).then(
      (r) => r.peers.filter((p) => !isGroupAddress(p.name)).map((p) => ({ ...peerPickText(p), peer: p.name })),
      (err) => {
        app.log.warn(`peers/list failed: ${errorText(err)}`);
        return [];
      },
    ),
  ])
    .then(([groups, peers]) => {
      known = [...groups, ...peers];
      show();
    })
    .finally(() => (qp.busy = false));
  qp.onDidChangeValue(show);
  return new Promise((resolve) => {
    qp.onDidAccept(() => {
      const pick = qp.selectedItems[0]?.peer ?? qp.value.trim();
      resolve(pick || undefined);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

type UserItem = vscode.QuickPickItem & { user: string };

/**
 * Several users: peers to check, or a name typed in (offered first) and checked; Enter takes
 * what is checked, or the typed name when nothing is. Checked rows stay checked while the
 * typed name changes. Undefined when dismissed. (VS Code's Space checks the focused row of the
 * list, not from the input box: ↓ first.)
 */
async function pickUsers(app: CommandHost, title: string, exclude: readonly string[]): Promise<string[] | undefined> {
  const excluded = new Set(exclude.map(canonicalUserName));
  const qp = vscode.window.createQuickPick<UserItem>();
  qp.title = title;
  qp.placeholder = 'Type a user name or pick peers (↓, Space to check); Enter takes the checked ones, or the typed name';
  qp.canSelectMany = true;
  qp.busy = true;
  const chosen = new Map<string, UserItem>();
  let peers: UserItem[] = [];
  const typed = (): UserItem[] => {
    const t = qp.value.trim();
    if (!isValidUserName(t) || excluded.has(canonicalUserName(t)) || peers.some((p) => p.user === canonicalUserName(t))) return [];
    return [{ label: noLinks(oneLine(t, 64)), description: 'this user', alwaysShow: true, user: canonicalUserName(t) }];
  };
  let updating = false;
  const show = () => {
    const top = typed();
    const kept = [...chosen.values()].filter((c) => !peers.some((p) => p.user === c.user) && !top.some((t) => t.user === c.user));
    updating = true;
    qp.items = [...top, ...kept, ...peers];
    qp.selectedItems = qp.items.filter((i) => chosen.has(i.user));
    updating = false;
  };
  app.connection
    .request('peers/list', {})
    .then((r) => {
      peers = r.peers.filter((p) => isValidUserName(p.name) && !excluded.has(canonicalUserName(p.name))).map((p) => ({ ...peerPickText(p), user: canonicalUserName(p.name) }));
      show();
    })
    .catch((err) => app.log.warn(`peers/list failed: ${errorText(err)}`))
    .finally(() => (qp.busy = false));
  qp.onDidChangeValue(show);
  qp.onDidChangeSelection((sel) => {
    if (updating) return;
    const selected = new Set(sel.map((i) => i.user));
    for (const i of qp.items) {
      if (selected.has(i.user)) chosen.set(i.user, i);
      else chosen.delete(i.user);
    }
  });
  return new Promise((resolve) => {
    qp.onDidAccept(() => {
      const users = [...chosen.keys()];
      const t = qp.value.trim();
      if (!users.length && isValidUserName(t) && !excluded.has(canonicalUserName(t))) users.push(canonicalUserName(t));
      resolve(users);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

/** The group a command acts on: the row it was run on (or the selected one), else picked from the groups this user is in. */
async function pickGroup(app: CommandHost, arg: unknown, title: string): Promise<Group | undefined> {
  const peer = peerOf(fromSelection(arg, app.inboxView));
  if (!app.inbox.isLoaded) await app.inbox.refresh();
  const groups = app.inbox.currentGroups();
  if (peer && isGroupAddress(peer)) {
    const name = groupNameOf(peer);
    const known = groups.find((g) => g.name === name);
    if (known) return known;
    return app.connection.request('group/show', { name });
  }
  if (!groups.length) {
    void showInfo('Switchboard: you are in no group. Create one with "Switchboard: Create Group…".');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    groups.map((g) => ({ ...groupPickText(g), g })),
    { title },
  );
  return pick?.g;
}

async function askBody(title: string, prompt: string): Promise<string | undefined> {
  const body = await vscode.window.showInputBox({
    title,
    prompt,
    placeHolder: 'Message',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'The message is empty'),
  });
  return body && body.trim() ? body : undefined;
}

/**
 * The message text with an "Attach Files…" button on the input box: files picked there are
 * listed in the prompt, and the text may then be empty (it is their caption). Undefined when
 * the user cancelled.
 */
async function askBodyWithFiles(title: string, prompt: string): Promise<{ body: string; files: PickedFile[] } | undefined> {
  const box = vscode.window.createInputBox();
  const attach: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('attach'), tooltip: 'Attach Files…' };
  let files: PickedFile[] = [];
  box.title = title;
  box.placeholder = 'Message (the caption, when files are attached)';
  box.ignoreFocusOut = true;
  box.buttons = [attach];
  const describe = () => {
    box.prompt = files.length ? noLinks(`${prompt} · ${plural(files.length, 'file')}: ${filesLine(files.map((f) => f.name), 100)} (${formatSize(files.reduce((n, f) => n + f.size, 0))})`) : noLinks(`${prompt} · the paperclip button attaches files`);
    box.validationMessage = undefined;
  };
  describe();
  // the file dialog may itself be a quick input (remote, web): our box hides meanwhile, and comes back
  let picking = false;
  return new Promise((resolve) => {
    const subs: vscode.Disposable[] = [];
    const done = (v: { body: string; files: PickedFile[] } | undefined) => {
      subs.forEach((d) => d.dispose());
      box.dispose();
      resolve(v);
    };
    subs.push(
      box.onDidTriggerButton(async (b) => {
        if (b !== attach || picking) return;
        picking = true;
        // hide it ourselves: a dialog that is a quick input takes the widget without hiding
        // the box (it would stay "visible" and a later show() do nothing)
        box.hide();
        try {
          const picked = await pickFiles(noLinks(`Attach files for ${title}`));
          const have = new Set(files.map((f) => f.path));
          files = [...files, ...picked.filter((f) => !have.has(f.path))].slice(0, MAX_ATTACHMENTS);
        } finally {
          // the dialog's own quick input may still be closing when its promise resolves
          await new Promise((r) => setTimeout(r, 100));
          picking = false;
          describe();
          box.show();
        }
      }),
      box.onDidAccept(() => {
        if (!box.value.trim() && !files.length) {
          box.validationMessage = 'The message is empty: write something or attach files';
          return;
        }
        done({ body: box.value.trim() ? box.value : '', files });
      }),
      box.onDidHide(() => {
        if (!picking) done(undefined);
      }),
    );
    box.show();
  });
}

async function pickInboundMessage(app: CommandHost): Promise<Message | undefined> {
  const res = await app.connection.request('inbox/list', { limit: 30 });
  const inbound = res.messages.filter((m) => m.direction === 'in');
  if (!inbound.length) {
    void showInfo('Switchboard: no messages to reply to.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    inbound.map((m) => ({ ...replyPickText(m), m })),
    { title: 'Reply to…', matchOnDetail: true },
  );
  return pick?.m;
}

async function pickConversation(app: CommandHost, onlyUnread = false): Promise<string | undefined> {
  if (!app.inbox.isLoaded) await app.inbox.refresh();
  const convs = app.inbox.conversations().filter((c) => !onlyUnread || c.unread > 0);
  const items: (vscode.QuickPickItem & { peer: string })[] = convs.map((c) => ({ ...conversationPickText(c), peer: c.peer }));
  if (!items.length) {
    if (onlyUnread) {
      void showInfo('Switchboard: nothing unread.');
      return undefined;
    }
    return pickRecipient(app);
  }
  const pick = await vscode.window.showQuickPick(items, { title: onlyUnread ? 'Mark read: conversation' : 'Open Conversation', matchOnDetail: true });
  return pick?.peer;
}

async function pickOutboxItem(app: CommandHost, states: OutboxItem['state'][], title: string): Promise<OutboxItem | undefined> {
  await app.outbox.refresh();
  const items = [...app.outbox.children('queued'), ...app.outbox.children('failed')].map((n) => n.item).filter((i) => states.includes(i.state));
  if (!items.length) {
    void showInfo('Switchboard: the outbox has nothing to act on.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    items.map((i) => ({ ...outboxPickText(i), i })),
    { title },
  );
  return pick?.i;
}

function peerOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = arg as Partial<InboxNode> | undefined;
  if (n && typeof n === 'object' && typeof n.peer === 'string') return n.peer;
  return undefined;
}

/** Keybindings pass `{ fromSelection: true }`: act on the focused tree's selected row. */
function isFromSelection(arg: unknown): boolean {
  return !!arg && typeof arg === 'object' && (arg as { fromSelection?: unknown }).fromSelection === true;
}
function fromSelection(arg: unknown, view: vscode.TreeView<unknown>): unknown {
  return isFromSelection(arg) ? view.selection[0] : arg;
}

export function registerCommands(app: CommandHost): IDisposable {
  const subs: vscode.Disposable[] = [];
  const reg = (id: CommandId, fn: (...args: unknown[]) => unknown) => subs.push(vscode.commands.registerCommand(id, fn));

  reg(Commands.sendMessage, async (arg?: unknown) => {
    if (!requireConnected(app)) return;
    const to = peerOf(arg) ?? (await pickRecipient(app));
    if (!to) return;
    const composed = await askBodyWithFiles(noLinks(`Send Message to ${oneLine(to, 64)}`), noLinks(`Message to ${oneLine(to, 64)}`));
    if (!composed) return;
    if (!composed.files.length) {
      await sendAndReport(app, { to, body: composed.body });
      return;
    }
    try {
      const res = await sendWithFiles(app.connection, { to, body: composed.body }, composed.files);
      if (res.status === 'failed') void showError(verdictText({ status: res.status, reason: res.reason, to: res.to }).text);
    } catch (err) {
      if (!reportSendRefusal(app, to, err, composed.body)) void showError(`Switchboard: sending files to ${oneLine(to, 64)} failed: ${errorText(err)}`);
    }
  });

  reg(Commands.reply, async (rawArg?: unknown) => {
    if (!requireConnected(app)) return;
    const arg = fromSelection(rawArg, app.inboxView);
    let target: Message | undefined;
    const n = arg as Partial<InboxNode> | undefined;
    if (n?.kind === 'message') target = (n as MessageNode).message;
    else if (n?.kind === 'conversation') {
      const c = n as ConversationNode;
      target = c.last && c.last.direction === 'in' ? c.last : undefined;
      if (!target) {
        const page = await app.connection.request('conversation/messages', { peer: c.peer, limit: 20 });
        target = page.messages.filter((m) => m.direction === 'in').sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0];
      }
      if (!target) {
        await runCommand(Commands.sendMessage, c.peer);
        return;
      }
    } else target = await pickInboundMessage(app);
    if (!target) return;
    const where = target.group !== null ? ` in #${oneLine(target.group, 64)}` : '';
    const body = await askBody(noLinks(`Reply to ${oneLine(target.from, 64)}${where}`), noLinks(`Replying to: ${oneLine(target.body, 100)}`));
    if (!body) return;
    await sendAndReport(app, { to: target.conversation, body, reply_to: target.id });
  });

  reg(Commands.markRead, async (arg?: unknown, selected?: unknown) => {
    if (!requireConnected(app)) return;
    const keyed = isFromSelection(arg);
    const nodes = (keyed ? [...app.inboxView.selection] : Array.isArray(selected) && selected.length ? selected : arg ? [arg] : []) as InboxNode[];
    const ids = nodes.filter((n): n is MessageNode => n.kind === 'message').map((n) => n.message.id);
    const peers = nodes.filter((n): n is ConversationNode => n.kind === 'conversation').map((n) => n.peer);
    if (!nodes.length) {
      const peer = await pickConversation(app, true);
      if (peer) peers.push(peer);
    }
    if (ids.length) {
      app.inbox.markReadLocally({ ids });
      await report(app.connection.request('message/markRead', { ids }), 'Mark Read');
    }
    for (const peer of peers) {
      app.inbox.markReadLocally({ peer });
      await report(app.connection.request('message/markRead', { conversation: peer }), 'Mark Read');
    }
  });

  reg(Commands.markAllRead, async () => {
    if (!requireConnected(app)) return;
    app.inbox.markReadLocally({ all: true });
    await report(app.connection.request('message/markRead', { all: true }), 'Mark All Read');
  });

  reg(Commands.openConversation, async (arg?: unknown) => {
    const peer = peerOf(arg) ?? (app.connection.connected ? await pickConversation(app) : undefined);
    if (!peer) {
      requireConnected(app);
      return;
    }
    app.panels.show(peer);
  });

  reg(Commands.copyMessage, async (arg?: unknown) => {
    const n = arg as Partial<MessageNode> | undefined;
    if (n?.kind !== 'message' || !n.message) return;
    // what you see is what you copy: hidden characters stay visible escapes
    await vscode.env.clipboard.writeText(inertText(n.message.body));
    void vscode.window.setStatusBarMessage('$(copy) Message copied', 2000);
  });

  const itemOf = (arg: unknown): OutboxItem | undefined => {
    const n = arg as Partial<OutboxNode> | undefined;
    return n?.kind === 'item' ? (n as OutboxItemNode).item : undefined;
  };

  reg(Commands.requeue, async (arg?: unknown) => {
    if (!requireConnected(app)) return;
    const item = itemOf(fromSelection(arg, app.outboxView)) ?? (await pickOutboxItem(app, ['dead', 'expired', 'pending'], 'Requeue'));
    if (!item) return;
    try {
      const r = await app.connection.request('outbox/requeue', { id: item.id });
      app.outbox.apply(r.item);
      void showInfo(`Requeued the message to ${oneLine(item.to, 64)}; it will be sent as a new attempt.`);
    } catch (err) {
      void showError(`Failed: requeue: ${errorText(err)}`);
    }
  });

  reg(Commands.abort, async (arg?: unknown) => {
    if (!requireConnected(app)) return;
    const item = itemOf(fromSelection(arg, app.outboxView)) ?? (await pickOutboxItem(app, ['pending', 'inflight', 'dead'], 'Abort'));
    if (!item) return;
    const ok = await confirm(`Abort the message to ${oneLine(item.to, 64)}? It will not be sent.`, oneLine(item.body, 200), 'Abort');
    if (ok !== 'Abort') return;
    try {
      app.outbox.apply(await app.connection.request('outbox/abort', { id: item.id }));
    } catch (err) {
      void showError(`Failed: abort: ${errorText(err)}`);
    }
  });

  reg(Commands.reconnect, async () => {
    if (app.connection.connected) {
      try {
        const s = await app.connection.request('sync/reconnect', {});
        void vscode.window.setStatusBarMessage(`$(debug-restart) Switchboard: relay ${s.state}`, 4000);
        return;
      } catch (err) {
        app.log.warn(`sync/reconnect failed: ${errorText(err)}; reconnecting to the core`);
      }
    }
    await app.connection.reconnect();
  });

  reg(Commands.showLog, () => app.coreLog.show(app.connection.paths().log));
  reg(Commands.showExtensionLog, () => app.log.show(true));

  reg(Commands.configure, async () => {
    const cfg = vscode.workspace.getConfiguration('switchboard');
    const relay = await vscode.window.showInputBox({
      title: 'Configure Relay (1/3): relay URL',
      prompt: 'The relay WebSocket URL (ws:// or wss://)',
      value: cfg.get<string>('relay.url', '') || app.status.current.sync?.relay || '',
      ignoreFocusOut: true,
      // The core refuses ws:// to another machine too; the opt-in is `switchboard init --insecure`.
      validateInput: (v) => relayUrlProblem(v.trim()) ?? cleartextRelayProblem(v.trim()),
    });
    if (relay === undefined) return;
    const user = await vscode.window.showInputBox({
      title: 'Configure Relay (2/3): user',
      prompt: 'Your user name on the relay',
      value: cfg.get<string>('relay.user', '') || app.status.current.sync?.user || '',
      ignoreFocusOut: true,
      validateInput: (v) => (isValidUserName(v.trim()) ? undefined : `Enter a user name: ${USER_NAME_RULE}`),
    });
    if (user === undefined) return;
    const existing = await app.context.secrets.get(TOKEN_SECRET_KEY);
    const token = await vscode.window.showInputBox({
      title: 'Configure Relay (3/3): token',
      prompt: existing ? 'Your relay token (leave empty to keep the stored one)' : 'Your relay token (from "switchboard relay add-user")',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() || existing ? undefined : 'Enter the token'),
    });
    if (token === undefined) return;
    const finalToken = token.trim() || existing || '';
    await cfg.update('relay.url', relay.trim(), vscode.ConfigurationTarget.Global);
    await cfg.update('relay.user', user.trim(), vscode.ConfigurationTarget.Global);
    await app.context.secrets.store(TOKEN_SECRET_KEY, finalToken);
    if (!app.connection.connected) {
      void showWarning('Switchboard: settings saved; they will be applied when the core is reachable.');
      return;
    }
    try {
      const s = await app.connection.request('config/set', { relay: relay.trim(), user: user.trim(), token: finalToken });
      void showInfo(`Switchboard: relay configured (${s.state}).`);
    } catch (err) {
      void showError(`Switchboard: configuring the core failed: ${errorText(err)}`);
    }
  });

  reg(Commands.showActions, async () => {
    const actions = statusActions(app.status.current);
    const pick = await vscode.window.showQuickPick(
      actions.map((a) => ({ label: a.label, detail: a.detail, command: a.command })), // statusActions makes its details safe
      { title: 'Switchboard', placeHolder: 'Choose an action' },
    );
    if (pick) await runCommand(pick.command);
  });

  reg(Commands.refresh, async () => {
    if (!requireConnected(app)) return;
    await report(Promise.all([app.inbox.refresh(), app.outbox.refresh()]), 'Refresh');
  });

  reg(Commands.loadOlder, async (arg?: unknown) => {
    const n = arg as Partial<LoadMoreNode> | undefined;
    if (n?.kind !== 'loadMore' || !n.peer) return;
    await report(app.inbox.loadOlder(n.peer), 'Loading older messages');
  });

  reg(Commands.createGroup, async () => {
    if (!requireConnected(app)) return;
    const raw = await vscode.window.showInputBox({
      title: 'Create Group (1/2): name',
      prompt: 'The group\'s name; its conversation is #name',
      placeHolder: 'team',
      ignoreFocusOut: true,
      validateInput: (v) => (isValidUserName(groupNameOf(v.trim())) ? undefined : `Enter a group name: ${USER_NAME_RULE}`),
    });
    if (raw === undefined) return;
    const name = canonicalUserName(groupNameOf(raw.trim()));
    const self = app.status.current.sync?.user;
    const members = await pickUsers(app, noLinks(`Create Group (2/2): members of #${oneLine(name, 64)}`), self ? [self] : []);
    if (members === undefined) return;
    try {
      const g = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: noLinks(`Creating #${oneLine(name, 64)}…`) }, () => app.connection.request('group/create', { name, members }));
      app.inbox.applyGroup(g);
      const pick = await showInfo(`Switchboard: created #${oneLine(g.name, 64)} with ${plural(g.members.length, 'member')}.`, 'Open');
      if (pick === 'Open') await runCommand(Commands.openConversation, groupAddress(g.name));
    } catch (err) {
      void showError(groupErrorText(`Create Group #${oneLine(name, 64)}`, err));
    }
  });

  reg(Commands.addMember, async (arg?: unknown) => {
    if (!requireConnected(app)) return;
    let group: Group | undefined;
    try {
      group = await pickGroup(app, arg, 'Add Member: group');
    } catch (err) {
      void showError(groupErrorText('Add Member', err));
      return;
    }
    if (!group) return;
    const name = group.name;
    const users = await pickUsers(app, noLinks(`Add Member to #${oneLine(name, 64)}`), group.members.map((m) => m.user));
    if (!users?.length) return;
    try {
      const g = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: noLinks(`Adding to #${oneLine(name, 64)}…`) }, () => app.connection.request('group/add', { name, users }));
      app.inbox.applyGroup(g);
      void showInfo(`Switchboard: added ${users.map((u) => oneLine(u, 64)).join(', ')} to #${oneLine(g.name, 64)}.`);
    } catch (err) {
      void showError(groupErrorText(`Add Member to #${oneLine(name, 64)}`, err));
    }
  });

  reg(Commands.leaveGroup, async (arg?: unknown) => {
    if (!requireConnected(app)) return;
    let group: Group | undefined;
    try {
      group = await pickGroup(app, arg, 'Leave Group');
    } catch (err) {
      void showError(groupErrorText('Leave Group', err));
      return;
    }
    if (!group) return;
    const name = group.name;
    const ok = await confirm(`Leave #${oneLine(name, 64)}?`, 'You stop receiving its messages at once. Its history stays here; a member can add you again.', 'Leave');
    if (ok !== 'Leave') return;
    try {
      app.inbox.applyGroup(await app.connection.request('group/leave', { name }));
      void vscode.window.setStatusBarMessage(`$(sign-out) ${noLinks(`Switchboard: left #${oneLine(name, 64)}`)}`, 4000);
    } catch (err) {
      void showError(groupErrorText(`Leave Group #${oneLine(name, 64)}`, err));
    }
  });

  reg(Commands.verifySafetyNumber, async (arg?: unknown) => {
    if (!requireConnected(app)) return;
    await verifySafetyNumber(app, fromSelection(arg, app.inboxView));
  });

  return { dispose: () => subs.forEach((s) => s.dispose()) };
}
