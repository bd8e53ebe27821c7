import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backoffMs, dial, DialError, spawnArgs, startCore } from '../../extension/spawn';
import { Disposable, Emitter, toDisposable } from '../../extension/lifecycle';

describe('dial', () => {
  it('connects to a listening socket; says "no core" when nothing listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-dial-'));
    const path = join(dir, 'core.sock');
    try {
      await assert.rejects(dial(path), (e: unknown) => e instanceof DialError && e.noCore && /no core is listening/.test(e.message));
      const server = createServer((s) => s.end());
      await new Promise<void>((r) => server.listen(path, r));
      // A socket others may use is refused before connecting; the core's own is 0600.
      chmodSync(path, 0o755);
      await assert.rejects(dial(path), (e: unknown) => e instanceof DialError && !e.noCore && /is open to others \(mode 755\); run `chmod 600 /.test(e.message));
      chmodSync(path, 0o600);
      const sock = await dial(path);
      sock.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      // a stale socket file with nobody behind it
      writeFileSync(join(dir, 'stale.sock'), '');
      await assert.rejects(dial(join(dir, 'stale.sock')), (e: unknown) => e instanceof DialError && e.noCore);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startCore', () => {
  it('passes daemon start, --idle-exit and SWITCHBOARD_HOME; reports the last stderr line on failure', async () => {
    assert.deepEqual(spawnArgs({ cliPath: '/x/cli.js', idleExitSeconds: 300 }), ['/x/cli.js', 'daemon', 'start', '--idle-exit', '300']);
    assert.deepEqual(spawnArgs({ cliPath: '/x/cli.js', idleExitSeconds: 0 }), ['/x/cli.js', 'daemon', 'start']);
    const dir = mkdtempSync(join(tmpdir(), 'sb-spawn-'));
    try {
      const ok = join(dir, 'ok.js');
      writeFileSync(ok, `require('fs').writeFileSync(${JSON.stringify(join(dir, 'seen.json'))}, JSON.stringify({ argv: process.argv.slice(2), home: process.env.SWITCHBOARD_HOME }));`);
      assert.deepEqual(await startCore({ runtime: process.execPath, cliPath: ok, home: '/some/home', idleExitSeconds: 60 }), { ok: true });
      const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8'));
      assert.deepEqual(seen, { argv: ['daemon', 'start', '--idle-exit', '60'], home: '/some/home' });
      const bad = join(dir, 'bad.js');
      writeFileSync(bad, `console.error('warming up'); console.error('switchboard: the store at /h is locked by pid 7 and its socket does not answer'); process.exit(4);`);
      const r = await startCore({ runtime: process.execPath, cliPath: bad, home: '/h', idleExitSeconds: 0 });
      assert.deepEqual(r, { ok: false, message: 'could not start the core: switchboard: the store at /h is locked by pid 7 and its socket does not answer' });
      const missing = await startCore({ runtime: join(dir, 'no-node'), cliPath: ok, home: '/h', idleExitSeconds: 0 });
      assert.equal(missing.ok, false);
      assert.match(!missing.ok ? missing.message : '', /not found/);
      const slow = join(dir, 'slow.sh');
      writeFileSync(slow, '#!/bin/sh\nsleep 5\n');
      chmodSync(slow, 0o755);
      const t = await startCore({ runtime: slow, cliPath: ok, home: '/h', idleExitSeconds: 0, timeoutMs: 300 });
      assert.deepEqual(t, { ok: false, message: 'could not start the core: timed out waiting for the core to answer' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('backoffMs', () => {
  it('doubles from 0.5 s and caps at 30 s', () => {
    assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map((a) => backoffMs(a)), [500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
  });
});

describe('lifecycle', () => {
  it('Disposable disposes registered children once, in reverse order, even if one throws', () => {
    const order: string[] = [];
    class Owner extends Disposable {
      constructor() {
        super();
        this._register(toDisposable(() => order.push('a')));
        this._register({ dispose: () => { throw new Error('x'); } });
        this._register(toDisposable(() => order.push('c')));
      }
      late() {
        return this._register(toDisposable(() => order.push('late')));
      }
    }
    const o = new Owner();
    o.dispose();
    o.dispose();
    assert.deepEqual(order, ['c', 'a']);
    o.late();
    assert.deepEqual(order, ['c', 'a', 'late'], 'registering after dispose disposes at once');
  });
  it('Emitter delivers to listeners until they are disposed', () => {
    const e = new Emitter<number>();
    const got: number[] = [];
    const bag: { dispose(): unknown }[] = [];
    const d = e.event((n) => got.push(n), undefined, bag);
    e.fire(1);
    d.dispose();
    e.fire(2);
    assert.deepEqual(got, [1]);
    assert.equal(bag.length, 1);
  });
});
