/**
 * A real nats-server JetStream cluster on 127.0.0.1 for tests: N nodes (default 3), each with
 * its own client, cluster-route and monitoring port (free ones, picked at start) and its own
 * store directory under one temp dir. `start` returns once JetStream has a meta leader that
 * every running node knows and the account answers; a node can be killed with SIGKILL and
 * restarted on the same ports and store dir; `stop` kills what is left and removes the temp
 * dir. Every wait is bounded and names what never happened; every process is reaped with the
 * test process. nats-server is the distribution's (`.ci/run` installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort } from './ports';
import { reapWithThisProcess } from './reap';
import { sleep } from './wait';

/** nats-server's path (PATH, then the sbin directories Debian puts daemons in), or undefined. */
export function findNatsServer(): string | undefined {
  return findBinary('nats-server');
}


interface MetaCluster {
  leader?: string;
  cluster_size?: number;
  replicas?: Array<{ name: string; current: boolean; offline?: boolean }>;
}

/** What a node's monitoring endpoint says about JetStream, or undefined when it does not answer. */
async function jsz(port: number): Promise<{ meta_cluster?: MetaCluster } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/jsz`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return undefined;
    return (await response.json()) as { meta_cluster?: MetaCluster };
  } catch {
    return undefined;
  }
}

export interface NatsNode {
  name: string;
  clientPort: number;
  routePort: number;
  monitorPort: number;
  storeDir: string;
  url: string;
  /** The running process, or undefined while the node is down. */
  process?: ChildProcess;
}

export interface NatsClusterOptions {
  nodes?: number;
  /** Bound for each wait (formation, a restart rejoining). */
  timeoutMs?: number;
}

export class NatsCluster {
  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly nodes: NatsNode[],
    private readonly timeoutMs: number,
    private readonly tails: Map<string, string>,
  ) {}

  /** Client URLs of every node, as a relay's `--nats` takes them. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const binary = findNatsServer();
    if (!binary) throw new Error('nats-server is not installed (bash scripts/apt-install.sh nats-server)');
    const count = options.nodes ?? 3;
    const dir = mkdtempSync(join(tmpdir(), 'sb-nats-cluster-'));
    const nodes: NatsNode[] = [];
    for (let i = 1; i <= count; i++) {
      const clientPort = await freePort();
      const storeDir = join(dir, `n${i}`);
      mkdirSync(storeDir);
      nodes.push({ name: `n${i}`, clientPort, routePort: await freePort(), monitorPort: await freePort(), storeDir, url: `nats://127.0.0.1:${clientPort}` });
    }
    const cluster = new NatsCluster(binary, dir, nodes, options.timeoutMs ?? 30_000, new Map());
    try {
      for (const node of nodes) cluster.writeConfig(node);
      for (const node of nodes) cluster.spawnNode(node);
      await cluster.waitReady();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private writeConfig(node: NatsNode): void {
    const single = this.nodes.length === 1;
    const routes = this.nodes.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.routePort}`);
    const lines = [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.clientPort}`,
      `http: 127.0.0.1:${node.monitorPort}`,
      `jetstream { store_dir: "${node.storeDir}", max_memory_store: 64MB, max_file_store: 1GB }`,
    ];
    // A one-node "cluster" is a plain server: JetStream refuses a cluster block without routes.
    if (!single) lines.push(`cluster { name: sbtest, listen: 127.0.0.1:${node.routePort}, routes: [${routes.join(', ')}] }`);
    writeFileSync(join(this.dir, `${node.name}.conf`), lines.join('\n') + '\n');
  }

  private spawnNode(node: NatsNode): void {
    const child = reapWithThisProcess(spawn(this.binary, ['-c', join(this.dir, `${node.name}.conf`)], { stdio: ['ignore', 'ignore', 'pipe'] }));
    this.tails.set(node.name, '');
    child.stderr!.on('data', (d: Buffer) => this.tails.set(node.name, ((this.tails.get(node.name) ?? '') + String(d)).slice(-4000)));
    node.process = child;
  }

  private running(): NatsNode[] {
    return this.nodes.filter((n) => n.process && n.process.exitCode === null && n.process.signalCode === null);
  }

  /** The last lines a node wrote (for a failure message). */
  logTail(name: string): string {
    return this.tails.get(name) ?? '';
  }

  /**
   * Waits until every running node reports the same meta leader, with every running peer
   * current. For one node: until its JetStream answers.
   */
  async waitReady(timeoutMs = this.timeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      const nodes = this.running();
      const dead = this.nodes.find((n) => n.process && (n.process.exitCode !== null || n.process.signalCode !== null) && !this.killed.has(n.name));
      if (dead) throw new Error(`nats-server ${dead.name} exited (${dead.process!.exitCode}): ${this.logTail(dead.name).trim()}`);
      const answers = await Promise.all(nodes.map((n) => jsz(n.monitorPort)));
      if (this.nodes.length === 1) {
        if (answers[0]) return;
      } else {
        // Every node names the same leader; the leader (only it lists replicas) sees every
        // other running node as a current peer.
        const leaders = new Set(answers.map((a) => a?.meta_cluster?.leader));
        const leaderName = answers[0]?.meta_cluster?.leader;
        const leaderAnswer = answers[nodes.findIndex((n) => n.name === leaderName)]?.meta_cluster;
        const current = new Set((leaderAnswer?.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name));
        if (answers.every((a) => a) && leaders.size === 1 && leaderAnswer && nodes.every((n) => n.name === leaderName || current.has(n.name))) return;
        last = JSON.stringify(answers.map((a) => a?.meta_cluster ?? null));
      }
      if (Date.now() > deadline) throw new Error(`nats cluster not ready after ${timeoutMs} ms: ${last}`);
      await sleep(100);
    }
  }

  private readonly killed = new Set<string>();

  /** The meta leader each running node names now (undefined where none, or no answer), by node. */
  async metaLeaders(): Promise<Record<string, string | undefined>> {
    const nodes = this.running();
    const answers = await Promise.all(nodes.map((n) => jsz(n.monitorPort)));
    return Object.fromEntries(nodes.map((n, i) => [n.name, answers[i]?.meta_cluster?.leader]));
  }

  node(name: string): NatsNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no nats node ${name}`);
    return node;
  }

  /** SIGKILL, then waits (bounded) for the process to be gone. */
  async kill9(name: string): Promise<void> {
    const node = this.node(name);
    const child = node.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killed.add(name);
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, 'SIGKILL');
    await Promise.race([gone, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) throw new Error(`nats-server ${name} (pid ${child.pid}) still alive 5 s after SIGKILL`);
    node.process = undefined;
  }

  /** Starts a killed node again on its ports and store dir; `wait` (default) until it has rejoined. */
  async restart(name: string, wait = true): Promise<void> {
    const node = this.node(name);
    if (node.process) throw new Error(`nats-server ${name} is running`);
    this.killed.delete(name);
    this.spawnNode(node);
    if (wait) await this.waitReady();
  }

  /** Stops every node (SIGTERM, SIGKILL after 3 s) and removes the temp dir. Safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        node.process = undefined;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await Promise.race([gone, sleep(3000)]);
        }
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` with a started cluster; stops it whatever happens. */
export async function withNatsCluster<T>(options: NatsClusterOptions, body: (cluster: NatsCluster) => Promise<T>): Promise<T> {
  const cluster = await NatsCluster.start(options);
  try {
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}
