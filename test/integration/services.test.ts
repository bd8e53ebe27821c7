/**
 * `daemon install|uninstall` and `relay install|uninstall` through the built CLI, as child
 * processes, in a temp HOME and XDG_CONFIG_HOME. The service manager is a script that records its
 * argv (SWITCHBOARD_SYSTEMCTL / SWITCHBOARD_LAUNCHCTL), so no unit is ever enabled in this
 * machine's own session and the tests see the exact commands run. The written ExecStart is run
 * for real (a core answers on the home's socket; a relay prints its listening line), and
 * `systemd-analyze verify` checks the unit where the machine has it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { homePaths } from '../../lib/node/paths';
import { parseExecStart, serviceName } from '../../lib/node/service/units';
import { socketAnswers } from '../../server/socket-probe';
import { DAEMON, ROOT, run, told, type RunResult } from '../support/cli';
import { reapWithThisProcess } from '../support/reap';
import { waitFor } from '../support/wait';

const root = mkdtempSync(join(tmpdir(), 'sb-svc-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** Records each call as its arguments joined by `|`; fails (as a missing user session does) when an argument equals $FAKE_FAIL. */
const FAKE_SYSTEMCTL = `#!/bin/sh
for a in "$@"; do printf '%s|' "$a" >> "$FAKE_LOG"; done; echo >> "$FAKE_LOG"
for a in "$@"; do if [ "$a" = "$FAKE_FAIL" ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi; done
exit 0
`;

/** A launchd that keeps one agent's loaded state in a file: print <domain>/<label> answers 0 only while bootstrapped. */
const FAKE_LAUNCHCTL = `#!/bin/sh
for a in "$@"; do printf '%s|' "$a" >> "$FAKE_LOG"; done; echo >> "$FAKE_LOG"
case "$1" in
  print) case "$2" in gui/*/*) [ -f "$FAKE_STATE" ] && exit 0; exit 113;; esac; exit 0;;
  bootstrap) touch "$FAKE_STATE";;
  bootout) [ -f "$FAKE_STATE" ] || exit 3; rm -f "$FAKE_STATE";;
esac
exit 0
`;

interface Machine {
  dir: string;
  home: string;
  config: string;
  log: string;
  env: NodeJS.ProcessEnv;
  calls(): string[];
  sb(args: string[], extra?: NodeJS.ProcessEnv): Promise<RunResult>;
}

/** A fresh user: HOME, XDG_CONFIG_HOME, a switchboard home (not the default one) and a recording service manager. */
function machine(manager: 'systemd' | 'launchd' = 'systemd'): Machine {
  const dir = join(root, `m${++counter}`);
  mkdirSync(dir);
  const home = join(dir, 'sb home');
  const config = join(dir, 'config');
  const log = join(dir, 'calls');
  const script = join(dir, manager === 'systemd' ? 'systemctl' : 'launchctl');
  writeFileSync(script, manager === 'systemd' ? FAKE_SYSTEMCTL : FAKE_LAUNCHCTL);
  chmodSync(script, 0o755);
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    XDG_CONFIG_HOME: config,
    SWITCHBOARD_SERVICE_MANAGER: manager,
    [manager === 'systemd' ? 'SWITCHBOARD_SYSTEMCTL' : 'SWITCHBOARD_LAUNCHCTL']: script,
    FAKE_LOG: log,
    FAKE_STATE: join(dir, 'loaded'),
    FAKE_FAIL: '',
  };
  return {
    dir,
    home,
    config,
    log,
    env,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => l.replace(/\|$/, '').replace(/\|/g, ' ')) : []),
    sb: (args, extra = {}) => run(home, args, { env: { ...env, ...extra }, timeoutMs: 60_000 }),
  };
}

function unitPath(m: Machine): string {
  return join(m.config, 'systemd', 'user', `${serviceName('core', m.home, false)}.service`);
}

function key(unit: string, name: string): string {
  const match = new RegExp(`^${name}=(.*)$`, 'm').exec(unit);
  assert.ok(match, `${name}= in\n${unit}`);
  return match[1]!;
}

describe('daemon install | uninstall (systemd)', () => {
  test('writes a unit that runs this node and daemon.js for this home, restarts on failure, logs to core.log, and enables it', async () => {
    const m = machine();
    const r = await m.sb(['daemon', 'install']);
    assert.equal(r.code, 0, told(['daemon', 'install'], r));
    const path = unitPath(m);
    const unit = readFileSync(path, 'utf8');
    assert.ok(unit.startsWith('# Written by switchboard'), unit);
    assert.deepEqual(parseExecStart(key(unit, 'ExecStart')), [process.execPath, DAEMON, '--home', m.home]);
    assert.equal(key(unit, 'Restart'), 'on-failure');
    const log = homePaths(m.home).log;
    assert.equal(key(unit, 'StandardOutput'), `append:${log}`);
    assert.equal(key(unit, 'StandardError'), `append:${log}`);
    // The log exists before the manager opens it, private as the core's own.
    assert.equal(statSync(log).mode & 0o777, 0o600);
    const name = `${serviceName('core', m.home, false)}.service`;
    assert.deepEqual(m.calls(), ['--user daemon-reload', `--user enable --now ${name}`]);
    assert.match(r.stdout, new RegExp(`^wrote ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(systemd user unit ${name}\\):$`, 'm'));
    assert.match(r.stdout, /^ {2}log: {5}.*core\.log$/m);
    assert.match(r.stdout, /^enabled and started: systemctl --user daemon-reload && systemctl --user enable --now /m);
    // `status` names the same file as the log.
    const status = await m.sb(['status']);
    assert.ok(status.stdout.split('\n').includes(`log:       ${log}`), status.stdout);
  });

  test('a second install leaves the same bytes and says unchanged; a changed one is rewritten and restarted', async () => {
    const m = machine();
    assert.equal((await m.sb(['daemon', 'install'])).code, 0);
    const first = readFileSync(unitPath(m));
    const again = await m.sb(['daemon', 'install', '--json']);
    assert.equal(again.code, 0, told(['daemon', 'install'], again));
    const report = JSON.parse(again.stdout) as { action: string; enabled: boolean; path: string; exec: string[] };
    assert.equal(report.action, 'unchanged');
    assert.equal(report.enabled, true);
    assert.equal(report.path, unitPath(m));
    assert.deepEqual(readFileSync(unitPath(m)), first);
    const name = `${serviceName('core', m.home, false)}.service`;
    const changed = await m.sb(['daemon', 'install', '--event-retention', '7d']);
    assert.equal(changed.code, 0, told(['daemon', 'install'], changed));
    assert.match(changed.stdout, /^rewrote /m);
    assert.deepEqual(parseExecStart(key(readFileSync(unitPath(m), 'utf8'), 'ExecStart')).slice(-2), ['--event-retention', '7d']);
    assert.deepEqual(m.calls().slice(-3), ['--user daemon-reload', `--user enable --now ${name}`, `--user restart ${name}`]);
  });

  test('--home and SWITCHBOARD_HOME name the same unit; two homes get two', async () => {
    const m = machine();
    const other = join(m.dir, 'other');
    assert.equal((await m.sb(['daemon', 'install'])).code, 0);
    const viaFlag = await m.sb(['--home', m.home, 'daemon', 'install', '--json'], { SWITCHBOARD_HOME: other });
    assert.equal(JSON.parse(viaFlag.stdout).action, 'unchanged', viaFlag.stdout);
    const second = await m.sb(['daemon', 'install', '--json'], { SWITCHBOARD_HOME: other });
    const report = JSON.parse(second.stdout) as { path: string; action: string; exec: string[] };
    assert.equal(report.action, 'created');
    assert.notEqual(report.path, unitPath(m));
    assert.deepEqual(report.exec.slice(-2), ['--home', other]);
    assert.ok(existsSync(unitPath(m)));
  });

  test('a unit switchboard did not write is neither overwritten nor removed, byte for byte', async () => {
    const m = machine();
    const path = unitPath(m);
    mkdirSync(join(m.config, 'systemd', 'user'), { recursive: true });
    const foreign = '[Unit]\nDescription=mine, hands off\n\n[Service]\nExecStart=/bin/true\n';
    writeFileSync(path, foreign);
    const r = await m.sb(['daemon', 'install']);
    assert.equal(r.code, 1, told(['daemon', 'install'], r));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /exists and was not written by switchboard; not overwriting it; move it aside \(or remove it\) and run this again/);
    const json = await m.sb(['daemon', 'install', '--json']);
    assert.equal(JSON.parse(json.stderr).error.code, 'not_ours');
    const u = await m.sb(['daemon', 'uninstall']);
    assert.equal(u.code, 1, told(['daemon', 'uninstall'], u));
    assert.match(u.stderr, /not written by switchboard; not removing it/);
    assert.equal(readFileSync(path, 'utf8'), foreign);
    assert.deepEqual(m.calls(), [], 'the manager is never asked about a foreign unit');
  });

  test('uninstall stops, disables and removes our unit; a second says nothing is installed', async () => {
    const m = machine();
    assert.equal((await m.sb(['daemon', 'install'])).code, 0);
    const name = `${serviceName('core', m.home, false)}.service`;
    const before = m.calls().length;
    const r = await m.sb(['daemon', 'uninstall']);
    assert.equal(r.code, 0, told(['daemon', 'uninstall'], r));
    assert.equal(existsSync(unitPath(m)), false);
    assert.deepEqual(m.calls().slice(before), ['--user daemon-reload', `--user disable --now ${name}`, '--user daemon-reload']);
    assert.match(r.stdout, /^removed .* \(systemd user unit /m);
    const again = await m.sb(['daemon', 'uninstall', '--json']);
    assert.equal(again.code, 0);
    assert.equal(JSON.parse(again.stdout).action, 'absent');
    const plain = await m.sb(['daemon', 'uninstall']);
    assert.match(plain.stdout, /^no core service installed here: .* does not exist$/m);
  });

  test('without a user systemd session: the unit is written, not enabled, the command to enable it printed, exit 0', async () => {
    const m = machine();
    const r = await m.sb(['daemon', 'install', '--json'], { FAKE_FAIL: 'daemon-reload' });
    assert.equal(r.code, 0, told(['daemon', 'install'], r));
    const report = JSON.parse(r.stdout) as { enabled: boolean; not_enabled_reason: string; enable_command: string; unit: string };
    assert.equal(report.enabled, false);
    assert.match(report.not_enabled_reason, /Failed to connect to bus/);
    assert.equal(report.enable_command, `systemctl --user daemon-reload && systemctl --user enable --now ${report.unit}`);
    assert.ok(existsSync(unitPath(m)));
    assert.deepEqual(m.calls(), ['--user daemon-reload'], 'nothing is enabled once the manager does not answer');
    const missing = await m.sb(['daemon', 'install'], { SWITCHBOARD_SYSTEMCTL: join(m.dir, 'no-such-systemctl') });
    assert.equal(missing.code, 0);
    assert.match(missing.stdout, /^not enabled: systemctl was not found; enable it with: systemctl --user daemon-reload && systemctl --user enable --now /m);
    // Uninstall still removes it, and the wants link `enable` made, which nothing could disable.
    const wants = join(m.config, 'systemd', 'user', 'default.target.wants');
    mkdirSync(wants);
    symlinkSync(unitPath(m), join(wants, report.unit));
    const u = await m.sb(['daemon', 'uninstall'], { FAKE_FAIL: 'daemon-reload' });
    assert.equal(u.code, 0, told(['daemon', 'uninstall'], u));
    assert.match(u.stdout, /^not stopped: .*Failed to connect to bus/m);
    assert.equal(existsSync(unitPath(m)), false);
    // lstat, not exists: a dangling link does not "exist" to existsSync.
    assert.throws(() => lstatSync(join(wants, report.unit)), { code: 'ENOENT' });
  });

  test('a manager that answers and then refuses: exit 1, the unit stays written, the line says what to run', async () => {
    const m = machine();
    const r = await m.sb(['daemon', 'install'], { FAKE_FAIL: 'enable' });
    assert.equal(r.code, 1, told(['daemon', 'install'], r));
    assert.ok(existsSync(unitPath(m)));
    assert.match(r.stderr, /is written but not enabled: `systemctl --user enable --now .*` exited 1: Failed to connect to bus.*; fix that, then run: systemctl --user daemon-reload && /);
  });

  test('--dry-run shows the whole file and writes, creates and runs nothing; the install after it writes exactly that', async () => {
    const m = machine();
    const dry = await m.sb(['daemon', 'install', '--dry-run', '--json']);
    assert.equal(dry.code, 0, told(['daemon', 'install', '--dry-run'], dry));
    const report = JSON.parse(dry.stdout) as { dry_run: boolean; action: string; content: string; enabled: boolean };
    assert.equal(report.dry_run, true);
    assert.equal(report.action, 'created');
    assert.equal(report.enabled, false);
    assert.equal(existsSync(m.config), false, 'no directory made');
    assert.equal(existsSync(homePaths(m.home).log), false, 'no log made');
    assert.deepEqual(m.calls(), []);
    const human = await m.sb(['daemon', 'install', '--dry-run']);
    assert.match(human.stdout, /^would write .*\n[\s\S]*^nothing written or enabled \(--dry-run\)/m);
    assert.ok(human.stdout.includes(report.content.trimEnd()), 'the human form shows the file too');
    assert.equal((await m.sb(['daemon', 'install'])).code, 0);
    assert.equal(readFileSync(unitPath(m), 'utf8'), report.content);
  });

  test('a core already running for the home (started outside the service) is named, with how to hand over', async () => {
    const m = machine();
    const start = await m.sb(['daemon', 'start']);
    assert.equal(start.code, 0, told(['daemon', 'start'], start));
    try {
      const r = await m.sb(['daemon', 'install', '--json']);
      assert.equal(r.code, 0, told(['daemon', 'install'], r));
      JSON.parse(r.stdout);
      assert.match(r.stderr, /^switchboard: note: a core already runs for this home \(pid \d+\); the service's core retries every 5 s until it stops: `switchboard daemon stop` hands over now/);
    } finally {
      assert.equal((await m.sb(['daemon', 'stop'])).code, 0);
    }
    const quiet = await m.sb(['daemon', 'install']);
    assert.equal(quiet.stderr, '', 'no note once no core answers');
  });

  test('XDG_CONFIG_HOME unset: the unit goes to ~/.config/systemd/user', async () => {
    const m = machine();
    const r = await m.sb(['daemon', 'install', '--json'], { XDG_CONFIG_HOME: '' });
    assert.equal(r.code, 0, told(['daemon', 'install'], r));
    assert.equal(JSON.parse(r.stdout).path, join(m.dir, '.config', 'systemd', 'user', `${serviceName('core', m.home, false)}.service`));
  });

  test('systemd-analyze verify accepts the written unit', async (t) => {
    if (spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).error) {
      t.skip('no systemd-analyze on this machine');
      return;
    }
    const m = machine();
    assert.equal((await m.sb(['daemon', 'install'])).code, 0);
    // A runtime dir of its own: verify --user needs one, and must not touch the session's.
    const runtime = join(m.dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const r = spawnSync('systemd-analyze', ['verify', '--user', unitPath(m)], { encoding: 'utf8', env: { ...process.env, ...m.env, XDG_RUNTIME_DIR: runtime } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning about the unit');
  });

  test("the unit's ExecStart, run as written, serves this home's core", async () => {
    const m = machine();
    assert.equal((await m.sb(['daemon', 'install'])).code, 0);
    const [node, ...args] = parseExecStart(key(readFileSync(unitPath(m), 'utf8'), 'ExecStart'));
    // A service gets no SWITCHBOARD_HOME: the unit itself must name the home.
    const env = { ...process.env };
    delete env.SWITCHBOARD_HOME;
    const core = reapWithThisProcess(spawn(node!, args, { env, stdio: 'ignore' }));
    try {
      // Its answer to status, not a bare connect: the core answering is the unit's, serving this home.
      await waitFor(
        'the core to answer status on the home socket',
        async () => {
          if (!(await socketAnswers(homePaths(m.home).socket))) return undefined;
          const status = await run(m.home, ['status', '--json'], { env: m.env, timeoutMs: 30_000 });
          return status.code === 0 && JSON.parse(status.stdout).core_running === true ? true : undefined;
        },
        30_000,
      );
    } finally {
      const exited = new Promise<number | null>((resolve) => core.once('exit', (code) => resolve(code)));
      core.kill('SIGTERM');
      assert.equal(await exited, 0, 'SIGTERM is a clean stop (exit 0), which Restart=on-failure leaves stopped');
    }
  });
});

describe('daemon install | uninstall (launchd)', () => {
  test('writes the agent into ~/Library/LaunchAgents, bootstraps it in gui/<uid>, and boots it out on uninstall', async () => {
    const m = machine('launchd');
    const r = await m.sb(['daemon', 'install', '--json']);
    assert.equal(r.code, 0, told(['daemon', 'install'], r));
    const report = JSON.parse(r.stdout) as { path: string; unit: string; enabled: boolean };
    const label = serviceName('core', m.home, false).replace(/-/g, '.');
    assert.equal(report.unit, label);
    assert.equal(report.path, join(m.dir, 'Library', 'LaunchAgents', `${label}.plist`));
    assert.equal(report.enabled, true);
    const plist = readFileSync(report.path, 'utf8');
    assert.match(plist, /<key>SwitchboardService<\/key><string>core<\/string>/);
    assert.ok(plist.includes(`<string>${DAEMON}</string>`));
    const domain = `gui/${process.getuid!()}`;
    assert.deepEqual(m.calls(), [`print ${domain}`, `print ${domain}/${label}`, `enable ${domain}/${label}`, `bootstrap ${domain} ${report.path}`]);
    // Loaded and unchanged: nothing is booted out or in again.
    const again = await m.sb(['daemon', 'install', '--json']);
    assert.equal(JSON.parse(again.stdout).action, 'unchanged');
    assert.deepEqual(m.calls().slice(4), [`print ${domain}`, `print ${domain}/${label}`]);
    const u = await m.sb(['daemon', 'uninstall']);
    assert.equal(u.code, 0, told(['daemon', 'uninstall'], u));
    assert.deepEqual(m.calls().slice(6), [`print ${domain}`, `print ${domain}/${label}`, `bootout ${domain}/${label}`]);
    assert.equal(existsSync(report.path), false);
  });

  test('a plist without our key is left alone', async () => {
    const m = machine('launchd');
    const label = serviceName('core', m.home, false).replace(/-/g, '.');
    const path = join(m.dir, 'Library', 'LaunchAgents', `${label}.plist`);
    mkdirSync(join(m.dir, 'Library', 'LaunchAgents'), { recursive: true });
    const foreign = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>Label</key><string>mine</string></dict></plist>\n';
    writeFileSync(path, foreign);
    assert.equal((await m.sb(['daemon', 'install'])).code, 1);
    assert.equal((await m.sb(['daemon', 'uninstall'])).code, 1);
    assert.equal(readFileSync(path, 'utf8'), foreign);
  });
});

describe('relay install | uninstall', () => {
  test('writes a unit that serves this data dir on the given address, logs to <data>/relay.log, and runs as written', async () => {
    const m = machine();
    const data = join(m.dir, 'relay data');
    const r = await m.sb(['relay', 'install', '--data', data, '--port', '0', '--json']);
    assert.equal(r.code, 0, told(['relay', 'install'], r));
    const report = JSON.parse(r.stdout) as { path: string; unit: string; log: string; exec: string[] };
    const unit = readFileSync(report.path, 'utf8');
    const exec = parseExecStart(key(unit, 'ExecStart'));
    assert.deepEqual(exec, [process.execPath, join(ROOT, 'dist', 'relay.js'), 'serve', '--data', data, '--host', '127.0.0.1', '--port', '0']);
    assert.deepEqual(report.exec, exec);
    assert.equal(key(unit, 'StandardError'), `append:${join(data, 'relay.log')}`);
    assert.equal(key(unit, 'Restart'), 'on-failure');
    assert.deepEqual(m.calls(), ['--user daemon-reload', `--user enable --now ${report.unit}`]);
    assert.equal(statSync(data).mode & 0o777, 0o700);
    const [node, ...args] = exec;
    const relay = reapWithThisProcess(spawn(node!, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        relay.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        relay.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
      });
      assert.match(line, /^relay listening on ws:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      const exited = new Promise<string>((resolve) => relay.once('exit', (code, signal) => resolve(`${code} ${signal}`)));
      relay.kill('SIGTERM');
      assert.equal(await exited, '0 null');
    }
    const again = await m.sb(['relay', 'install', '--data', data, '--port', '0', '--json']);
    assert.equal(JSON.parse(again.stdout).action, 'unchanged');
    const u = await m.sb(['relay', 'uninstall', '--data', data]);
    assert.equal(u.code, 0, told(['relay', 'uninstall'], u));
    assert.equal(existsSync(report.path), false);
    // Someone else's unit at that path stays as it is; --json says not_ours.
    writeFileSync(report.path, '[Service]\nExecStart=/bin/true\n');
    const foreign = await m.sb(['relay', 'install', '--data', data, '--json']);
    assert.equal(foreign.code, 1, told(['relay', 'install'], foreign));
    assert.equal(JSON.parse(foreign.stderr).error.code, 'not_ours');
    assert.equal((await m.sb(['relay', 'uninstall', '--data', data])).code, 1);
    assert.equal(readFileSync(report.path, 'utf8'), '[Service]\nExecStart=/bin/true\n');
  });

  test('refused before anything is written: no storage, a reachable host without TLS, --nats while serve has no --nats', async () => {
    const m = machine();
    const none = await m.sb(['relay', 'install']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs --data <dir> \(SQLite\) or --nats/);
    const open = await m.sb(['relay', 'install', '--data', join(m.dir, 'r'), '--host', '0.0.0.0']);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /reachable from other machines/);
    const nats = await m.sb(['relay', 'install', '--nats', 'nats://127.0.0.1:4222,nats://127.0.0.1:4223', '--json']);
    assert.equal(nats.code, 2, told(['relay', 'install'], nats));
    assert.match(JSON.parse(nats.stderr).error.message, /cannot serve from a NATS cluster yet \(`relay serve --nats` is not built\)/);
    assert.equal(existsSync(join(m.config, 'systemd')), false, 'nothing written');
    assert.deepEqual(m.calls(), []);
  });
});
