/**
 * The service files' text (lib/node/service/units.ts): ExecStart words survive systemd's quoting,
 * the launchd plist is well-formed XML with the keys launchd reads (checked structurally here, and
 * with `plutil -lint` where the machine has it), the ownership marks, and one name per home.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { relayServiceSpec } from '../../relay/service';
import { isOurs, launchdPlist, parseExecStart, serviceName, systemdUnit, systemdWord, type ServiceSpec } from '../../lib/node/service/units';

const HOSTILE = ['/usr/bin/node', '/opt/a b/dist/daemon.js', '--home', '/home/u/100% "quoted" $HOME\\x', 'it\'s&<fine>'];

const spec: ServiceSpec = {
  kind: 'core',
  name: 'switchboard-core-1a2b3c4d',
  description: 'Switchboard core for /home/u/100% <x>',
  program: HOSTILE,
  log: '/home/u/100% & co/core.log',
  uninstall: 'switchboard daemon uninstall',
};

test('an ExecStart word keeps spaces, quotes, %, $ and backslashes literal, and reads back as given', () => {
  assert.equal(systemdWord('/usr/bin/node'), '/usr/bin/node');
  assert.equal(systemdWord('a b'), '"a b"');
  assert.equal(systemdWord('100%'), '100%%');
  assert.equal(systemdWord('$HOME'), '"$$HOME"');
  assert.equal(systemdWord('say "hi"\\'), '"say \\"hi\\"\\\\"');
  const line = /^ExecStart=(.*)$/m.exec(systemdUnit(spec))![1]!;
  assert.deepEqual(parseExecStart(line), HOSTILE);
});

test('the unit restarts on failure, appends both streams to the log, and starts with the mark', () => {
  const unit = systemdUnit(spec);
  assert.ok(unit.startsWith('# Written by switchboard'), unit);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^RestartSec=5$/m);
  assert.match(unit, /^StandardOutput=append:\/home\/u\/100%% & co\/core\.log$/m);
  assert.match(unit, /^StandardError=append:\/home\/u\/100%% & co\/core\.log$/m);
  assert.match(unit, /^Description=Switchboard core for \/home\/u\/100%% <x>$/m);
  assert.match(unit, /^WantedBy=default\.target$/m);
  assert.equal(isOurs('systemd', unit), true);
  assert.equal(isOurs('systemd', '[Unit]\nDescription=mine\n# Written by switchboard\n'), false);
});

/** A plist value: what the few types we write parse to. */
type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * A strict reader for the plist subset we write: every tag must close in order, text only inside
 * string/key/integer, entities decoded. Anything else throws, so malformed XML fails the test.
 */
function parsePlist(text: string): PlistValue {
  const body = text
    .replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '')
    .replace(/^<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1\.0\/\/EN" "http:\/\/www\.apple\.com\/DTDs\/PropertyList-1\.0\.dtd">\n/, '')
    .replace(/<!--(?:(?!--)[\s\S])*-->/g, '');
  const tokens = body.match(/<[^>]*>|[^<]+/g) ?? [];
  let i = 0;
  const decode = (s: string) => {
    assert.doesNotMatch(s.replace(/&(amp|lt|gt|quot);/g, ''), /[&<>]/, `raw markup character in ${s}`);
    return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  };
  const skipSpace = () => {
    while (i < tokens.length && /^\s+$/.test(tokens[i]!)) i++;
  };
  const textUntil = (close: string): string => {
    let value = '';
    if (tokens[i] !== close) value = tokens[i++]!;
    assert.equal(tokens[i++], close);
    return decode(value);
  };
  const value = (): PlistValue => {
    skipSpace();
    const open = tokens[i++];
    if (open === '<string>') return textUntil('</string>');
    if (open === '<integer>') return Number(textUntil('</integer>'));
    if (open === '<true/>') return true;
    if (open === '<false/>') return false;
    if (open === '<array>') {
      const items: PlistValue[] = [];
      for (skipSpace(); tokens[i] !== '</array>'; skipSpace()) items.push(value());
      i++;
      return items;
    }
    if (open === '<dict>') {
      const dict: Record<string, PlistValue> = {};
      for (skipSpace(); tokens[i] !== '</dict>'; skipSpace()) {
        assert.equal(tokens[i++], '<key>');
        const key = textUntil('</key>');
        assert.ok(!(key in dict), `duplicate key ${key}`);
        dict[key] = value();
      }
      i++;
      return dict;
    }
    throw new Error(`unexpected token ${open}`);
  };
  skipSpace();
  assert.equal(tokens[i++], '<plist version="1.0">');
  const root = value();
  skipSpace();
  assert.equal(tokens[i++], '</plist>');
  skipSpace();
  assert.equal(i, tokens.length, 'nothing after </plist>');
  return root;
}

test('the launchd plist is well-formed and holds the label, argv, restart, log and mark', () => {
  const plist = launchdPlist(spec);
  const root = parsePlist(plist) as Record<string, PlistValue>;
  assert.deepEqual(root, {
    Label: 'switchboard.core.1a2b3c4d',
    SwitchboardService: 'core',
    ProgramArguments: HOSTILE,
    RunAtLoad: true,
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 5,
    ProcessType: 'Background',
    Umask: 0o077,
    StandardOutPath: spec.log,
    StandardErrorPath: spec.log,
  });
  assert.equal(isOurs('launchd', plist), true);
  assert.equal(isOurs('launchd', plist.replace('<key>SwitchboardService</key><string>core</string>', '')), false);
});

test('plutil -lint accepts the plist (where the machine has plutil)', (t) => {
  const probe = spawnSync('plutil', ['-help'], { stdio: 'ignore' });
  if (probe.error) {
    t.skip('no plutil here (it ships with macOS); the structural check above stands in for it');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-plist-'));
  try {
    const file = join(dir, 'x.plist');
    writeFileSync(file, launchdPlist(spec));
    const r = spawnSync('plutil', ['-lint', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the default home gets the plain name; every other home its own, the same each time', () => {
  assert.equal(serviceName('core', '/home/u/.switchboard', true), 'switchboard-core');
  const a = serviceName('core', '/tmp/a', false);
  assert.match(a, /^switchboard-core-[0-9a-f]{8}$/);
  assert.equal(serviceName('core', '/tmp/a', false), a);
  assert.notEqual(serviceName('core', '/tmp/b', false), a);
  assert.match(serviceName('relay', '/srv/relay', false), /^switchboard-relay-[0-9a-f]{8}$/);
});

test('a relay unit on NATS runs serve --nats with the URLs as one list, named by the cluster and the port', () => {
  const a = relayServiceSpec({ nats: 'nats://10.0.0.1:4222, nats://10.0.0.2:4222', host: '127.0.0.1', port: 8787 }, '/opt/sb/dist/relay.js');
  assert.deepEqual(a.program, [process.execPath, '/opt/sb/dist/relay.js', 'serve', '--nats', 'nats://10.0.0.1:4222,nats://10.0.0.2:4222', '--host', '127.0.0.1', '--port', '8787']);
  assert.match(a.name, /^switchboard-relay-[0-9a-f]{8}$/);
  assert.equal(a.uninstall, 'switchboard relay uninstall --nats nats://10.0.0.1:4222,nats://10.0.0.2:4222 --port 8787');
  const b = relayServiceSpec({ nats: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222', host: '127.0.0.1', port: 8788 }, '/opt/sb/dist/relay.js');
  assert.notEqual(b.name, a.name, 'a second node on this machine gets its own unit');
  assert.throws(() => relayServiceSpec({ nats: ' , ', host: '127.0.0.1', port: 8787 }, '/x'), /--nats needs at least one URL/);
  assert.throws(() => relayServiceSpec({ nats: 'nats://a:1', data: '/d', host: '127.0.0.1', port: 1 }, '/x'), /one of them/);
});
