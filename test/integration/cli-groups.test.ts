/**
 * Groups, mentions, receipts and settings through the built CLI (issue 12): a real relay on
 * 127.0.0.1, three real homes, real cores where it matters, `switchboard` as child processes.
 * Each verb's output and exit code, without a core (direct) and through one (delegated), the
 * relay's refusals as one line and as `--json` with the relay's code, and the same answer on
 * both paths for the same question. Spawns are costly: each one is asserted on as a whole.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Group, GroupListResult, Message, SendResult } from '../../protocol/rpc';
import { DEFAULT_AUTO_DOWNLOAD_BYTES } from '../../protocol/files';
import { ExitCode } from '../../lib/node/cli/errors';
import { Cleanups, CLI, kill9, ok, okJson, run, startCore, told, type RunResult } from '../support/cli';
import { killAllRelays, TestRelay } from '../support/relay';
import { reapWithThisProcess } from '../support/reap';
import { waitFor } from '../support/wait';

const cleanups = new Cleanups();
after(async () => {
  await cleanups.run();
  await killAllRelays();
});
const scratchHome = (prefix: string): string => cleanups.home(prefix);


/**
 * A refusal: exit 1, one line on stderr, nothing on stdout. With `json`, asked again under
 * --json: one object whose `code` is the relay's and whose message is the human line's.
 */
async function refused(home: string, args: string[], code: string, line: RegExp, json = false): Promise<void> {
  const human = await run(home, args);
  assert.equal(human.code, ExitCode.Failed, told(args, human));
  assert.equal(human.stdout, '', told(args, human));
  assert.match(human.stderr, line, told(args, human));
  assert.equal(human.stderr.split('\n').length, 2, `one line: ${told(args, human)}`);
  if (!json) return;
  const machine = await run(home, [...args, '--json']);
  assert.equal(machine.code, ExitCode.Failed, told(args, machine));
  const parsed = JSON.parse(machine.stderr) as { error: { code: string; message: string; hint: string | null } };
  assert.deepEqual(Object.keys(parsed.error), ['code', 'message', 'hint']);
  assert.equal(parsed.error.code, code, told(args, machine));
  assert.equal(`switchboard: ${parsed.error.message}\n`, human.stderr, 'the JSON message is the human line');
}

const ID = '[0-9a-f-]{36}';
const TIME = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d';

describe('groups through the CLI, with and without a core', () => {
  let relay: TestRelay;
  let alice: string;
  let bob: string;
  let carol: string;
  let aliceCore: ChildProcess | undefined;
  /** Dave is a user of the relay in no group (until alice adds him). */
  let daveHome: string;

  before(async () => {
    relay = new TestRelay();
    cleanups.push(() => relay.dispose());
    await relay.start();
    alice = scratchHome('sb-alice-');
    bob = scratchHome('sb-bob-');
    carol = scratchHome('sb-carol-');
    for (const [home, user] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await relay.configureHome(home, user);
    daveHome = scratchHome('sb-dave-');
    await relay.configureHome(daveHome, 'dave');
    cleanups.push(async () => {
      if (aliceCore) await kill9(aliceCore);
    });
  });

  let standup: SendResult;
  let second: SendResult;

  test('no core anywhere: create, send with --to and --group, inbox --in and --mentions, receipts per member, read receipts off', async () => {
    assert.equal(await ok(alice, ['group', 'create', '#Team', '--members', 'bob, Carol']), 'created #team: alice (owner), bob (member), carol (member)\n');

    standup = await okJson<SendResult>(alice, ['send', '--to', '#team', '-m', '@bob standup in 5']);
    assert.deepEqual([standup.status, standup.to, (standup as SendResult & { delegated: boolean }).delegated], ['sent', '#team', false]);
    assert.ok(standup.id && standup.client_message_id, JSON.stringify(standup));
    const secondOut = await ok(alice, ['send', '--group', 'team', '-m', 'and bring coffee']);
    const secondId = /^sent (\S+) to #team\n$/.exec(secondOut)?.[1];
    assert.ok(secondId, secondOut);
    second = { ...standup, id: secondId };

    // Bob: the group and the sender on each line, @you on the one that mentions him, newest first.
    const inbox = await ok(bob, ['inbox', '--in', '#team']);
    assert.match(inbox, new RegExp(`^\\* ${second.id}  ${TIME}  #team  alice: and bring coffee\n\\* ${standup.id}  ${TIME}  #team  alice @you: @bob standup in 5\n$`));
    const mentions = await okJson<{ messages: Message[] }>(bob, ['inbox', '--mentions']);
    assert.deepEqual(mentions.messages.map((m) => [m.id, m.group, m.mentions, m.mentions_me]), [[standup.id, 'team', ['bob'], true]]);
    assert.equal(await ok(bob, ['inbox', '--in', 'alice']), 'no messages in alice\n');
    assert.equal(await ok(bob, ['inbox', '--in', '#team', '--mentions', '--unread', '--from', 'carol']), 'no unread messages mentioning you in #team\n');

    // Carol sends no read receipts; bob does.
    assert.equal(await ok(carol, ['config', 'set', 'receipts.read', 'off']), 'receipts.read = off\n');
    assert.deepEqual(await okJson(carol, ['config', 'list']), { 'receipts.read': false, 'files.auto_download': DEFAULT_AUTO_DOWNLOAD_BYTES });
    assert.equal(await ok(carol, ['config', 'get', 'receipts.read']), 'off\n');
    assert.match(await ok(carol, ['read', standup.id]), /^to:       #team$/m);
    assert.match(await ok(bob, ['read', standup.id]), /^mentions: @bob$/m);

    // Alice sees who has it and who read it: both delivered, only bob's read.
    const mine = await waitFor('both deliveries and bob’s read receipt at alice', async () => {
      const m = await okJson<Message & { receipts: { total: number; delivered: number; read: number; receipts: { user: string; delivered_at: string | null; read_at: string | null }[] } }>(alice, ['read', standup.id]);
      return m.receipts.delivered === 2 && m.receipts.read === 1 ? m : undefined;
    });
    assert.deepEqual(
      mine.receipts.receipts.map((r) => [r.user, r.delivered_at !== null, r.read_at !== null]),
      [['bob', true, true], ['carol', true, false]],
    );
    assert.equal(mine.receipts.total, 2);
    const shown = await ok(alice, ['read', standup.id]);
    assert.match(shown, new RegExp(`^receipts: delivered 2/2, read 1/2\n  bob    read ${TIME}\n  carol  delivered ${TIME}, not read\n\n@bob standup in 5\n$`, 'm'));
  });

  test('the relay refuses: one line that says why and what to do, exit 1, the relay code under --json', async () => {
    await refused(alice, ['group', 'create', 'team'], 'group_exists', /^switchboard: group create #team refused by the relay \(group_exists\): a group named #team already exists; pick another name\n$/, true);
    await refused(alice, ['group', 'leave', '#team'], 'last_owner', /^switchboard: group leave #team refused by the relay \(last_owner\): .*group role team <user> owner\n$/, true);
    await refused(alice, ['group', 'add', 'team', 'zed'], 'unknown_user', /^switchboard: group add #team refused by the relay \(unknown_user\): no user "zed" at this relay; /);
    await refused(alice, ['group', 'add', 'nope', 'bob'], 'unknown_group', /^switchboard: group add #nope refused by the relay \(unknown_group\): no group named #nope; /);
    await refused(carol, ['group', 'remove', 'team', 'bob'], 'forbidden', /^switchboard: group remove #team refused by the relay \(forbidden\): /, true);
    await refused(alice, ['group', 'remove', 'team', 'dave'], 'not_member', /^switchboard: group remove #team refused by the relay \(not_member\): "dave" is not a member of #team; /);
    // A send the relay refuses is a send verdict: failed, exit 1, as for any send.
    const r = await run(daveHome, ['send', '--to', '#team', '-m', 'let me in', '--json']);
    assert.equal(r.code, ExitCode.Failed, told(['send'], r));
    assert.equal((JSON.parse(r.stdout) as SendResult).status, 'failed');
  });

  /** Every read-only question alice can ask, and the refusals, which change nothing. */
  function questions(): string[][] {
    return [
      ['group'],
      ['group', 'list', '--json'],
      ['group', 'show', 'team'],
      ['group', 'show', '#team', '--json'],
      ['inbox', '--in', '#team'],
      ['inbox', '--mentions', '--json'],
      ['read', standup.id],
      ['read', second.id, '--json'],
      ['config', 'list'],
      ['config', 'get', 'receipts.read', '--json'],
      ['group', 'create', 'team', '--json'],
      ['group', 'leave', 'team'],
      ['group', 'show', 'nope', '--json'],
    ];
  }

  test('the same question gets the same answer from a running core as without one', async () => {
    // Carol answers in the group, so alice has unread group mail.
    assert.match(await ok(carol, ['reply', standup.id, '-m', '@alice on it']), /^sent \S+ to #team\n$/);
    await waitFor('carol’s reply at alice', async () => ((await okJson<{ messages: Message[] }>(alice, ['inbox', '--in', '#team'])).messages.length === 1 ? true : undefined));
    const direct = new Map<string, RunResult>();
    for (const args of questions()) direct.set(args.join(' '), await run(alice, args));
    aliceCore = await startCore(alice);
    for (const args of questions()) {
      const delegated = await run(alice, args);
      const alone = direct.get(args.join(' '))!;
      assert.deepEqual({ code: delegated.code, stdout: delegated.stdout, stderr: delegated.stderr }, { code: alone.code, stdout: alone.stdout, stderr: alone.stderr }, `switchboard ${args.join(' ')}: delegated and direct differ`);
    }
    // What they said, once: alice's view of the room.
    assert.equal(direct.get('group')!.stdout, '#team  owner  3 members  1 unread, 1 mentioning you\n');
    assert.equal(
      direct.get('group show team')!.stdout.replace(/^created: .*$/m, 'created: …'),
      ['group:     #team', 'your role: owner', 'unread:    1, 1 mentioning you', 'created: …', 'members:   3', '  alice  owner', '  bob    member', '  carol  member', ''].join('\n'),
    );
    const listed = JSON.parse(direct.get('group list --json')!.stdout) as GroupListResult;
    assert.deepEqual(listed.groups.map((g) => [g.name, g.role, g.members.length, g.unread, g.unread_mentions]), [['team', 'owner', 3, 1, 1]]);
    assert.match(direct.get('inbox --in #team')!.stdout, new RegExp(`^\\* ${ID}  ${TIME}  #team  carol @you: @alice on it\n$`));
    assert.equal(direct.get('config list')!.stdout, 'receipts.read = on\nfiles.auto_download = 10 MiB\n');
    assert.equal(JSON.parse(direct.get('group show nope --json')!.stderr).error.code, 'unknown_group');
    assert.equal(direct.get('group show nope --json')!.code, ExitCode.Failed);
  });

  test('inbox --follow --in and --mentions stream only what they name', async () => {
    const bobCore = await startCore(bob);
    cleanups.push(() => kill9(bobCore));
    const follow = (filter: string[]) => {
      const child = reapWithThisProcess(spawn(process.execPath, [CLI, 'inbox', '--follow', ...filter], { env: { ...process.env, SWITCHBOARD_HOME: bob }, stdio: ['ignore', 'pipe', 'pipe'] }));
      cleanups.push(() => kill9(child));
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      return async (count: number): Promise<string[]> => {
        const got = await waitFor(`${count} lines of inbox --follow ${filter.join(' ')}`, () => {
          const lines = out.split('\n').filter((l) => l.length > 0);
          return lines.length >= count ? lines.map((l) => (JSON.parse(l) as Message).body) : undefined;
        });
        await kill9(child);
        return got;
      };
    };
    const inTeam = follow(['--in', '#Team']);
    const mentions = follow(['--mentions']);
    // Both streams are subscribed once the core counts them (and this status call) as clients.
    await waitFor('both followers connected', async () => ((await okJson<{ clients: number }>(bob, ['status'])).clients >= 3 ? true : undefined));
    // In this order at the relay, so in this order at bob's core: an unfiltered stream's first two would be the first two.
    assert.match(await ok(daveHome, ['send', '--to', 'bob', '-m', 'direct to bob']), /^sent /);
    assert.match(await ok(carol, ['send', '--to', '#team', '-m', 'plain']), /^sent /);
    assert.match(await ok(carol, ['send', '--to', '#team', '-m', '@bob look']), /^sent /);
    assert.deepEqual(await inTeam(2), ['plain', '@bob look']);
    assert.deepEqual(await mentions(2), ['direct to bob', '@bob look']);
  });

  test('ask a group: any member’s reply to the question is the answer, and reply answers in the group', async () => {
    const asking = reapWithThisProcess(spawn(process.execPath, [CLI, 'ask', '--to', '#team', '-m', 'who is on call?', '--timeout', '60', '--json'], { env: { ...process.env, SWITCHBOARD_HOME: alice }, stdio: ['ignore', 'pipe', 'pipe'] }));
    cleanups.push(() => kill9(asking));
    let out = '';
    asking.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => asking.once('close', (code) => resolve(code)));
    const question = await waitFor('the question at carol', async () => (await okJson<{ messages: Message[] }>(carol, ['inbox', '--in', '#team'])).messages.find((m) => m.body === 'who is on call?'));
    assert.match(await ok(carol, ['reply', question.id, '-m', 'me']), /^sent \S+ to #team\n$/);
    assert.equal(await exited, 0, out);
    const answered = JSON.parse(out) as { question: SendResult; reply: Message };
    assert.deepEqual([answered.question.to, answered.reply.body, answered.reply.from, answered.reply.group, answered.reply.reply_to], ['#team', 'me', 'carol', 'team', question.id]);
  });

  test('through the core: every change verb, its human line and its --json Group', async () => {
    assert.ok(aliceCore, 'alice’s core runs (previous test)');
    assert.equal(await ok(alice, ['group', 'add', 'team', 'Dave']), 'added dave to #team; members: alice (owner), bob (member), carol (member), dave (member)\n');
    const promoted = await okJson<Group>(alice, ['group', 'role', '#team', 'bob', 'admin']);
    assert.deepEqual(promoted.members, [{ user: 'alice', role: 'owner' }, { user: 'bob', role: 'admin' }, { user: 'carol', role: 'member' }, { user: 'dave', role: 'member' }]);
    assert.equal(promoted.role, 'owner');
    assert.equal(await ok(alice, ['group', 'role', 'team', 'Carol', 'owner']), 'carol is now owner of #team; members: alice (owner), bob (admin), carol (owner), dave (member)\n');
    assert.equal(await ok(alice, ['group', 'remove', 'team', 'DAVE']), 'removed dave from #team; members: alice (owner), bob (admin), carol (owner)\n');
    assert.equal(await ok(alice, ['group', 'rename', '#team', 'crew']), 'renamed #team to #crew\n');
    const sent = await okJson<SendResult & { delegated: boolean }>(alice, ['send', '--group', '#crew', '-m', 'renamed']);
    assert.deepEqual([sent.status, sent.to, sent.delegated], ['sent', '#crew', true]);
    assert.equal(await ok(alice, ['group', 'leave', 'crew']), 'left #crew; its history stays here\n');
    const left = await okJson<Group>(alice, ['group', 'show', 'crew']);
    assert.equal(left.role, null);
    assert.match(await ok(alice, ['group', 'list']), /^#crew  left  2 members/);
    assert.equal(await ok(alice, ['config', 'set', 'receipts.read=off']), 'receipts.read = off\n');
    assert.deepEqual(await okJson(alice, ['config', 'get', 'receipts.read']), { 'receipts.read': false });
    assert.deepEqual(await okJson(alice, ['config', 'set', 'receipts.read', 'on']), { 'receipts.read': true });
  });

});
