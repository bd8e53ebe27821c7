/**
 * The peer comparison's pure parts: the median round, the ratios against the better peer, the
 * chart and the document. A wrong pick or a flipped ratio would flatter Switchboard in
 * docs/benchmarks.md, so each is pinned here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAt, medianBy, totalCpuUs, type RunFigures, type SystemRun } from '../../bench/peers/compare';
import { escapeXml, niceCeiling, peerChartSvg } from '../../bench/peers/chart';
import { benchmarksMarkdown } from '../../bench/peers/report';

const fig = (perSecond: number, p99Ms: number, cpu: Record<string, number>): RunFigures => ({ perSecond, p50Ms: p99Ms / 2, p99Ms, cpuUsPerMessage: cpu });

const RUNS: SystemRun[] = [
  { system: 'switchboard', window: 64, figures: fig(4000, 30, { relay: 100, 'a core': 150 }) },
  { system: 'mosquitto-ws', window: 64, figures: fig(10_000, 12, { mosquitto: 60, bench: 90 }) },
  { system: 'mosquitto-tcp', window: 64, figures: fig(20_000, 5, { mosquitto: 10, bench: 20 }) },
  { system: 'jetstream', window: 64, figures: fig(8000, 10, { 'nats-server': 45, bench: 140 }) },
  { system: 'switchboard', window: 256, figures: fig(7000, 60, { relay: 100 }) },
  { system: 'mosquitto-ws', window: 256, skipped: 'mosquitto is not installed' },
  { system: 'jetstream', window: 256, figures: fig(14_000, 40, { 'nats-server': 50, bench: 70 }) },
];

test('medianBy: the middle element by key, whatever the order; the upper middle of an even count', () => {
  const rounds = [{ r: 9 }, { r: 1 }, { r: 5 }];
  assert.equal(medianBy(rounds, (x) => x.r).r, 5);
  assert.equal(medianBy([{ r: 3 }, { r: 1 }, { r: 4 }, { r: 2 }], (x) => x.r).r, 3);
  assert.deepEqual(rounds, [{ r: 9 }, { r: 1 }, { r: 5 }], 'the input is not reordered');
  assert.throws(() => medianBy([], (x: number) => x));
});

test('compareAt: each measure against the better target peer on it, ours ÷ theirs; TCP MQTT is never the bar', () => {
  const c = compareAt(RUNS, 64)!;
  // mosquitto over TCP is fastest of all, but the targets name WebSockets and JetStream.
  assert.deepEqual(c.throughput, { peer: 'mosquitto-ws', theirs: 10_000, ours: 4000, ratio: 0.4 });
  assert.deepEqual(c.p99, { peer: 'jetstream', theirs: 10, ours: 30, ratio: 3 });
  assert.equal(totalCpuUs(RUNS[0]!.figures!), 250);
  assert.deepEqual(c.cpu, { peer: 'mosquitto-ws', theirs: 150, ours: 250, ratio: 250 / 150 });
});

test('compareAt: a skipped peer is left out; no comparison without a target peer or without Switchboard', () => {
  const c = compareAt(RUNS, 256)!;
  assert.equal(c.throughput.peer, 'jetstream');
  assert.equal(c.throughput.ratio, 0.5);
  assert.equal(compareAt(RUNS.filter((r) => r.system !== 'jetstream'), 256), undefined);
  assert.equal(compareAt(RUNS.filter((r) => r.system !== 'switchboard'), 64), undefined);
});

test('niceCeiling: the axis top is at or above the tallest bar, a 1-2-5 step', () => {
  assert.equal(niceCeiling(14_000), 20_000);
  assert.equal(niceCeiling(10_000), 10_000);
  assert.equal(niceCeiling(41), 50);
  assert.equal(niceCeiling(0), 1);
});

test('peerChartSvg: one bar per measured system and window in each panel, heights in proportion, text escaped', () => {
  const svg = peerChartSvg(RUNS, [64, 256]);
  const bars = [...svg.matchAll(/<rect data-system="([^"]+)" data-window="(\d+)" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"/g)];
  // 6 measured runs, once for throughput and once for p99.
  assert.equal(bars.length, 12);
  const height = (system: string, window: string) => Number(bars.find((b) => b[1] === system && b[2] === window)![4]);
  // Throughput panel (first): 20,000 on an axis to 20,000 is the full plot; 10,000 half of it.
  assert.equal(height('mosquitto-ws', '64'), height('mosquitto-tcp', '64') / 2);
  assert.equal(height('switchboard', '64') / height('mosquitto-ws', '64'), 0.4);
  assert.match(svg, /n\/a/, 'a skipped system is marked, not drawn as zero');
  assert.equal(escapeXml('a<b & "c">'), 'a&lt;b &amp; &quot;c&quot;&gt;');
  assert.doesNotMatch(svg, /&(?!amp;|lt;|gt;|quot;)/, 'no bare ampersand');
});

test('benchmarksMarkdown: the table row per run, the skip said, the ratios with their targets, the chart linked', () => {
  const md = benchmarksMarkdown(RUNS, [64, 256], {
    takenAt: '2026-12-03 13:00 UTC',
    machine: '2 cores, shared and loaded',
    versions: ['mosquitto 2.0.11'],
    load: { count: 10_000, repeats: 3, warmup: 2000 },
    chartFile: 'benchmarks-peers.svg',
  });
  assert.match(md, /2026-12-03 13:00 UTC/);
  assert.match(md, /shared and loaded/);
  assert.match(md, /!\[[^\]]*\]\(benchmarks-peers\.svg\)/);
  assert.match(md, /\| Switchboard A→B \(durable at three hops\) \| 64 \| 4,000 \| 15\.0 \| 30\.0 \| 250 µs \(relay 100, a core 150\) \|/);
  assert.match(md, /\| mosquitto, MQTT QoS 1 over WebSockets \| 256 \| skipped: mosquitto is not installed \|/);
  assert.match(md, /\| 64 \| 4,000 msg\/s vs 10,000 msg\/s \(mosquitto WS\): \*\*0\.40×\*\* \(target ≥ 1\.0×, not met\)/);
  assert.match(md, /30\.0 ms vs 10\.0 ms \(JetStream\): \*\*3\.00×\*\* \(target ≤ 1\.0×, not met\)/);
  assert.match(md, /250 µs vs 150 µs \(mosquitto WS\): \*\*1\.67×\*\* \(target ≤ 1\.0×, not met\)/);
  assert.match(md, /\| 256 \| 7,000 msg\/s vs 14,000 msg\/s \(JetStream\): \*\*0\.50×\*\*/);
  assert.match(md, /median \(by throughput\) of 3 rounds of 10,000/);
});

test('benchmarksMarkdown: a target that holds says met', () => {
  const fast: SystemRun[] = [
    { system: 'switchboard', window: 64, figures: fig(20_000, 5, { all: 50 }) },
    { system: 'jetstream', window: 64, figures: fig(10_000, 10, { all: 100 }) },
  ];
  const md = benchmarksMarkdown(fast, [64], { takenAt: 't', machine: 'm', versions: [], load: { count: 1, repeats: 1, warmup: 1 }, chartFile: 'c.svg' });
  assert.match(md, /\*\*2\.00×\*\* \(target ≥ 1\.0×, met\)/);
  assert.match(md, /\*\*0\.50×\*\* \(target ≤ 1\.0×, met\)/);
});
