/**
 * The outbox state machine as data: every move an outbox row can make, the states it may start
 * from, the state it ends in, and what its message shows then. `Outbox` (outbox.ts) is the only
 * code that applies them; the store's guarded UPDATEs (store/repository.ts) take their WHERE
 * terms from `from` here, so the store refuses exactly what this table refuses.
 *
 * ```
 *             claim (attempts+1)            accept (accepted / duplicate)          expire
 *  pending ─────────────────────▶ inflight ───────────────────────────▶ done ─────────────▶ expired
 *     ▲  ▲                           │  │                                    (no receipt yet)
 *     │  └── retry (link lost) ──────┘  ├── defer (retryable rejection) ──▶ pending
 *     │                                 └── fail (final rejection, too big, out of attempts) ──▶ dead
 *     └── release (core start): every inflight row
 *  pending, dead ──abort──▶ aborted      pending, dead, expired ──retire (requeue's old row)──▶ aborted
 * ```
 */
import type { MessageState, OutboxState } from '../../protocol/rpc';

export type OutboxTransition = 'claim' | 'accept' | 'defer' | 'retry' | 'fail' | 'expire' | 'abort' | 'retire' | 'release';

export interface TransitionRule {
  readonly from: readonly OutboxState[];
  readonly to: OutboxState;
  /** What the row's outbound message turns to; null: it keeps the state it has. */
  readonly message: MessageState | null;
  /** Whether subscribers hear of it (`outbox/changed`). */
  readonly event: boolean;
}

/**
 * Every row a relay's answer may still settle: all but a done one (it has its verdict) and an
 * aborted one (the person settled it; a late verdict is ignored, architecture.md §13). A verdict
 * arrives for a row sent on the current link, so in practice that row is inflight; a dead row
 * that died waiting ("no verdict after 8 attempts") is the one other row a verdict may name, and
 * the relay's word then wins.
 */
const UNSETTLED: readonly OutboxState[] = ['pending', 'inflight', 'dead', 'expired'];

export const OUTBOX_TRANSITIONS: Readonly<Record<OutboxTransition, TransitionRule>> = {
  /** A drain puts the row on the wire (one more attempt). */
  claim: { from: ['pending'], to: 'inflight', message: null, event: true },
  /** The relay accepted it, or already had it (duplicate). */
  accept: { from: UNSETTLED, to: 'done', message: 'sent', event: true },
  /** The relay asked to retry later (rate limit, recipient full): pending, the attempt refunded. */
  defer: { from: UNSETTLED, to: 'pending', message: null, event: true },
  /** The link was lost with the row on the wire, attempts left: pending, the attempt spent. */
  retry: { from: ['inflight'], to: 'pending', message: null, event: true },
  /** A final rejection, a frame the relay could never take, or no verdict after the last attempt. */
  fail: { from: UNSETTLED, to: 'dead', message: 'failed', event: true },
  /** The relay dropped it undelivered after its retention; only while the message is still `sent` (a receipt wins). */
  expire: { from: ['done'], to: 'expired', message: 'failed', event: true },
  /** `outbox abort`. */
  abort: { from: ['pending', 'dead'], to: 'aborted', message: 'aborted', event: true },
  /** `outbox requeue`: the old row ends aborted, its copy is a new pending row. */
  retire: { from: ['pending', 'dead', 'expired'], to: 'aborted', message: 'aborted', event: true },
  /** Core start: whatever a crash left inflight goes back to pending; the relay dedupes the resend. No event (architecture.md §13). */
  release: { from: ['inflight'], to: 'pending', message: null, event: false },
};

/** Whether `transition` may start from `state`. */
export function allows(transition: OutboxTransition, state: OutboxState): boolean {
  return OUTBOX_TRANSITIONS[transition].from.includes(state);
}

/** The from → to table every transition makes up: `to` is reachable from `from` in one move. */
export function reachable(from: OutboxState): OutboxState[] {
  const targets = new Set<OutboxState>();
  for (const rule of Object.values(OUTBOX_TRANSITIONS)) if (rule.from.includes(from)) targets.add(rule.to);
  return [...targets];
}

/** The SQL term that holds for exactly the rows `transition` may start from (states are fixed words, never input). */
export function fromStatesSql(transition: OutboxTransition, column = 'state'): string {
  return `${column} IN (${OUTBOX_TRANSITIONS[transition].from.map((s) => `'${s}'`).join(', ')})`;
}
