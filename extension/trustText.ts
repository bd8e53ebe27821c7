/**
 * What the extension says about trust in a peer's keys (docs/security.md): the safety number
 * dialog, the typed number's check, a send the core refused (`TrustRefused`), and the
 * conversation header's state. No `vscode` import, so every sentence is unit-tested; the
 * user name is peer-chosen and always goes through `oneLine` (controls and bidi shown as
 * `<U+XXXX>`), and the dialogs' text through notices.ts's `noLinks` on top.
 */
import { ErrorCodes, type TrustInfo, type TrustState } from '../protocol/rpc';
import type { ThreadTrust } from '../protocol/webview';
import { oneLine } from '../lib/display';

/** A safety number has 60 digits (twelve groups of five); people paste it with spaces, dashes or line breaks. */
const SAFETY_DIGITS = 60;

/** The word for a trust state, as `peers` prints it (`changed` said as what it means for the person). */
export function trustWord(trust: TrustState): string {
  return trust === 'changed' ? 'keys changed' : trust;
}

/** The buttons the safety number dialog offers for a state: a changed key can only be accepted (the core refuses confirming it). */
export type TrustAction = 'Mark as Verified' | 'Accept New Keys';

export interface SafetyNumberDialog {
  /** The modal's message. */
  text: string;
  /** Its detail: the state, the number(s) grouped as the CLI prints them, what to do. */
  detail: string;
  actions: TrustAction[];
}

/** The "Verify Safety Number…" dialog for what `trust/show` answered (the CLI's `verify` lines, for a dialog). */
export function safetyNumberDialog(info: TrustInfo): SafetyNumberDialog {
  const user = oneLine(info.user, 64);
  const devices = `${info.devices} device${info.devices === 1 ? '' : 's'}`;
  const lines = [`${user}: ${trustWord(info.trust)} (${devices})`, '', `Safety number: ${oneLine(info.safety_number ?? 'none', 200)}`];
  let actions: TrustAction[];
  if (info.trust === 'changed') {
    lines.push(`New safety number: ${oneLine(info.new_safety_number ?? 'none', 200)}`, '', `${user}'s keys changed since they were pinned: sends to ${user} are blocked. Check with ${user} over another channel that the change is theirs (a new machine, a home made again), then accept the new keys and compare the new number.`);
    actions = ['Accept New Keys'];
  } else if (info.trust === 'unverified') {
    lines.push('', `Compare it with ${user} over another channel you trust (in person, a call), not over Switchboard. If it matches, mark ${user} as verified: you will be asked for the number ${user} reads out.`);
    actions = ['Mark as Verified'];
  } else {
    lines.push('', `You confirmed this number with ${user}. It changes if ${user} adds, removes or replaces a device.`);
    actions = [];
  }
  if (!info.fresh) lines.push('', '(The relay could not be asked: these are the keys pinned before.)');
  return { text: `Safety number of you and ${user}`, detail: lines.join('\n'), actions };
}

/** The input box's check of a typed or pasted number: undefined when it has the shape of one (the core compares it). */
export function safetyNumberInputProblem(typed: string): string | undefined {
  const digits = typed.replace(/[\s-]/g, '');
  if (!digits) return 'Type or paste the 60 digits the other person reads out';
  if (!/^[0-9]+$/.test(digits)) return 'A safety number is digits only (spaces and dashes are ignored)';
  if (digits.length !== SAFETY_DIGITS) return `A safety number has ${SAFETY_DIGITS} digits; this has ${digits.length}`;
  return undefined;
}

/** `key_changed`, `safety_number_mismatch` or `no_keys` when `err` is the core's TrustRefused; else undefined. */
export function trustRefusalCode(err: unknown): 'key_changed' | 'safety_number_mismatch' | 'no_keys' | undefined {
  const e = (err && typeof err === 'object' ? err : {}) as { code?: unknown; data?: unknown };
  if (e.code !== ErrorCodes.TrustRefused) return undefined;
  const code = (e.data && typeof e.data === 'object' ? e.data : {}) as { code?: unknown };
  return code.code === 'key_changed' || code.code === 'safety_number_mismatch' || code.code === 'no_keys' ? code.code : undefined;
}

/**
 * A send the core refused for trust, in a person's words, or undefined for any other failure.
 * Nothing was stored and the text is kept (the composer's, or the palette's as the draft).
 */
export function sendRefusalText(to: string, err: unknown, kept: 'composer' | 'draft'): string | undefined {
  const code = trustRefusalCode(err);
  const user = oneLine(to, 64);
  const where = kept === 'composer' ? 'Your message is kept in the composer.' : "Your message is kept as the conversation's draft.";
  if (code === 'key_changed') return `Not sent to ${user}: ${user}'s keys changed since you last saw them. Compare the safety number (Verify Safety Number…), accept the new keys, then send again. ${where}`;
  if (code === 'no_keys') return `Not sent to ${user}: no device keys are known for ${user} (their core has not published any yet, or the relay could not be asked). ${where}`;
  return undefined;
}

/** The conversation's kept draft once a refused palette send's text is kept in it: appended to a draft already there, never over it. */
export function keptDraft(before: string, text: string): string {
  if (!text.trim()) return before;
  return before.trim() ? `${before}\n\n${text}` : text;
}

/** The result of Mark as Verified when the typed number is not the right one: said plainly, nothing marked. */
export function mismatchText(user: string): string {
  const u = oneLine(user, 64);
  return `Switchboard: that is not the safety number of you and ${u}. Nothing was marked verified. Compare it again with ${u}; if it truly differs, someone may be in the middle.`;
}

/** The conversation header's trust state for a user conversation (null for a group: no one key to trust). */
export function threadTrust(peerIsGroup: boolean, trust: TrustState): ThreadTrust | null {
  if (peerIsGroup) return null;
  if (trust === 'changed') return { state: 'changed', text: 'Keys changed: sends are blocked until you verify the safety number and accept the new keys.' };
  if (trust === 'verified') return { state: 'verified', text: 'Safety number verified' };
  return { state: 'unverified', text: 'Safety number not verified' };
}

/** The Inbox row's tooltip line for a user's trust (the row says nothing of `unverified`, the usual state after first use). */
export function trustTooltipLine(trust: Exclude<TrustState, 'unverified'>): string {
  return trust === 'changed' ? 'Keys changed: sends are blocked until you accept them (Verify Safety Number…)' : 'Safety number verified';
}
