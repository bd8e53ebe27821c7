/** `relay serve` refuses a reachable host without TLS, and rejects limits out of range, before binding anything. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { isLoopbackHost } from '../../protocol/relay-url';
import { runRelayCli } from '../../relay/main';
import { makeTempDir } from '../support/relay';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

async function serve(args: string[]): Promise<{ code: number; stderr: string }> {
  const dir = makeTempDir('relay-flags-');
  dirs.push(dir);
  const stderr: string[] = [];
  const code = await runRelayCli(['serve', '--port', '0', '--data', join(dir.path, 'data'), ...args], { stdout: () => {}, stderr: (l) => stderr.push(l), env: {} });
  return { code, stderr: stderr.join('\n') };
}

test('loopback hosts: 127.0.0.0/8, ::1 and localhost only', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.1', 'relay.example', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
});

// Only addresses on no interface here (TEST-NET-1 and -2): if the rule were broken, the listen
// fails instead of exposing anything. 0.0.0.0 and :: are covered by isLoopbackHost above.
test('a non-loopback --host without --cert/--key is a usage error naming --insecure', { timeout: 20_000 }, async () => {
  for (const host of ['192.0.2.1', '198.51.100.7']) {
    const r = await serve(['--host', host]);
    assert.equal(r.code, 2, host);
    assert.match(r.stderr, /reachable from other machines: give --cert and --key \(wss:\/\/\), or --insecure/);
  }
});

test('--insecure or --cert/--key lets a non-loopback --host through to the listen (which fails here: no such address)', { timeout: 20_000 }, async () => {
  // 192.0.2.1 (TEST-NET-1) is on no interface, so nothing is ever bound off this machine.
  const insecure = await serve(['--host', '192.0.2.1', '--insecure']);
  assert.equal(insecure.code, 1);
  assert.match(insecure.stderr, /EADDRNOTAVAIL/);
  const tls = await serve(['--host', '192.0.2.1', '--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem']);
  assert.equal(tls.code, 1);
  assert.match(tls.stderr, /ENOENT/);
});

test('limit flags are whole numbers in range', { timeout: 20_000 }, async () => {
  for (const [flag, value] of [
    ['--max-connections', '0'],
    ['--max-connections-per-address', 'many'],
    ['--max-logins', '0'],
    ['--hello-timeout-ms', '5'],
    ['--max-prelogin-bytes', '100'],
    ['--upgrade-timeout-ms', '1'],
    ['--max-pending-bytes', '1024'],
  ] as const) {
    const r = await serve([flag, value]);
    assert.equal(r.code, 2, `${flag} ${value}`);
    assert.match(r.stderr, new RegExp(flag));
  }
});

test('--max-file-bytes takes bytes with an optional unit', { timeout: 20_000 }, async () => {
  for (const value of ['nope', '0', '1.5MiB']) {
    const r = await serve(['--max-file-bytes', value]);
    assert.equal(r.code, 2, value);
    assert.match(r.stderr, /--max-file-bytes must be a number of bytes/);
  }
});
