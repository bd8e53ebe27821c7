/**
 * docs/benchmarks.md from one peer-phase run: the table of every system at every window, the
 * ratios of issue 17's targets, and the chart (bench/peers/chart.ts, beside it as an SVG).
 * Pure: the bench passes the runs and the circumstances, this returns the text.
 */
import { compareAt, SHORT_LABELS, SYSTEMS, SYSTEM_LABELS, totalCpuUs, type SystemRun, type Versus, type WindowComparison } from './compare';

export interface ReportContext {
  /** When the figures were taken (ISO date and time, UTC). */
  takenAt: string;
  /** What the machine was doing: cores, load average before and after, shared or not. */
  machine: string;
  /** Versions of what was measured (`mosquitto 2.0.11`, …). */
  versions: string[];
  load: { count: number; repeats: number; warmup: number };
  /** The chart's file name, relative to the document. */
  chartFile: string;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => x.toFixed(1);
const ratio = (x: number) => `${x.toFixed(2)}×`;

function cpuCell(run: SystemRun): string {
  const f = run.figures!;
  const parts = Object.entries(f.cpuUsPerMessage).map(([name, us]) => `${name} ${n0(us)}`);
  return `${n0(totalCpuUs(f))} µs (${parts.join(', ')})`;
}

function versusCell(v: Versus, format: (x: number) => string, unit: string): string {
  return `${format(v.ours)} ${unit} vs ${format(v.theirs)} ${unit} (${SHORT_LABELS[v.peer]})`;
}

/** One line per window: each target, its ratio and whether it holds. */
export function comparisonRows(comparisons: readonly WindowComparison[]): string[] {
  const holds = (ok: boolean) => (ok ? 'met' : 'not met');
  return comparisons.map((c) =>
    [
      `| ${c.window}`,
      `${versusCell(c.throughput, n0, 'msg/s')}: **${ratio(c.throughput.ratio)}** (target ≥ 1.0×, ${holds(c.throughput.ratio >= 1)})`,
      `${versusCell(c.p99, ms, 'ms')}: **${ratio(c.p99.ratio)}** (target ≤ 1.0×, ${holds(c.p99.ratio <= 1)})`,
      `${versusCell(c.cpu, n0, 'µs')}: **${ratio(c.cpu.ratio)}** (target ≤ 1.0×, ${holds(c.cpu.ratio <= 1)}) |`,
    ].join(' | '),
  );
}

export function benchmarksMarkdown(runs: readonly SystemRun[], windows: readonly number[], ctx: ReportContext): string {
  const lines: string[] = [];
  lines.push('# Benchmarks: Switchboard beside the brokers people would pick instead');
  lines.push('');
  lines.push(`Written by \`npm run bench\` (phase \`peers\`; alone: \`npm run bench -- --only=peers\`) on ${ctx.takenAt}.`);
  lines.push(`Machine: ${ctx.machine}.`);
  lines.push(`Measured: ${ctx.versions.join('; ')}.`);
  lines.push('');
  lines.push('To take them again: `npm run bench:setup` (as root: installs mosquitto and nats-server from the distribution\'s packages when missing), then `npm run bench -- --only=peers`, which rewrites this page and its chart. A broker that is not installed is skipped and its rows say so.');
  lines.push('');
  lines.push(
    `Every system gets the same load (bench/end-to-end.ts \`Rounds\`): one sender keeps 64 or 256 messages in flight, each send done when the sender has the broker's ack; the same body (\`<send time> message <i>\`, about 30 bytes); ${ctx.load.warmup.toLocaleString('en-US')} messages to warm up, then the median (by throughput) of ${ctx.load.repeats} rounds of ${ctx.load.count.toLocaleString('en-US')}. Latency runs from the send call to the message's arrival at the consumer. CPU is per message, for every process, from /proc (the bench process holds both ends' clients).`,
  );
  lines.push('');
  lines.push('- **Switchboard A→B**: A\'s core, the relay and B\'s core, each a process, each durable (an fsync before every ack at every hop); the send is done at the relay\'s verdict.');
  lines.push('- **mosquitto** (MQTT 3.1.1, QoS 1, persistence on): done at the PUBACK; the subscriber holds a persistent session. Persistence writes its file on its autosave interval and at shutdown, not per message.');
  lines.push('- **NATS JetStream** (file-storage stream): done at the PubAck; a durable pull consumer with explicit acks, pulling up to 1,000 at a time (with the client\'s default 100 it fell behind at 256 in flight). The file store is synced on its interval, not per message.');
  lines.push('');
  lines.push(`![Throughput and p99 per system and window](${ctx.chartFile})`);
  lines.push('');
  lines.push('| system | in flight | msg/s | p50 ms | p99 ms | CPU per message, all processes |');
  lines.push('|---|---|---|---|---|---|');
  for (const window of windows) {
    for (const system of SYSTEMS) {
      const run = runs.find((r) => r.system === system && r.window === window);
      if (!run) continue;
      if (!run.figures) {
        lines.push(`| ${SYSTEM_LABELS[system]} | ${window} | skipped: ${run.skipped ?? 'not run'} | | | |`);
        continue;
      }
      const f = run.figures;
      lines.push(`| ${SYSTEM_LABELS[system]} | ${window} | ${n0(f.perSecond)} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${cpuCell(run)} |`);
    }
  }
  lines.push('');
  lines.push("## Issue 17's targets, as ratios (Switchboard ÷ the better of mosquitto over WebSockets and JetStream)");
  lines.push('');
  lines.push('Each measure is set against whichever of the two peers is better on it (most msg/s, lowest p99, least CPU). mosquitto over TCP is shown above for contrast only.');
  lines.push('');
  const comparisons = windows.map((w) => compareAt(runs, w)).filter((c): c is WindowComparison => c !== undefined);
  if (comparisons.length === 0) {
    lines.push('No comparison: neither target peer was measured in this run.');
  } else {
    lines.push('| in flight | msg/s (ours vs theirs) | p99 (ours vs theirs) | CPU per message (ours vs theirs) |');
    lines.push('|---|---|---|---|');
    lines.push(...comparisonRows(comparisons));
  }
  lines.push('');
  return lines.join('\n');
}
