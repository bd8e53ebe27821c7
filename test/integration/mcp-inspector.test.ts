/**
 * A second MCP client nobody here wrote: the MCP Inspector's CLI mode (`mcp-inspector --cli`,
 * a devDependency), driving `node dist/cli.js mcp --home <home>` over stdio against a real core
 * and a real relay on 127.0.0.1. It lists the tools and resources, sends through `send_message`,
 * and gets a bad argument back as a tool error. Each call is its own Inspector process (it
 * starts the server, calls one method, exits), so this also covers a server started cold.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cleanups, CLI, kill9, ok, ROOT, startCore } from '../support/cli';
import { killHomeCore, TOOLS } from '../support/mcp';
import { reapWithThisProcess } from '../support/reap';
import { killAllRelays, TestRelay } from '../support/relay';
import { waitFor } from '../support/wait';

/** The package's `mcp-inspector` bin (its launcher; `--cli` picks the CLI client). */
const INSPECTOR = join(ROOT, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});

interface InspectorRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One Inspector CLI call against our server; bounded: killed after 60 s. */
function inspector(home: string, scratch: string, args: string[]): Promise<InspectorRun> {
  return new Promise((resolve, reject) => {
    // Its catalog (and anything else it keeps) goes to a scratch HOME, never the real one.
    const env = { ...process.env, HOME: scratch, MCP_CATALOG_PATH: join(scratch, 'catalog.json') };
    const child: ChildProcess = reapWithThisProcess(spawn(process.execPath, [INSPECTOR, '--cli', process.execPath, CLI, '--home', home, 'mcp', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function json<T>(r: InspectorRun): T {
  assert.equal(r.code, 0, `inspector exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('the MCP Inspector (CLI mode) against switchboard mcp', () => {
  let relay: TestRelay;
  let alice: string;
  let bob: string;
  let scratch: string;
  let bobCore: ChildProcess;

  before(async () => {
    relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    alice = cleanups.home('sb-insp-alice-');
    bob = cleanups.home('sb-insp-bob-');
    scratch = cleanups.home('sb-insp-home-');
    await relay.configureHome(alice, 'alice');
    await relay.configureHome(bob, 'bob');
    bobCore = await startCore(bob);
    cleanups.push(() => kill9(bobCore));
    // alice has no core: the first server the Inspector starts starts one (detached), killed by home.
    cleanups.push(() => killHomeCore(alice));
  });

  test('tools/list: every tool, each with an input and an output schema', async () => {
    const { tools } = json<{ tools: { name: string; inputSchema: { type: string }; outputSchema?: { type: string } }[] }>(await inspector(alice, scratch, ['--method', 'tools/list']));
    assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOLS].sort());
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', `${t.name} has an input schema`);
      assert.equal(t.outputSchema?.type, 'object', `${t.name} has an output schema`);
    }
  });

  test('tools/call send_message: an honest verdict, and bob has the message', async () => {
    const r = json<{ isError?: boolean; structuredContent: { status: string; id: string; to: string } }>(
      await inspector(alice, scratch, ['--method', 'tools/call', '--tool-name', 'send_message', '--tool-arg', 'to=bob', '--tool-arg', 'body=from the inspector', '--tool-arg', 'wait=30']),
    );
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(r.structuredContent.status, 'sent', JSON.stringify(r));
    assert.equal(r.structuredContent.to, 'bob');
    await waitFor('bob has it', async () => {
      const inbox = JSON.parse(await ok(bob, ['inbox', '--json'])) as { messages: { id: string; body: string }[] };
      return inbox.messages.find((m) => m.id === r.structuredContent.id && m.body === 'from the inspector');
    });
  });

  test('tools/call with a bad argument: a tool error (isError) that says what is wrong', async () => {
    // send_message without its body. The Inspector prints the result, says so on stderr and exits 5.
    const r = await inspector(alice, scratch, ['--method', 'tools/call', '--tool-name', 'send_message', '--tool-arg', 'to=bob']);
    assert.equal(r.code, 5, `${r.stdout}\n${r.stderr}`);
    assert.equal((JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { code: string } }).error.code, 'tool_is_error', r.stderr);
    const result = JSON.parse(r.stdout) as { isError: boolean; content: { text: string }[] };
    assert.equal(result.isError, true);
    assert.match(result.content.map((c) => c.text).join('\n'), /send_message.*body/);
    // ...and the server is still up for the next one.
    const { tools } = json<{ tools: unknown[] }>(await inspector(alice, scratch, ['--method', 'tools/list']));
    assert.equal(tools.length, TOOLS.length);
  });

  test('resources/list: the inbox and each conversation', async () => {
    await ok(bob, ['send', '--to', 'alice', '-m', 'for the resource list', '--wait', '30']);
    // alice's core (started by an earlier server, or by this one) takes the message from the relay
    const uris = await waitFor('alice lists the conversation with bob', async () => {
      const { resources } = json<{ resources: { uri: string }[] }>(await inspector(alice, scratch, ['--method', 'resources/list']));
      const listed = resources.map((x) => x.uri);
      return listed.includes('switchboard://conversation/bob') ? listed : undefined;
    }, 60_000);
    assert.ok(uris.includes('switchboard://inbox'), uris.join(', '));
  });
});
