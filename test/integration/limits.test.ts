/**
 * One definition of the limits (protocol/limits.ts): a user name the relay accepts at
 * `relay add-user` is one `switchboard init` and `send --to` accept, and one the relay refuses
 * they refuse too. Real processes: the relay CLI, the switchboard CLI, the core's own params
 * validation and the relay's frame validation.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAX_ID_LENGTH } from '../../protocol/limits';
import { paramSchemas } from '../../protocol/rpc-schemas';
import { parseCoreFrame } from '../../protocol/relay-schemas';
import { runRelayCli } from '../../relay/main';
import { run, tempHome } from '../support/cli';
import { makeTempDir } from '../support/relay';

const dirs: { remove(): void }[] = [];
after(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

const NAMES = ['alice', 'a.b_c-d', '9lives', 'x'.repeat(64), 'x'.repeat(65), 'a@b', 'a#b', '-lead', '.dot', 'a b', 'é', 'a/b', ''];

async function relayAccepts(dataDir: string, name: string): Promise<boolean> {
  const lines: string[] = [];
  const code = await runRelayCli(['add-user', name, '--data', dataDir, '--json'], { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l), env: {} });
  assert.ok(code === 0 || code === 2, `add-user ${JSON.stringify(name)} exited ${code}: ${lines.join(' ')}`);
  return code === 0;
}

async function initAccepts(name: string): Promise<boolean> {
  const { home, cleanup } = tempHome('sb-limits-');
  try {
    const r = await run(home, ['init', '--relay', 'ws://127.0.0.1:9', '--user', name, '--token', 't']);
    assert.ok(r.code === 0 || r.code === 2, `init --user ${JSON.stringify(name)} exited ${r.code}: ${r.stderr}`);
    return r.code === 0;
  } finally {
    cleanup();
  }
}

function sendAccepts(name: string): boolean {
  const core = paramSchemas['message/send'].safeParse({ to: name, body: 'hi' }).success;
  const frame = parseCoreFrame(JSON.stringify({ type: 'send', message: { id: 'i', client_message_id: 'c', to: name, body: 'hi', reply_to: null, request_id: null, created_at: 't' } })).ok;
  assert.equal(core, frame, `the core and the relay disagree about sending to ${JSON.stringify(name)}`);
  return core;
}

test('relay add-user, init and send agree on every user name', async () => {
  const dir = makeTempDir();
  dirs.push(dir);
  const dataDir = join(dir.path, 'data');
  for (const name of NAMES) {
    const relay = await relayAccepts(dataDir, name);
    assert.equal(await initAccepts(name), relay, `relay add-user ${relay ? 'accepts' : 'refuses'} ${JSON.stringify(name)}; init must agree`);
    assert.equal(sendAccepts(name), relay, `relay add-user ${relay ? 'accepts' : 'refuses'} ${JSON.stringify(name)}; send must agree`);
  }
});

test('the core and the relay take the same id lengths', () => {
  for (const length of [1, MAX_ID_LENGTH, MAX_ID_LENGTH + 1]) {
    const id = 'i'.repeat(length);
    const core = paramSchemas['message/send'].safeParse({ to: 'bob', body: 'hi', client_message_id: id }).success;
    const relay = parseCoreFrame(JSON.stringify({ type: 'send', message: { id, client_message_id: id, to: 'bob', body: 'hi', reply_to: null, request_id: null, created_at: 't' } })).ok;
    assert.equal(core, length <= MAX_ID_LENGTH);
    assert.equal(relay, core, `an id of ${length} characters`);
  }
});
