/**
 * Trust in a peer's keys, in the window (docs/security.md "How to verify a peer"): the command
 * "Verify Safety Number…" and what a send the core refused for trust says. The words are
 * trustText.ts's; this module asks the core (`trust/show`, `trust/confirm`, `trust/accept`) and
 * keeps the Inbox model's trust in step with each answer.
 */
import * as vscode from 'vscode';
import { isGroupAddress } from '../protocol/names';
import { isValidUserName } from '../protocol/limits';
import type { TrustInfo } from '../protocol/rpc';
import { oneLine } from '../lib/display';
import type { CommandHost } from './commandHost';
import { errorText, noLinks, peerPickText } from './format';
import { Commands } from './ids';
import { ask, showError, showInfo } from './notices';
import { keptDraft, mismatchText, safetyNumberDialog, safetyNumberInputProblem, sendRefusalText, trustRefusalCode, trustWord } from './trustText';

/** The user a Verify Safety Number… acts on: the row's or the conversation's, else picked from the peers (or typed). */
async function pickPeer(app: CommandHost): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { user: string }>();
  qp.title = 'Verify Safety Number: peer';
  qp.placeholder = 'Pick a peer, or type a user name';
  qp.busy = true;
  let peers: (vscode.QuickPickItem & { user: string })[] = [];
  const show = () => {
    const t = qp.value.trim();
    const typed = t && isValidUserName(t) && !peers.some((p) => p.user === t) ? [{ label: noLinks(oneLine(t, 64)), description: 'this user', alwaysShow: true, user: t }] : [];
    qp.items = [...typed, ...peers];
  };
  app.connection
    .request('peers/list', {})
    .then((r) => {
      // changed keys first: those are the ones that need looking at
      const rank = (t: string) => (t === 'changed' ? 0 : 1);
      peers = r.peers
        .filter((p) => !isGroupAddress(p.name))
        .sort((a, b) => rank(a.trust) - rank(b.trust) || a.name.localeCompare(b.name))
        .map((p) => {
          const base = peerPickText(p);
          return { ...base, description: [trustWord(p.trust ?? 'unverified'), base.description].filter(Boolean).join(' · '), user: p.name };
        });
      show();
    })
    .catch((err) => app.log.warn(`peers/list failed: ${errorText(err)}`))
    .finally(() => (qp.busy = false));
  qp.onDidChangeValue(show);
  return new Promise((resolve) => {
    qp.onDidAccept(() => {
      const pick = qp.selectedItems[0]?.user ?? qp.value.trim();
      // a name that cannot be a user is not offered; Enter on it does nothing
      if (pick && !isValidUserName(pick)) return;
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

function peerOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = arg as { kind?: unknown; peer?: unknown } | undefined;
  return n && typeof n === 'object' && typeof n.peer === 'string' ? n.peer : undefined;
}

/** Whatever the core answered, the Inbox (and with it the conversation header) shows it. */
function noted(app: CommandHost, info: TrustInfo): TrustInfo {
  app.inbox.applyTrust(info.user, info.trust);
  return info;
}

/** "Verify Safety Number…": the number of you and the peer, their state, and what can be done about it. */
export async function verifySafetyNumber(app: CommandHost, arg?: unknown): Promise<void> {
  const peer = peerOf(arg) ?? (await pickPeer(app));
  if (!peer) return;
  if (isGroupAddress(peer)) {
    void showInfo('Switchboard: a group has no safety number of its own; verify each member (Verify Safety Number… on their conversation).');
    return;
  }
  let info: TrustInfo;
  try {
    info = noted(app, await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: noLinks(`Switchboard: fetching ${oneLine(peer, 64)}'s keys…`) }, () => app.connection.request('trust/show', { user: peer })));
  } catch (err) {
    void showError(`Switchboard: Verify Safety Number for ${oneLine(peer, 64)} failed: ${errorText(err)}`);
    return;
  }
  const dialog = safetyNumberDialog(info);
  // a changed key is a warning: something may be wrong
  const pick = await ask(info.trust === 'changed' ? 'warning' : 'info', dialog.text, dialog.detail, ...dialog.actions);
  if (pick === 'Accept New Keys') await acceptNewKeys(app, info.user);
  else if (pick === 'Mark as Verified') await markVerified(app, info.user);
}

async function markVerified(app: CommandHost, user: string): Promise<void> {
  const u = oneLine(user, 64);
  const typed = await vscode.window.showInputBox({
    title: noLinks(`Mark ${u} as Verified`),
    prompt: noLinks(`Type or paste the safety number ${u} reads out to you (60 digits; spaces are ignored)`),
    placeHolder: '12345 67890 …',
    ignoreFocusOut: true,
    validateInput: (v) => safetyNumberInputProblem(v),
  });
  if (typed === undefined) return;
  try {
    noted(app, await app.connection.request('trust/confirm', { user, safety_number: typed }));
    void showInfo(`Switchboard: ${u} is verified: the safety number matches.`);
  } catch (err) {
    const code = trustRefusalCode(err);
    if (code === 'safety_number_mismatch') void showError(mismatchText(user));
    else if (code === 'key_changed') {
      app.inbox.applyTrust(user, 'changed');
      void showError(`Switchboard: ${u}'s keys changed meanwhile: nothing was marked verified. Run Verify Safety Number… again.`, 'Verify Safety Number…').then((p) => p && vscode.commands.executeCommand(Commands.verifySafetyNumber, user));
    } else void showError(`Switchboard: Mark as Verified failed: ${errorText(err)}`);
  }
}

async function acceptNewKeys(app: CommandHost, user: string): Promise<void> {
  const u = oneLine(user, 64);
  try {
    noted(app, await app.connection.request('trust/accept', { user }));
  } catch (err) {
    void showError(`Switchboard: Accept New Keys failed: ${errorText(err)}`);
    return;
  }
  const pick = await showInfo(`Switchboard: accepted ${u}'s new keys; sends to ${u} go again. ${u} is unverified until you compare the new safety number.`, 'Verify Safety Number…');
  if (pick) await vscode.commands.executeCommand(Commands.verifySafetyNumber, user);
}

/**
 * A send the core refused for trust (a changed key, no keys): the Inbox marks the user, one
 * error notification says why with an action to verify, and `keep` (the palette's text) becomes
 * the conversation's draft, so nothing typed is lost. Returns the sentence (the composer shows
 * it too), or undefined when `err` is another failure.
 */
export function reportSendRefusal(app: Pick<CommandHost, 'inbox' | 'panels'>, to: string, err: unknown, keep?: string): string | undefined {
  const text = sendRefusalText(to, err, keep === undefined ? 'composer' : 'draft');
  if (!text) return undefined;
  if (trustRefusalCode(err) === 'key_changed') app.inbox.applyTrust(to, 'changed');
  if (keep !== undefined) void app.panels.saveDraft(to, keptDraft(app.panels.draft(to), keep));
  const actions = trustRefusalCode(err) === 'key_changed' ? ['Verify Safety Number…', 'Open Conversation'] : ['Open Conversation'];
  void showError(`Switchboard: ${text}`, ...actions).then((p) => {
    if (p === 'Verify Safety Number…') void vscode.commands.executeCommand(Commands.verifySafetyNumber, to);
    if (p === 'Open Conversation') void vscode.commands.executeCommand(Commands.openConversation, to);
  });
  return text;
}
