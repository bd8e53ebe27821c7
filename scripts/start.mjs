// `npm start`: a working local setup on embedded defaults. Starts a relay on 127.0.0.1, creates
// the local user on it if needed, configures the home and starts its core, then says what to
// try next. Stays in the foreground running the relay; Ctrl-C stops relay and core.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const relayBundle = join(root, 'dist', 'relay.js');
const home = resolve(process.env.SWITCHBOARD_HOME ?? join(homedir(), '.switchboard'));
const relayData = resolve(process.env.SWITCHBOARD_RELAY_DATA ?? join(homedir(), '.switchboard-relay'));
const port = Number(process.env.SWITCHBOARD_RELAY_PORT ?? 8787);
// A name the relay takes (protocol/names.ts: letters, digits, ".", "_", "-", starting with a
// letter or digit, case-insensitive and kept in lower case); `relay add-user` enforces the rule.
const user =
  (process.env.SWITCHBOARD_USER ?? userInfo().username)
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '')
    .replace(/^[._-]+/, '')
    .slice(0, 64) || 'me';
const env = { ...process.env, SWITCHBOARD_HOME: home };

function sb(args, options = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', ...options });
  if (r.status !== 0 && !options.allowFail) {
    process.stderr.write(r.stderr || r.stdout);
    process.exit(r.status ?? 1);
  }
  return r;
}

// The local user's token is created once and kept beside the relay's data (0600).
mkdirSync(relayData, { recursive: true, mode: 0o700 });
const tokenFile = join(relayData, `${user}.token`);
if (!existsSync(tokenFile)) {
  const r = spawnSync(process.execPath, [relayBundle, 'add-user', user, '--data', relayData, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  writeFileSync(tokenFile, JSON.parse(r.stdout).token + '\n', { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
}

const relay = spawn(process.execPath, [relayBundle, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', relayData], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolveReady, reject) => {
  relay.stdout.on('data', (d) => {
    process.stdout.write(d);
    if (String(d).includes('relay listening')) resolveReady();
  });
  relay.on('exit', (code) => reject(new Error(`the relay exited with code ${code}; is port ${port} taken? set SWITCHBOARD_RELAY_PORT`)));
}).catch((error) => {
  process.stderr.write(`switchboard: ${error.message}\n`);
  process.exit(1);
});

sb(['init', '--relay', `ws://127.0.0.1:${port}`, '--user', user, '--token-file', tokenFile]);
const daemon = sb(['daemon', 'start']).stdout;
process.stdout.write(daemon);
// A core that was already running is not ours to stop when the relay dies.
const startedCore = daemon.startsWith('core started');
process.stdout.write(`
Switchboard is running: relay on ws://127.0.0.1:${port}, core for ${user} in ${home}.
Try:
  ${join(root, 'bin', 'switchboard')} send --to ${user} -m hi
  ${join(root, 'bin', 'switchboard')} inbox
(or \`npm link\` once to have \`switchboard\` on your PATH). Ctrl-C stops the relay and the core.
`);

let stopping = false;
const shutdown = () => {
  stopping = true;
  sb(['daemon', 'stop'], { allowFail: true });
  relay.kill('SIGTERM');
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
relay.on('exit', (code, signal) => {
  if (stopping) process.exit(0);
  // Not asked to stop: the relay died under us. Say so, stop the core we started, fail.
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  process.stderr.write(`switchboard: the relay (pid ${relay.pid}) ${how}; ${startedCore ? 'stopping the core started for it' : 'the core that was already running is left running'}\n`);
  if (startedCore) sb(['daemon', 'stop'], { allowFail: true });
  process.exit(1);
});
