/**
 * A direct `switchboard send` (no core: the CLI opens the store and dials the relay itself)
 * against a relay on loopback, timed from spawn to exit, beside `node -e 0`. What it costs
 * beyond starting Node is loading the store, one hello, one verdict and closing cleanly:
 * anything that keeps the process alive after its answer is durable shows up here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DirectSendFigures {
  sendMs: number;
  nodeMs: number;
  runs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(args: string[], env: NodeJS.ProcessEnv, expected = 0): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: 'ignore', timeout: 60_000 });
  if (r.status !== expected) throw new Error(`${args.join(' ')} exited ${r.status ?? r.signal}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export async function directSendWallTime(root: string, runs: number): Promise<DirectSendFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-direct-'));
  const relayJs = join(root, 'dist', 'relay.js');
  const cli = join(root, 'dist', 'cli.js');
  const relay = spawn(process.execPath, [relayJs, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', join(dir, 'relay')], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('relay did not start')), 30_000);
      relay.stdout!.on('data', (d) => {
        out += d;
        const match = /relay listening on (ws:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      relay.once('exit', () => reject(new Error('relay exited before listening')));
    });
    const token = (user: string) => JSON.parse(spawnSync(process.execPath, [relayJs, 'add-user', user, '--data', join(dir, 'relay'), '--json'], { encoding: 'utf8' }).stdout).token as string;
    const home = join(dir, 'alice');
    const env = { ...process.env, SWITCHBOARD_HOME: home };
    timed([cli, 'init', '--relay', url, '--user', 'alice', '--token', token('alice')], env);
    token('bob');
    timed(['-e', '0'], env);
    timed([cli, 'send', '--to', 'bob', '-m', 'warm'], env);
    const send: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      bare.push(timed(['-e', '0'], env));
      send.push(timed([cli, 'send', '--to', 'bob', '-m', `direct ${i}`], env));
    }
    return { sendMs: median(send), nodeMs: median(bare), runs };
  } finally {
    relay.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
