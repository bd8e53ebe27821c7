import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultCandidateEnv, detectRuntime, interpretProbeError, makeProbe, noRuntimeAdvice, runtimeCandidates, type CandidateEnv, type ProbeResult, type RuntimeCandidate } from '../../extension/runtime';

function env(p: Partial<CandidateEnv>): CandidateEnv {
  return { setting: undefined, execPath: '/host/node24', electron: undefined, pathEnv: '/a:/b', platform: 'linux', home: '/home/u', isExecutable: () => false, listDir: () => [], ...p };
}

describe('runtimeCandidates', () => {
  it('orders setting, non-Electron host, PATH, common locations; dedupes', () => {
    const exists = new Set(['/b/node', '/usr/bin/node', '/home/u/.nvm/versions/node/v22.1.0/bin/node', '/home/u/.nvm/versions/node/v20.9.0/bin/node']);
    const c = runtimeCandidates(
      env({
        setting: ' /opt/node20/bin/node ',
        isExecutable: (p) => exists.has(p),
        listDir: (p) => (p.endsWith('.nvm/versions/node') ? ['v20.9.0', 'v22.1.0'] : []),
      }),
    );
    assert.deepEqual(
      c.map((x) => [x.path, x.source]),
      [
        ['/opt/node20/bin/node', 'setting'],
        ['/host/node24', 'extension host'],
        ['/b/node', 'PATH'],
        ['/usr/bin/node', 'common location'],
        ['/home/u/.nvm/versions/node/v22.1.0/bin/node', 'common location'],
        ['/home/u/.nvm/versions/node/v20.9.0/bin/node', 'common location'],
      ],
    );
  });
  it('skips the extension host under Electron', () => {
    const c = runtimeCandidates(env({ electron: '30.0.0', isExecutable: (p) => p === '/a/node' }));
    assert.deepEqual(c.map((x) => x.path), ['/a/node']);
  });
  it('uses node.exe and ; on Windows', () => {
    const c = runtimeCandidates(env({ platform: 'win32', electron: '30', pathEnv: 'C:\\n;C:\\m', isExecutable: (p) => p.includes('n') && p.endsWith('node.exe') }));
    assert.ok(c.every((x) => x.path.endsWith('node.exe')));
  });
});

describe('interpretProbeError', () => {
  it('explains an ABI mismatch in Node versions', () => {
    const stderr = `Error: The module '/x/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 137. Please try re-compiling or re-installing\n    at Module._extensions..node (node:internal/modules/cjs/loader:1)`;
    const r = interpretProbeError(stderr, { code: 1 });
    assert.equal(r.wantsAbi, 115);
    assert.equal(r.reason, 'better-sqlite3 is built for Node 20, this is Node 24');
    assert.ok(!r.reason.includes(' at '), 'no stack');
  });
  it('names missing binaries, timeouts and a missing module', () => {
    assert.equal(interpretProbeError('', { code: 'ENOENT' }).reason, 'not found');
    assert.equal(interpretProbeError('', { killed: true, signal: 'SIGTERM' }).reason, 'timed out');
    assert.match(interpretProbeError("Error: Cannot find module '/x/better-sqlite3'", { code: 1 }).reason, /missing from the extension/);
  });
});

describe('detectRuntime', () => {
  const cands: RuntimeCandidate[] = [
    { path: '/host/node24', source: 'extension host' },
    { path: '/usr/bin/node', source: 'PATH' },
    { path: '/usr/local/bin/node', source: 'common location' },
  ];
  it('takes the first candidate that loads the addon', async () => {
    const probed: string[] = [];
    const r = await detectRuntime(cands, async (c): Promise<ProbeResult> => {
      probed.push(c.path);
      return c.path === '/usr/bin/node' ? { ok: true, version: '20.20.2' } : { ok: false, reason: 'ABI', wantsAbi: 115 };
    });
    assert.ok(r.ok);
    assert.equal(r.ok && r.runtime.path, '/usr/bin/node');
    assert.deepEqual(probed, ['/host/node24', '/usr/bin/node'], 'stops at the first success');
  });
  it('says exactly what to install when nothing loads', async () => {
    const r = await detectRuntime(cands, async () => ({ ok: false, reason: 'ABI', wantsAbi: 115 }));
    assert.ok(!r.ok);
    if (!r.ok) {
      assert.equal(r.wantsNode, 20);
      assert.match(r.advice, /Install Node\.js 20/);
      assert.match(r.advice, /switchboard\.server\.runtime/);
      assert.equal(r.tried.length, 3);
    }
  });
  it('blames the setting when it was set', () => {
    assert.match(noRuntimeAdvice(20, true), /Point the setting "switchboard\.server\.runtime" at a Node\.js 20 binary/);
    assert.match(noRuntimeAdvice(undefined, false), /Node\.js 20 or newer/);
  });
});

describe('makeProbe (real processes)', () => {
  it('accepts this Node when the addon loads, rejects a fake binary', async () => {
    const addon = join(process.cwd(), 'node_modules', 'better-sqlite3');
    const probe = makeProbe(addon, 20_000);
    const ok = await probe({ path: process.execPath, source: 'PATH' });
    assert.deepEqual(ok, { ok: true, version: process.versions.node });
    const dir = mkdtempSync(join(tmpdir(), 'sb-probe-'));
    try {
      const fake = join(dir, 'node');
      writeFileSync(fake, '#!/bin/sh\necho "Error: simulated failure" >&2\nexit 1\n');
      chmodSync(fake, 0o755);
      const bad = await probe({ path: fake, source: 'PATH' });
      assert.deepEqual(bad, { ok: false, reason: 'Error: simulated failure' });
      const missing = await probe({ path: join(dir, 'nope'), source: 'setting' });
      assert.deepEqual(missing, { ok: false, reason: 'not found' });
      mkdirSync(join(dir, 'empty'));
      const noAddon = await makeProbe(join(dir, 'empty', 'better-sqlite3'))({ path: process.execPath, source: 'PATH' });
      assert.equal(noAddon.ok, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('defaultCandidateEnv reflects this process', () => {
    const e = defaultCandidateEnv('/x');
    assert.equal(e.execPath, process.execPath);
    assert.equal(e.setting, '/x');
  });
});
