/**
 * Why the relay cannot be reached, said once for everyone who needs it: a queued send, a CLI
 * verb that could fetch nothing, `status` and `doctor`. Each problem is a stable code for
 * scripts and a sentence for a person that names the command that fixes it.
 */
import type { SendReasonCode, SyncProblem } from '../../protocol/rpc';
import type { RelayLinkClose } from './relay-link';

export interface RelaySettings {
  relay: string | null;
  user: string | null;
}

const INIT = '`switchboard init --relay <ws-url> --user <name> --token <token>`';

function initFor(settings: RelaySettings): string {
  return `\`switchboard init --relay ${settings.relay ?? '<ws-url>'} --user ${settings.user ?? '<name>'} --token <token>\``;
}

export function notConfigured(): SyncProblem {
  return { code: 'not_configured', message: `no relay configured; run ${INIT}` };
}

export function refusedToken(settings: RelaySettings): SyncProblem {
  const user = settings.user ?? '<name>';
  // A name with a "." may be an agent identity (issue 14): revoked by its owner, not the operator.
  const agent = user.includes('.') ? ` (if ${user} is an agent identity, its owner revoked it or can create it again: \`switchboard agent create ${user}\` in the owner's home writes a new token here)` : '';
  return {
    code: 'unauthorized',
    message: `the relay refused the token for ${user}${agent}; get a new token (on the relay: \`switchboard relay revoke ${user}\`, then \`switchboard relay add-user ${user}\`) and run ${initFor(settings)}`,
  };
}

/** The stored relay URL cannot be used at all (it would leak the token, or cannot be dialled). */
export function badUrl(why: string, settings: RelaySettings): SyncProblem {
  return { code: 'bad_url', message: `${why}; run ${initFor({ ...settings, relay: null })} with a usable URL` };
}

/** How a link to the relay ended, as a problem a person can act on. */
export function problemOfClose(close: RelayLinkClose, settings: RelaySettings): SyncProblem {
  if (close.unauthorized) return refusedToken(settings);
  const reason = close.reason || `connection closed (code ${close.code})`;
  switch (close.failure) {
    case 'unreachable':
      return { code: 'unreachable', message: reason };
    case 'timeout':
      return { code: 'timeout', message: reason };
    case 'tls':
      return { code: 'tls', message: reason };
    case 'refused':
      return { code: 'refused', message: reason };
    case 'not_relay':
      return { code: 'not_relay', message: `${reason}; check the URL and port, then run ${initFor({ ...settings, relay: null })}` };
    case 'bad_url':
      return badUrl(reason, settings);
    default:
      return { code: 'disconnected', message: `lost the link to the relay at ${settings.relay ?? '?'}: ${reason}` };
  }
}

/** The relay did not finish within a verb's short deadline. */
export function pullTimeout(settings: RelaySettings, ms: number, online: boolean): SyncProblem {
  return online
    ? { code: 'timeout', message: `the relay at ${settings.relay ?? '?'} was still sending after ${seconds(ms)} s; run the command again for the rest` }
    : { code: 'timeout', message: `relay unreachable at ${settings.relay ?? '?'}: no answer within ${seconds(ms)} s` };
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** Problems no retry can fix: the settings must change first. */
const NEEDS_NEW_SETTINGS = new Set<SendReasonCode>(['not_configured', 'unauthorized', 'tls', 'not_relay', 'bad_url']);

export interface QueuedContext {
  /** Why the link is down, when it is. */
  problem: SyncProblem | null;
  online: boolean;
  /** How long the send was allowed to wait for the relay's verdict (--wait; 0: it did not wait). */
  waitedMs: number;
  /** The relay's own reason when it deferred this message (rate limit, recipient full). */
  deferred: string | null;
  /** No core runs: this process stops after answering, and nothing retries until one does. */
  oneShot: boolean;
  relay: string | null;
}

/** Why a send is queued, and what happens to it next (or what fixes it). */
export function queuedReason(c: QueuedContext): { reason_code: SendReasonCode; reason: string } {
  let code: SendReasonCode;
  let why: string;
  if (c.deferred !== null) [code, why] = ['deferred', `the relay deferred it: ${c.deferred}`];
  else if (c.problem) [code, why] = [c.problem.code, c.problem.message];
  else if (c.waitedMs === 0) [code, why] = ['not_waited', 'not yet at the relay (--wait 0 does not wait for its verdict)'];
  else if (!c.online) [code, why] = ['timeout', `still connecting to the relay at ${c.relay ?? '?'}`];
  else [code, why] = ['no_verdict', `the relay has not answered within ${seconds(c.waitedMs)} s`];
  if (NEEDS_NEW_SETTINGS.has(code)) return { reason_code: code, reason: why };
  const next = c.oneShot
    ? 'it is retried automatically while a core runs — start one with `switchboard daemon start`'
    : 'the core retries it automatically (see `switchboard outbox`)';
  return { reason_code: code, reason: `${why}; ${next}` };
}
