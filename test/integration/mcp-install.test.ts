/**
 * `switchboard mcp install` as a user runs it: the built CLI in a child process, under a temp
 * HOME (and a temp project folder as its cwd), so the real home's client files are never touched.
 * Each client's file gets the entry that runs this node, this dist/cli.js and `mcp --home`; what
 * was in the file stays byte for byte; a rerun is "unchanged"; a file that does not parse is
 * refused and left alone; --dry-run writes nothing; an unknown client is a usage error.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'smol-toml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, run, type RunResult } from '../support/cli';
import { killHomeCore } from '../support/mcp';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh user: HOME, the Switchboard home inside it, and a project folder to run from. */
function user(): { home: string; sbHome: string; project: string } {
  const home = mkdtempSync(join(tmpdir(), 'sb-mcp-install-'));
  dirs.push(home);
  const project = join(home, 'project');
  mkdirSync(project);
  return { home, sbHome: join(home, '.switchboard'), project };
}

/** `switchboard mcp install <args>` as that user, from the project folder. */
function install(u: { home: string; sbHome: string; project: string }, args: string[]): Promise<RunResult> {
  return run(u.sbHome, ['mcp', 'install', ...args], {
    cwd: u.project,
    env: { HOME: u.home, USERPROFILE: u.home },
    // the client-location variables of the machine running the tests must not steer the writes
    unsetEnv: ['XDG_CONFIG_HOME', 'CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'APPDATA'],
    timeoutMs: 60_000,
  });
}

const said = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function ok(u: ReturnType<typeof user>, args: string[]): Promise<string> {
  const r = await install(u, args);
  assert.equal(r.code, 0, said(r));
  assert.equal(r.stderr, '', said(r));
  return r.stdout;
}

/** What every entry runs: the node and dist/cli.js of this build, with the home, absolute. */
const launchArgs = (sbHome: string, agent?: string) => [CLI, 'mcp', '--home', sbHome, ...(agent ? ['--agent', agent] : [])];
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

test('claude-code: user scope writes mcpServers.switchboard in ~/.claude.json; project scope ./.mcp.json', async () => {
  const u = user();
  const out = await ok(u, ['--client', 'claude-code']);
  const file = join(u.home, '.claude.json');
  assert.match(out, new RegExp(`^added "switchboard" to ${file} \\(Claude Code, user scope\\)\n`));
  assert.match(out, /"command": ".+node[^"]*"/, 'shows what was added');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { mcpServers: { switchboard: { type: 'stdio', command: process.execPath, args: launchArgs(u.sbHome) } } });

  const report = JSON.parse(await ok(u, ['--client', 'claude-code', '--scope', 'project', '--json'])) as Record<string, unknown>;
  const projectFile = join(u.project, '.mcp.json');
  assert.deepEqual(report, { client: 'claude-code', scope: 'project', file: projectFile, server: 'switchboard', action: 'added', dry_run: false, command: process.execPath, args: launchArgs(u.sbHome) });
  assert.deepEqual(JSON.parse(readFileSync(projectFile, 'utf8')).mcpServers.switchboard.args, launchArgs(u.sbHome));
  assert.ok(!existsSync(u.sbHome), 'setting up a client creates no Switchboard home');
});

test('codex: writes [mcp_servers.switchboard] with command and args to ~/.codex/config.toml; no project scope', async () => {
  const u = user();
  await ok(u, ['--client', 'codex']);
  const file = join(u.home, '.codex', 'config.toml');
  assert.deepEqual(plain(parse(readFileSync(file, 'utf8'))), { mcp_servers: { switchboard: { command: process.execPath, args: launchArgs(u.sbHome) } } });
  const r = await install(u, ['--client', 'codex', '--scope', 'project']);
  assert.equal(r.code, 2, said(r));
  assert.match(r.stderr, /codex reads MCP servers only from its user configuration/);
});

test('vscode: user mcp.json under ~/.config/Code/User (servers, type stdio); project scope ./.vscode/mcp.json', async () => {
  const u = user();
  await ok(u, ['--client', 'vscode']);
  const file = join(u.home, '.config', 'Code', 'User', 'mcp.json');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { servers: { switchboard: { type: 'stdio', command: process.execPath, args: launchArgs(u.sbHome) } } });
  await ok(u, ['--client', 'vscode', '--scope', 'project']);
  assert.deepEqual(JSON.parse(readFileSync(join(u.project, '.vscode', 'mcp.json'), 'utf8')).servers.switchboard.command, process.execPath);
});

test('an existing file keeps its comments, other servers and settings byte for byte; a rerun is unchanged and writes nothing', async () => {
  const u = user();
  const dir = join(u.home, '.config', 'Code', 'User');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mcp.json');
  const before = '// servers I use\n{\n  "servers": {\n    /* docs */\n    "docs": { "type": "http", "url": "http://127.0.0.1:9/mcp" }, // keep\n  },\n  "inputs": []\n}\n';
  writeFileSync(file, before);
  await ok(u, ['--client', 'vscode']);
  const after1 = readFileSync(file, 'utf8');
  const keep = '    "docs": { "type": "http", "url": "http://127.0.0.1:9/mcp" }, // keep\n';
  const at = after1.indexOf(keep) + keep.length;
  assert.equal(after1.slice(0, at), before.slice(0, before.indexOf(keep) + keep.length), 'everything before the entry is as it was');
  assert.equal(after1.slice(after1.indexOf('\n  },\n  "inputs"')), before.slice(before.indexOf('\n  },\n  "inputs"')), 'everything after it too');
  assert.match(after1.slice(at), /^    "switchboard": \{\n      "type": "stdio",\n/);

  const written = statSync(file);
  const again = await ok(u, ['--client', 'vscode']);
  assert.match(again, /^unchanged: .+mcp\.json \(VS Code, user scope\) already has "switchboard"/);
  assert.equal(readFileSync(file, 'utf8'), after1);
  assert.equal(statSync(file).mtimeMs, written.mtimeMs, 'not rewritten');
  assert.equal(statSync(file).ino, written.ino, 'not replaced');
  assert.equal((JSON.parse(await ok(u, ['--client', 'vscode', '--json'])) as { action: string }).action, 'unchanged');

  // Codex: the TOML around the table, comments included, is untouched; a differing entry is replaced
  const codexDir = join(u.home, '.codex');
  mkdirSync(codexDir);
  const toml = join(codexDir, 'config.toml');
  const head = '# my codex\nmodel = "o3" # fast\n\n[mcp_servers.docs]\ncommand = "docs"\n\n';
  const tail = '\n# last\n[tui]\nnotifications = true\n';
  writeFileSync(toml, `${head}[mcp_servers.switchboard]\ncommand = "/old/node"\nargs = []\n${tail}`);
  const replaced = await ok(u, ['--client', 'codex']);
  assert.match(replaced, /^replaced "switchboard" in /);
  const text = readFileSync(toml, 'utf8');
  assert.ok(text.startsWith(`${head}[mcp_servers.switchboard]\n`), text);
  assert.ok(text.endsWith(`]\n${tail}`), text);
  assert.equal(text.split('\n').length, `${head}x\nx\nx\n${tail}`.split('\n').length, 'the table is three lines, as before');
  assert.match(await ok(u, ['--client', 'codex']), /^unchanged: /);

  // Claude Code's ~/.claude.json holds far more than servers: all of it stays
  const claude = join(u.home, '.claude.json');
  const claudeBefore = '{\n  "numStartups": 12,\n  "mcpServers": {\n    "other": {\n      "type": "stdio",\n      "command": "other-mcp",\n      "args": []\n    }\n  },\n  "projects": {}\n}';
  writeFileSync(claude, claudeBefore);
  await ok(u, ['--client', 'claude-code']);
  const claudeAfter = readFileSync(claude, 'utf8');
  const cut = '      "args": []\n    }';
  assert.equal(claudeAfter.slice(0, claudeAfter.indexOf(cut) + cut.length), claudeBefore.slice(0, claudeBefore.indexOf(cut) + cut.length));
  assert.ok(claudeAfter.endsWith('\n  },\n  "projects": {}\n}'));
  assert.deepEqual(Object.keys(JSON.parse(claudeAfter).mcpServers), ['other', 'switchboard']);
});

test('a file that does not parse is refused with its path and line, and left untouched', async () => {
  const u = user();
  const file = join(u.home, '.claude.json');
  const broken = '{\n  "mcpServers": {\n    "a": {}\n    "b": {}\n  }\n}\n';
  writeFileSync(file, broken);
  const r = await install(u, ['--client', 'claude-code']);
  assert.equal(r.code, 1, said(r));
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^switchboard: mcp install: ${file}:4 does not parse as JSON \\(CommaExpected at line 4, column 5\\); it was left as it is`));
  assert.equal(readFileSync(file, 'utf8'), broken);

  const toml = join(u.home, '.codex', 'config.toml');
  mkdirSync(join(u.home, '.codex'));
  writeFileSync(toml, 'model = "o3"\n[mcp_servers.x\ncommand = "y"\n');
  const t = await install(u, ['--client', 'codex', '--json']);
  assert.equal(t.code, 1, said(t));
  const error = (JSON.parse(t.stderr) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, 'failed');
  assert.match(error.message, new RegExp(`${toml}:2 does not parse as TOML`));
  assert.equal(readFileSync(toml, 'utf8'), 'model = "o3"\n[mcp_servers.x\ncommand = "y"\n');
});

test('--dry-run shows the file and the entry and writes nothing', async () => {
  const u = user();
  const out = await ok(u, ['--client', 'codex', '--dry-run']);
  assert.match(out, /^would add "switchboard" to .+\/\.codex\/config\.toml \(Codex, user scope\); nothing written \(--dry-run\)\n  \[mcp_servers\.switchboard\]\n  command = /);
  assert.ok(!existsSync(join(u.home, '.codex')), 'not even the folder');
  const claude = join(u.home, '.claude.json');
  writeFileSync(claude, '{"mcpServers": {"switchboard": {"command": "old"}}}');
  const report = JSON.parse(await ok(u, ['--client', 'claude-code', '--dry-run', '--json'])) as { action: string; dry_run: boolean };
  assert.deepEqual([report.action, report.dry_run], ['replaced', true]);
  assert.equal(readFileSync(claude, 'utf8'), '{"mcpServers": {"switchboard": {"command": "old"}}}');
});

test("--agent: its own server, switchboard-<agent>, beside the person's", async () => {
  const u = user();
  await ok(u, ['--client', 'vscode']);
  const out = await ok(u, ['--client', 'vscode', '--agent', 'alice.review-bot']);
  assert.match(out, /^added "switchboard-alice-review-bot" to /);
  assert.match(out, /note: this home has no agent "alice\.review-bot" yet/);
  const servers = JSON.parse(readFileSync(join(u.home, '.config', 'Code', 'User', 'mcp.json'), 'utf8')).servers as Record<string, { args: string[] }>;
  assert.deepEqual(Object.keys(servers), ['switchboard', 'switchboard-alice-review-bot']);
  assert.deepEqual(servers['switchboard-alice-review-bot']!.args, launchArgs(u.sbHome, 'alice.review-bot'));
  assert.deepEqual(servers.switchboard!.args, launchArgs(u.sbHome));
  // Once the home has a user, someone else's agent is not suggested to be created here (the relay would refuse).
  mkdirSync(u.sbHome, { recursive: true });
  writeFileSync(join(u.sbHome, 'config.json'), JSON.stringify({ user: 'alice' }));
  const foreign = await ok(u, ['--client', 'vscode', '--agent', 'bob.x']);
  assert.match(foreign, /\nnote: this home has no agent "bob\.x"; its agents are named alice\.<name>, and bob\.x is created from its owner's home\n/);
  assert.match(await ok(u, ['--client', 'vscode', '--agent', 'helper']), /\nnote: this home has no agent "alice\.helper" yet; create it with `switchboard agent create helper`\n/);
});

test('--agent <owner>.<name> and --agent <name> are one agent of this home: one server, switchboard-<name>', async () => {
  const u = user();
  mkdirSync(join(u.sbHome, 'agents', 'alice.claude'), { recursive: true, mode: 0o700 });
  writeFileSync(join(u.sbHome, 'config.json'), JSON.stringify({ user: 'alice' }));
  writeFileSync(join(u.sbHome, 'agents', 'alice.claude', 'config.json'), JSON.stringify({ user: 'alice.claude' }));
  const out = await ok(u, ['--client', 'claude-code', '--agent', 'alice.claude']);
  assert.match(out, /^added "switchboard-claude" to /);
  assert.doesNotMatch(out, /note:/, 'the agent exists');
  assert.match(await ok(u, ['--client', 'claude-code', '--agent', 'claude']), /^unchanged: .+ already has "switchboard-claude"/);
  const servers = JSON.parse(readFileSync(join(u.home, '.claude.json'), 'utf8')).mcpServers as Record<string, { args: string[] }>;
  assert.deepEqual(Object.keys(servers), ['switchboard-claude']);
  assert.deepEqual(servers['switchboard-claude']!.args, launchArgs(u.sbHome, 'claude'));
  const bad = await install(u, ['--client', 'claude-code', '--agent', '../x']);
  assert.equal(bad.code, 2, said(bad));
  assert.match(bad.stderr, /--agent takes an agent name such as claude/);
});

test('a symbolic link to the file (dotfiles kept elsewhere) is written through, not replaced', async () => {
  const u = user();
  const real = join(u.home, 'dotfiles', 'claude.json');
  mkdirSync(join(u.home, 'dotfiles'));
  writeFileSync(real, '{}\n');
  chmodSync(real, 0o660); // group-writable: a mode the umask would narrow on a fresh file
  symlinkSync(real, join(u.home, '.claude.json'));
  await ok(u, ['--client', 'claude-code']);
  assert.ok(JSON.parse(readFileSync(real, 'utf8')).mcpServers.switchboard);
  assert.equal(statSync(real).mode & 0o777, 0o660, 'its mode kept');
});

test('the entry it writes starts a working server from another folder: the client lists the tools', async () => {
  const u = { ...user(), sbHome: '' };
  u.sbHome = join(u.home, 'work-home'); // not the default home: the entry must name it
  await ok(u, ['--client', 'codex']);
  const entry = (parse(readFileSync(join(u.home, '.codex', 'config.toml'), 'utf8')) as { mcp_servers: Record<string, { command: string; args: string[] }> }).mcp_servers.switchboard!;
  const elsewhere = mkdtempSync(join(tmpdir(), 'sb-mcp-cwd-'));
  dirs.push(elsewhere);
  // as a client starts it: its own folder, an environment without SWITCHBOARD_HOME
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: u.home };
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, cwd: elsewhere, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'mcp-install-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const tool of ['send_message', 'wait_for_messages']) assert.ok(names.includes(tool), `${tool} in ${names.join(', ')}; stderr: ${stderr}`);
    assert.match(stderr, new RegExp(`serving ${u.sbHome}`), 'the home named in the entry');
  } finally {
    await client.close();
    await killHomeCore(u.sbHome);
  }
});

test('an unknown client is a usage error (exit 2) that lists the clients; --client is required', async () => {
  const u = user();
  const r = await install(u, ['--client', 'cursor']);
  assert.equal(r.code, 2, said(r));
  assert.match(r.stderr, /--client is one of claude-code, codex, vscode/);
  const none = await install(u, []);
  assert.equal(none.code, 2, said(none));
  assert.match(none.stderr, /needs --client/);
  const help = await install(u, ['--help']);
  assert.equal(help.code, 0);
  for (const client of ['claude-code', 'codex', 'vscode']) assert.match(help.stdout, new RegExp(`switchboard mcp install --client ${client}`), `an example for ${client}`);
});
