/**
 * The peer comparison's arithmetic, pure so a unit test can hold it to account: the median
 * round, and the ratios of issue 17's targets (Switchboard A→B against the better of
 * mosquitto-over-WebSockets and JetStream, at each window).
 */

/** The systems the peer phase measures, in the order they are shown. */
export const SYSTEMS = ['switchboard', 'mosquitto-ws', 'mosquitto-tcp', 'jetstream'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const SYSTEM_LABELS: Record<SystemName, string> = {
  switchboard: 'Switchboard A→B (durable at three hops)',
  'mosquitto-ws': 'mosquitto, MQTT QoS 1 over WebSockets',
  'mosquitto-tcp': 'mosquitto, MQTT QoS 1 over TCP',
  jetstream: 'NATS JetStream, file stream',
};

export const SHORT_LABELS: Record<SystemName, string> = {
  switchboard: 'Switchboard',
  'mosquitto-ws': 'mosquitto WS',
  'mosquitto-tcp': 'mosquitto TCP',
  jetstream: 'JetStream',
};

/** The two peers the targets name: TCP MQTT is shown for contrast, not compared against. */
export const TARGET_PEERS: readonly SystemName[] = ['mosquitto-ws', 'jetstream'];

/** One system's figures at one window (a subset of EndToEndFigures, so tests need no processes). */
export interface RunFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU µs per message by process. */
  cpuUsPerMessage: Record<string, number>;
}

export interface SystemRun {
  system: SystemName;
  window: number;
  /** Undefined when the system was skipped (not installed); `skipped` says why. */
  figures?: RunFigures;
  skipped?: string;
}

/** The element whose key is the median (the upper one of an even count); throws on none. */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new Error('median of nothing');
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}

export function totalCpuUs(figures: RunFigures): number {
  return Object.values(figures.cpuUsPerMessage).reduce((a, b) => a + b, 0);
}

/** Against one peer on one measure: who, their value, ours, and ours ÷ theirs. */
export interface Versus {
  peer: SystemName;
  theirs: number;
  ours: number;
  ratio: number;
}

export interface WindowComparison {
  window: number;
  /** msg/s ÷ the peer with the most msg/s (target ≥ 1). */
  throughput: Versus;
  /** p99 beside the peer with the lowest p99 (target: ours ≤ theirs, ratio ≤ 1). */
  p99: Versus;
  /** Total CPU µs per message ÷ the peer with the least (target ≤ 1). */
  cpu: Versus;
}

/** The better peer on one measure: the highest when `higherIsBetter`, else the lowest. */
function best(peers: readonly { system: SystemName; figures: RunFigures }[], value: (f: RunFigures) => number, higherIsBetter: boolean): { system: SystemName; value: number } {
  let chosen = peers[0]!;
  for (const p of peers) {
    const better = higherIsBetter ? value(p.figures) > value(chosen.figures) : value(p.figures) < value(chosen.figures);
    if (better) chosen = p;
  }
  return { system: chosen.system, value: value(chosen.figures) };
}

/**
 * Switchboard against the target peers at one window, each measure against whichever peer is
 * better on it. Undefined when Switchboard or every target peer is missing at that window.
 */
export function compareAt(runs: readonly SystemRun[], window: number): WindowComparison | undefined {
  const at = runs.filter((r) => r.window === window && r.figures);
  const ours = at.find((r) => r.system === 'switchboard')?.figures;
  const peers = at.filter((r) => TARGET_PEERS.includes(r.system)).map((r) => ({ system: r.system, figures: r.figures! }));
  if (!ours || peers.length === 0) return undefined;
  const versus = (value: (f: RunFigures) => number, higherIsBetter: boolean): Versus => {
    const b = best(peers, value, higherIsBetter);
    return { peer: b.system, theirs: b.value, ours: value(ours), ratio: value(ours) / b.value };
  };
  return {
    window,
    throughput: versus((f) => f.perSecond, true),
    p99: versus((f) => f.p99Ms, false),
    cpu: versus(totalCpuUs, false),
  };
}
