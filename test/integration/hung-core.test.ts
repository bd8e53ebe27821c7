/**
 * A core that is stopped (SIGSTOP) still accepts connections (the kernel queues them), so
 * only a deadline saves the CLI from waiting forever. Every delegated call fails after one,
 * with a line that names the core's pid and exit 4; calls that wait on purpose (send --wait,
 * ask --timeout) get their own wait on top, so a slow answer that is on its way still lands.
 *
 * The core and relay are real processes; each stopped one is continued and killed by its PID
 * in a finally, and every wait is bounded.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { CoreStatus } from '../../protocol/rpc';
import { kill9, run, startCore, tempHome } from '../support/cli';
import { killAllRelays, TestRelay } from '../support/relay';
import { waitFor, withClient } from '../support/wait';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  await killAllRelays();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Continues a stopped process (so its kill is not left pending) and kills it, by PID. */
async function continueAndKill(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  await kill9(child);
}

describe('a stopped core never hangs the CLI', () => {
  it('status, send, inbox and daemon stop each fail after the deadline with one line naming the pid, exit 4; the core answers again once continued', async () => {
    const { home, cleanup } = tempHome('sb-hung-');
    cleanups.push(cleanup);
    const core = await startCore(home);
    const pid = core.pid!;
    try {
      process.kill(pid, 'SIGSTOP');
      const expected = `switchboard: core ${pid} did not answer within 10 s; it may be stopped or overloaded — \`kill -CONT ${pid}\` or \`switchboard daemon restart\``;
      for (const args of [['status'], ['send', '--to', 'bob', '-m', 'hi'], ['inbox'], ['daemon', 'stop']]) {
        const r = await run(home, args, { timeoutMs: 60_000 });
        assert.deepEqual({ code: r.code, stderr: r.stderr.trim() }, { code: 4, stderr: expected }, args.join(' '));
      }
      process.kill(pid, 'SIGCONT');
      const status = await withClient(home, 'hung-test', (c) => c.call('status/get', {}) as Promise<CoreStatus>);
      assert.equal(status.pid, pid);
      assert.equal((await run(home, ['status'])).code, 0);
    } finally {
      await continueAndKill(core);
    }
  });

  it('send --wait and ask --timeout wait their own time plus a margin, not a fixed deadline: a core answering after 12-15 s is heard', async () => {
    const relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    const { home, cleanup } = tempHome('sb-slow-');
    cleanups.push(cleanup);
    await relay.configureHome(home, 'bob');
    const core = await startCore(home);
    const relayProcess = relay.current!.child;
    try {
      await waitFor('bob online', async () => ((await withClient(home, 'hung-test', (c) => c.call('status/get', {}) as Promise<CoreStatus>)).sync.state === 'online' ? true : undefined));
      // A stopped relay keeps the link open but never answers: the core waits the full --wait for a verdict.
      process.kill(relayProcess.pid!, 'SIGSTOP');
      const sent = await run(home, ['send', '--to', 'alice', '-m', 'slow', '--wait', '15'], { timeoutMs: 90_000 });
      assert.equal(sent.code, 3, `the core's "queued" after 15 s, not the CLI's deadline: ${sent.stderr}`);
      assert.match(sent.stdout, /^queued /);
      const asked = await run(home, ['ask', '--to', 'alice', '-m', 'still there?', '--timeout', '12'], { timeoutMs: 90_000 });
      assert.equal(asked.code, 6, `no reply in time is exit 6: ${asked.stderr}`);
      assert.match(asked.stderr, /^switchboard: no reply from alice within 12 s \(question /);
    } finally {
      await continueAndKill(relayProcess);
      await continueAndKill(core);
    }
  });
});
