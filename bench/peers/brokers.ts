/**
 * The peer brokers as the bench runs them: found on the machine (bench/setup-peers.sh installs
 * them), started on 127.0.0.1 with their own temp config and data directory, stopped by PID.
 * Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stopGracefully } from '../live';
import { findBinary, freePort } from '../../test/support/ports';

export interface Broker {
  pid: number;
  /** Ports by listener name (mosquitto: tcp, ws; nats: tcp). */
  ports: Record<string, number>;
  stop(): Promise<void>;
}



function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Spawns the broker, waits (≤ 15 s) for every port to accept, and keeps its stderr's tail for errors. */
async function launch(binary: string, args: string[], ports: Record<string, number>, dir: string): Promise<Broker> {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => (tail = (tail + String(d)).slice(-2000)));
  const stop = async (): Promise<void> => {
    await stopGracefully(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (const port of Object.values(ports)) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`${binary} did not start: ${tail.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { pid: child.pid!, ports, stop };
}

/**
 * mosquitto with persistence on, one TCP and one WebSockets listener (2.0.11 will not start
 * with a WebSockets listener alone). Limits are the defaults but for the queue per client:
 * its default (1,000) would drop QoS 1 messages when the subscriber falls behind the
 * publisher's acks, and a bench that loses messages measures nothing.
 */
export async function startMosquitto(binary: string): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-mosquitto-'));
  const ports = { tcp: await freePort(), ws: await freePort() };
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      // Run as whoever runs the bench: as root, mosquitto would otherwise switch to its own
      // user and could not write its persistence file into this (0700) directory.
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'allow_anonymous true',
      'max_queued_messages 1000000',
      `listener ${ports.tcp} 127.0.0.1`,
      `listener ${ports.ws} 127.0.0.1`,
      'protocol websockets',
      '',
    ].join('\n'),
  );
  return launch(binary, ['-c', config], ports, dir);
}

/** nats-server with JetStream, its store in a temp directory (file streams live there). */
export async function startNats(binary: string): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-nats-'));
  const ports = { tcp: await freePort() };
  return launch(binary, ['-a', '127.0.0.1', '-p', String(ports.tcp), '-js', '-sd', join(dir, 'jetstream')], ports, dir);
}
