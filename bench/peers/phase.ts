/**
 * The `peers` phase of `npm run bench`: Switchboard A→B, mosquitto (WebSockets and TCP) and
 * JetStream in one run, at 64 and 256 in flight, one system after another at each window so
 * they share the machine's moment. A peer that is not installed is skipped, saying so; one that
 * fails is reported as failed and the rest still run. Writes docs/benchmarks.md and its chart.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { switchboardEndToEnd, type EndToEndFigures, type EndToEndLoad } from '../end-to-end';
import { findBinary } from '../../test/support/ports';
import { fsyncLatencyMs } from './disk';
import { peerChartSvg } from './chart';
import { compareAt, SYSTEM_LABELS, type SystemName, type SystemRun, type WindowComparison } from './compare';
import { mosquittoRun } from './mqtt-driver';
import { jetstreamRun } from './nats-driver';
import { benchmarksMarkdown } from './report';

export const PEER_WINDOWS = [64, 256] as const;
export const CHART_FILE = 'benchmarks-peers.svg';

export interface PeersResult {
  runs: SystemRun[];
  comparisons: WindowComparison[];
  /** Where the document and chart were written. */
  written: string[];
}

function firstLine(binary: string, args: string[]): string {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]!.trim();
}

function versionIn(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}
const packageVersion = (root: string, name: string) => versionIn(join(root, 'node_modules', name, 'package.json'));

export async function peersBench(root: string, load: Omit<EndToEndLoad, 'window'>, log: (line: string) => void): Promise<PeersResult> {
  const mosquitto = findBinary('mosquitto');
  const nats = findBinary('nats-server');
  const missing = (name: string) => `${name} is not installed (npm run bench:setup installs it)`;
  if (!mosquitto) log(`  skipping mosquitto: ${missing('mosquitto')}`);
  if (!nats) log(`  skipping JetStream: ${missing('nats-server')}`);

  const drivers: Record<SystemName, ((l: EndToEndLoad) => Promise<EndToEndFigures>) | string> = {
    switchboard: (l) => switchboardEndToEnd(l, root),
    'mosquitto-ws': mosquitto ? (l) => mosquittoRun(mosquitto, 'ws', l) : missing('mosquitto'),
    'mosquitto-tcp': mosquitto ? (l) => mosquittoRun(mosquitto, 'tcp', l) : missing('mosquitto'),
    jetstream: nats ? (l) => jetstreamRun(nats, l) : missing('nats-server'),
  };
  const loadBefore = loadavg()[0]!;
  const syncBefore = fsyncLatencyMs();
  const runs: SystemRun[] = [];
  for (const window of PEER_WINDOWS) {
    for (const [system, driver] of Object.entries(drivers) as [SystemName, (typeof drivers)[SystemName]][]) {
      if (typeof driver === 'string') {
        runs.push({ system, window, skipped: driver });
        continue;
      }
      try {
        const figures = await driver({ ...load, window });
        runs.push({ system, window, figures });
        const cpu = Object.entries(figures.cpuUsPerMessage).map(([k, us]) => `${k} ${us.toFixed(0)}`).join(', ');
        log(`  ${SYSTEM_LABELS[system]}, ${window} in flight: ${figures.perSecond.toFixed(0)} msg/s, p50 ${figures.p50Ms.toFixed(1)} / p99 ${figures.p99Ms.toFixed(1)} ms; CPU µs per message: ${cpu}`);
      } catch (error) {
        const reason = `failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
        log(`  ${SYSTEM_LABELS[system]}, ${window} in flight: ${reason}`);
        runs.push({ system, window, skipped: reason });
      }
    }
  }
  const loadAfter = loadavg()[0]!;
  const syncAfter = fsyncLatencyMs();
  const sync = (f: { p50: number; p99: number }) => `p50 ${f.p50.toFixed(2)} / p99 ${f.p99.toFixed(1)} ms`;
  log(`  4 KiB write + fdatasync in the temp directory: ${sync(syncBefore)} before, ${sync(syncAfter)} after`);
  const comparisons = PEER_WINDOWS.map((w) => compareAt(runs, w)).filter((c): c is WindowComparison => c !== undefined);

  const versions = [
    `Switchboard ${versionIn(join(root, 'package.json'))} at commit ${firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']) || 'unknown'}`,
    mosquitto ? `${firstLine(mosquitto, ['-h'])} with mqtt.js ${packageVersion(root, 'mqtt')}` : 'mosquitto: not installed',
    nats ? `${firstLine(nats, ['--version'])} with @nats-io/transport-node ${packageVersion(root, '@nats-io/transport-node')} and @nats-io/jetstream ${packageVersion(root, '@nats-io/jetstream')}` : 'nats-server: not installed',
    `Node ${process.version}`,
  ];
  const machine = `${cpus().length} cores, shared with other engineers' work and loaded while these figures were taken (1-minute load average ${loadBefore.toFixed(2)} before the phase, ${loadAfter.toFixed(2)} after; a 4 KiB write + fdatasync in the temp directory the systems' data lived in took ${sync(syncBefore)} before, ${sync(syncAfter)} after): compare the systems with each other, within this run, not with another machine's figures`;
  const docs = join(root, 'docs');
  const md = benchmarksMarkdown(runs, PEER_WINDOWS, { takenAt: new Date().toISOString().replace(/\.\d+Z$/, ' UTC').replace('T', ' '), machine, versions, load, chartFile: CHART_FILE });
  writeFileSync(join(docs, 'benchmarks.md'), md);
  writeFileSync(join(docs, CHART_FILE), peerChartSvg(runs, PEER_WINDOWS));
  return { runs, comparisons, written: [join(docs, 'benchmarks.md'), join(docs, CHART_FILE)] };
}
