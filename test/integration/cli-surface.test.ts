/**
 * The CLI's surface as a person or a script meets it: every verb's generated `--help`, the
 * README's CLI section, pipes closed early, `--json` errors and exit codes, `ask` timing out,
 * `inbox` saying when `--limit` cut it, flags a mode would ignore, bodies starting with `-`.
 * The built bin runs as a real child process, with a real relay and core where it matters.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Message, SendResult } from '../../protocol/rpc';
import { RELAY } from '../../relay/main';
import { SWITCHBOARD } from '../../server/cli/commands';
import type { Command } from '../../lib/node/cli/command';
import { EXIT_CODE_MEANINGS, ERROR_CODES, ExitCode } from '../../lib/node/cli/errors';
import { helpPaths } from '../../lib/node/cli/help';
import { README, withUsage } from '../../scripts/cli-readme';
import { CLI, kill9, run, runOk, startCore, tempHome } from '../support/cli';
import { killAllRelays, runRelay, TestRelay } from '../support/relay';
import { reapWithThisProcess } from '../support/reap';
import { waitFor } from '../support/wait';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAllRelays();
});

function scratchHome(): string {
  const { home, cleanup } = tempHome('sb-cli-');
  cleanups.push(cleanup);
  return home;
}

function names<C>(path: readonly Command<C>[]): string[] {
  return path.slice(1).map((c) => c.spec.name);
}

describe('help is generated from the declarations', () => {
  const forms: { args: string[]; command: Command<unknown> }[] = [
    ...helpPaths(SWITCHBOARD).slice(1).map((path) => ({ args: names(path), command: path[path.length - 1]! as Command<unknown> })),
    ...helpPaths(RELAY).map((path) => ({ args: ['relay', ...names(path)], command: path[path.length - 1]! as Command<unknown> })),
  ];

  test('the table covers every verb and sub-verb of the contract', () => {
    const listed = forms.map((f) => f.args.join(' '));
    for (const form of ['init', 'daemon', 'daemon start', 'daemon stop', 'daemon restart', 'daemon status', 'status', 'send', 'download', 'inbox', 'read', 'reply', 'ask', 'search', 'outbox', 'outbox list', 'outbox requeue', 'outbox abort', 'peers', 'verify', 'doctor', 'group', 'group create', 'group add', 'group remove', 'group leave', 'group list', 'group show', 'group rename', 'group role', 'agent', 'agent create', 'agent list', 'agent revoke', 'mcp', 'mcp install', 'config', 'config get', 'config set', 'config list', 'relay', 'relay serve', 'relay add-user', 'relay revoke']) {
      assert.ok(listed.includes(form), `${form} is declared`);
    }
  });

  test('every verb and sub-verb answers --help, -h and `help <verb>`: exit 0, every declared flag, argument and an example', async () => {
    const home = scratchHome();
    for (const { args, command } of forms) {
      const long = await run(home, [...args, '--help']);
      const what = `switchboard ${args.join(' ')} --help`;
      assert.equal(long.code, 0, `${what}: ${long.stderr}`);
      assert.equal(long.stderr, '', what);
      for (const [flag, spec] of Object.entries(command.spec.flags)) {
        assert.match(long.stdout, new RegExp(`--${flag}\\b`), `${what} names --${flag}`);
        if (spec.short) assert.ok(long.stdout.includes(`-${spec.short}, --${flag}`), `${what} names -${spec.short}`);
      }
      for (const positional of command.spec.positionals ?? []) assert.ok(long.stdout.includes(`<${positional.name}>`), `${what} names <${positional.name}>`);
      for (const sub of command.subcommands ?? []) assert.match(long.stdout, new RegExp(`^  ${sub.spec.name} `, 'm'), `${what} lists ${sub.spec.name}`);
      assert.ok(command.spec.examples.length > 0, `${what} declares an example`);
      assert.ok(long.stdout.includes(`examples:\n  ${command.spec.examples[0]}`), `${what} shows its example`);
      assert.equal((await run(home, [...args, '-h'])).stdout, long.stdout, `${what}: -h says the same`);
      const viaHelp = ['help', ...args];
      assert.equal((await run(home, viaHelp)).stdout, long.stdout, `switchboard ${viaHelp.join(' ')} says the same`);
    }
  });

  test('`switchboard help` lists every form and the exit codes; no command is a usage error that still shows it', async () => {
    const home = scratchHome();
    const help = await run(home, ['help']);
    assert.equal(help.code, 0);
    for (const path of helpPaths(SWITCHBOARD).slice(1)) {
      if (!path[path.length - 1]!.handler) continue;
      // The sub-command that runs when none is named shows in brackets: `outbox [list]`.
      const form = path.slice(1).map((c, i) => (path[i]!.defaultSubcommand === c.spec.name ? `[${c.spec.name}]` : c.spec.name)).join(' ');
      assert.ok(help.stdout.includes(`\n  ${form} `) || help.stdout.includes(`\n  ${form}\n`), form);
    }
    assert.match(help.stdout, /relay serve\|add-user\|revoke/);
    for (const [code, meaning] of EXIT_CODE_MEANINGS) assert.ok(help.stdout.replace(/\n/g, ' ').includes(`${code} ${meaning}`), `exit ${code}`);
    const bare = await run(home, []);
    assert.equal(bare.code, ExitCode.Usage);
    assert.equal(bare.stdout, help.stdout);
  });

  test("README's CLI section is the generated usage", () => {
    const readme = readFileSync(README, 'utf8');
    assert.equal(withUsage(readme), readme, 'run `node --import tsx scripts/cli-readme.ts --write`');
  });

  test('README and docs/protocol.md list every exit code and --json error code', () => {
    const readme = readFileSync(README, 'utf8').replace(/\s+/g, ' ');
    const protocol = readFileSync(new URL('../../docs/protocol.md', `file://${__filename}`), 'utf8');
    assert.match(readme, /6 `ask` got no reply/);
    for (const [code] of EXIT_CODE_MEANINGS) assert.match(protocol, new RegExp(`^\\| ${code} \\|`, 'm'), `exit ${code} in docs/protocol.md`);
    for (const code of Object.keys(ERROR_CODES)) assert.match(protocol, new RegExp(`^\\| \`${code}\` \\|`, 'm'), `error code ${code} in docs/protocol.md`);
  });
});

describe('a relay and a core: pipes, --json errors, ask, inbox limits', () => {
  let relay: TestRelay;
  let alice: string;
  let bob: string;
  let core: ChildProcess;

  before(async () => {
    relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    alice = scratchHome();
    bob = scratchHome();
    await relay.configureHome(alice, 'alice');
    await relay.configureHome(bob, 'bob');
    core = await startCore(alice);
    cleanups.push(() => kill9(core));
    // Three messages to herself: her core stores each inbound copy as it comes back.
    for (const text of ['one', 'two', 'three']) await runOk(alice, ['send', '--to', 'alice', '-m', text]);
    await waitFor('three messages in alice\'s inbox', async () => {
      const inbox = JSON.parse(await runOk(alice, ['inbox', '--json'])) as { messages: Message[] };
      return inbox.messages.length === 3 ? inbox : undefined;
    });
  });

  /** Runs the CLI with its stdout closed before it can write, as `| head` does once it has read enough. */
  function runWithClosedStdout(home: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = reapWithThisProcess(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SWITCHBOARD_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] }));
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`switchboard ${args.join(' ')} did not exit with its stdout closed; stderr: ${stderr}`));
      }, 30_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stderr });
      });
    });
  }

  test('a closed stdout ends inbox, inbox --json, inbox --follow and search quietly with exit 0', async () => {
    for (const args of [['inbox'], ['inbox', '--json'], ['inbox', '--follow', '--since', '0'], ['search', 'one'], ['search', 'two', '--json']]) {
      const r = await runWithClosedStdout(alice, args);
      assert.equal(r.stderr, '', `${args.join(' ')}: nothing on stderr`);
      assert.equal(r.code, 0, `${args.join(' ')} exits 0`);
    }
  });

  test('inbox says when --limit cut the list, in words and in JSON', async () => {
    const cut = await runOk(alice, ['inbox', '--limit', '2']);
    assert.equal(cut.trim().split('\n').length, 3);
    assert.match(cut, /^\(the newest 2 shown; more with --limit N, up to 1000\)$/m);
    assert.equal((JSON.parse(await runOk(alice, ['inbox', '--limit', '2', '--json'])) as { has_more: boolean }).has_more, true);
    const whole = await runOk(alice, ['inbox', '--limit', '3']);
    assert.equal(whole.trim().split('\n').length, 3);
    assert.doesNotMatch(whole, /newest/);
    assert.equal((JSON.parse(await runOk(alice, ['inbox', '--limit', '3', '--json'])) as { has_more: boolean }).has_more, false);
  });

  test('under --json every error is one JSON object on stderr with a stable code and the documented exit code', async () => {
    const first = JSON.parse(await runOk(alice, ['send', '--to', 'bob', '-m', 'hello', '--client-id', 'cli-surface-1', '--json'])) as SendResult;
    assert.equal(first.status, 'sent');
    const cases: { args: string[]; code: keyof typeof ERROR_CODES; exit: number }[] = [
      { args: ['send', '--to', 'bob', '--bogus', '--json'], code: 'usage', exit: ExitCode.Usage },
      { args: ['inbox', '--follow', '--limit', '3', '--json'], code: 'usage', exit: ExitCode.Usage },
      { args: ['read', 'no-such-id', '--json'], code: 'not_found', exit: ExitCode.Failed },
      { args: ['send', '--to', 'bob', '-m', 'other text', '--client-id', 'cli-surface-1', '--json'], code: 'conflict', exit: ExitCode.Conflict },
      { args: ['outbox', 'abort', first.id, '--json'], code: 'invalid_state', exit: ExitCode.Failed },
    ];
    for (const { args, code, exit } of cases) {
      const r = await run(alice, args);
      assert.equal(r.code, exit, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: one line`);
      const parsed = JSON.parse(lines[0]!) as { error: { code: string; message: string; hint: string | null } };
      assert.deepEqual(Object.keys(parsed), ['error']);
      assert.deepEqual(Object.keys(parsed.error), ['code', 'message', 'hint']);
      assert.equal(parsed.error.code, code, args.join(' '));
      assert.ok(parsed.error.message.length > 0);
    }
    const human = await run(alice, ['read', 'no-such-id']);
    assert.match(human.stderr, /^switchboard: message no-such-id not found\n$/);

    // The relay's own verbs too.
    for (const [args, code, exit] of [
      [['add-user', 'alice', '--data', relay.dataDir, '--json'], 'failed', 1],
      [['add-user', 'no spaces', '--data', relay.dataDir, '--json'], 'usage', 2],
      [['revoke', '--data', relay.dataDir, '--json'], 'usage', 2],
    ] as const) {
      const r = await runRelay([...args]);
      assert.equal(r.code, exit, `relay ${args.join(' ')}: ${r.stderr}`);
      const parsed = JSON.parse(r.stderr.trim()) as { error: { code: string; message: string; hint: string | null } };
      assert.equal(parsed.error.code, code, args.join(' '));
    }
    const taken = await runRelay(['add-user', 'alice', '--data', relay.dataDir]);
    assert.equal(taken.stderr, 'relay: user "alice" already has an active token; run "relay revoke alice" first to issue a new one\n');
  });

  test('ask without a reply in time exits 6 and still prints the question as JSON', async () => {
    // bob runs no core: nothing answers.
    const r = await run(alice, ['ask', '--to', 'bob', '-m', 'anyone?', '--timeout', '1', '--json'], { timeoutMs: 60_000 });
    assert.equal(r.code, ExitCode.Timeout, r.stderr);
    const out = JSON.parse(r.stdout) as { question: SendResult; reply: null };
    assert.equal(out.reply, null);
    assert.ok(out.question.status === 'sent' || out.question.status === 'queued', out.question.status);
    const error = JSON.parse(r.stderr) as { error: { code: string; message: string; hint: string } };
    assert.equal(error.error.code, 'timeout');
    assert.ok(error.error.message.includes(out.question.id), 'the error names the question');
    // The question did go out: bob gets it, under the id ask printed.
    const bobCore = await startCore(bob);
    cleanups.push(() => kill9(bobCore));
    const question = await waitFor('the question at bob', async () => {
      const inbox = JSON.parse(await runOk(bob, ['inbox', '--json'])) as { messages: Message[] };
      return inbox.messages.find((m) => m.body === 'anyone?');
    });
    assert.equal(question.id, out.question.id);
    await kill9(bobCore);
    const human = await run(alice, ['ask', '--to', 'bob', '-m', 'and now?', '--timeout', '0']);
    assert.equal(human.code, ExitCode.Timeout);
    assert.match(human.stderr, /^switchboard: no reply from bob within 0 s \(question \S+, \w+\); a later reply still lands in `switchboard inbox`\n$/);
  });
});

describe('flags and values', () => {
  test('flags a mode would ignore are refused with one usage line', async () => {
    const home = scratchHome();
    for (const [args, said] of [
      [['inbox', '--follow', '--limit', '5'], /--limit does not go with --follow/],
      [['inbox', '--follow', '--unread'], /--unread does not go with --follow/],
      [['inbox', '--since', '3'], /--since goes with --follow/],
      [['outbox', 'requeue', 'some-id', '--state', 'dead'], /outbox requeue: Unknown option '--state'/],
      [['outbox', 'abort', 'some-id', '--state', 'dead'], /outbox abort: Unknown option '--state'/],
      [['daemon', 'stop', '--idle-exit', '5'], /daemon stop: Unknown option '--idle-exit'/],
      [['send', '--to', 'bob', '-m', 'x', '--file', 'f'], /--file does not go with --message/],
      [['init', '--relay', 'ws://127.0.0.1:1', '--user', 'bob', '--token', 't', '--token-file', 'f'], /--token-file does not go with --token/],
    ] as const) {
      const r = await run(home, [...args]);
      assert.equal(r.code, ExitCode.Usage, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
      assert.match(r.stderr, said);
    }
  });

  test('a body starting with - is the body unless it could be a flag, and then a one-line hint says how to write it', async () => {
    const home = scratchHome();
    for (const [args, body] of [
      [['-m', '-x'], '-x'],
      [['-m', '--not-a-flag'], '--not-a-flag'],
      [['-m=--help'], '--help'],
      [['--message=--to'], '--to'],
      [['-m', '-'], '-'],
    ] as const) {
      const r = await run(home, ['send', '--to', 'bob', ...args, '--json']);
      assert.equal(r.code, ExitCode.Queued, `${args.join(' ')}: ${r.stderr}`);
      const sent = JSON.parse(r.stdout) as SendResult;
      const stored = JSON.parse(await runOk(home, ['read', sent.id, '--json'])) as Message;
      assert.equal(stored.body, body, args.join(' '));
    }
    for (const [args, hint] of [
      [['send', '--to', 'bob', '-m', '--help'], 'write -m=--help or --message=--help'],
      [['send', '-m', '--to', 'bob'], 'write -m=--to or --message=--to'],
      [['send', '--to', 'bob', '--message', '--json'], 'write --message=--json'],
    ] as const) {
      const r = await run(home, [...args]);
      assert.equal(r.code, ExitCode.Usage, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
      assert.ok(r.stderr.includes(hint), `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
