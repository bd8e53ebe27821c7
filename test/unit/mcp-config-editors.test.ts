/**
 * The pure editors behind `switchboard mcp install` (server/cli/mcp-json-entry.ts,
 * mcp-toml-entry.ts, mcp-entry.ts, mcp-clients.ts): the entry goes in, every other byte of the
 * file stays; a same entry is "unchanged"; a file that does not parse is refused with its line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

/** smol-toml's and jsonc-parser's objects have no prototype: compare as plain JSON. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
import { parse } from 'smol-toml';
import { clientPlace, vscodeUserDir } from '../../server/cli/mcp-clients';
import { sameValue, serverLaunch, serverName } from '../../server/cli/mcp-entry';
import { setJsonEntry } from '../../server/cli/mcp-json-entry';
import { dottedKey, setTomlEntry, tomlSnippet } from '../../server/cli/mcp-toml-entry';

const launch = serverLaunch('/usr/bin/node', '/opt/sb/dist/cli.js', '/home/u/.switchboard', undefined);
const entry = { type: 'stdio', command: launch.command, args: launch.args };
const vscode = { container: 'servers', name: 'switchboard', entry, jsonc: true };

test('the launch is absolute node + cli.js + mcp --home (+ --agent); names are switchboard[-agent] in the clients\' alphabet', () => {
  assert.deepEqual(launch, { command: '/usr/bin/node', args: ['/opt/sb/dist/cli.js', 'mcp', '--home', '/home/u/.switchboard'] });
  assert.deepEqual(serverLaunch('/n', '/c.js', '/h', 'alice.claude').args, ['/c.js', 'mcp', '--home', '/h', '--agent', 'alice.claude']);
  assert.equal(serverName(undefined), 'switchboard');
  assert.equal(serverName('Alice.Claude'), 'switchboard-alice-claude');
  assert.equal(serverName('review_bot-2'), 'switchboard-review_bot-2');
});

test('sameValue: deep, key order ignored, arrays in order', () => {
  assert.ok(sameValue({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(!sameValue({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!sameValue([1, 2], [2, 1]));
  assert.ok(!sameValue({ a: [1] }, { a: { 0: 1 } }));
  assert.ok(!sameValue({ a: 1 }, { b: 1 }));
});

test('JSON: a new file gets the container and the entry', () => {
  const r = setJsonEntry('', vscode);
  assert.equal(r.kind, 'added');
  assert.ok(r.kind === 'added');
  assert.deepEqual(JSON.parse(r.text), { servers: { switchboard: entry } });
});

const withComments = `// my VS Code MCP servers
{
\t"inputs": [], // none yet
\t"servers": {
\t\t/* the one I use most */
\t\t"github": { "type": "http", "url": "https://example.invalid/mcp" },
\t},
}
`;

test('JSONC: comments, trailing commas, tabs and the other server stay byte for byte; only the entry is inserted', () => {
  const r = setJsonEntry(withComments, vscode);
  assert.ok(r.kind === 'added', JSON.stringify(r));
  // everything that was there is still there, in order: the new text is the old one with one insertion
  let i = 0;
  let inserted = '';
  for (let j = 0; j < r.text.length; j++) {
    if (r.text[j] === withComments[i]) i++;
    else inserted += r.text[j];
  }
  assert.equal(i, withComments.length, 'every byte of the old file is kept, in order');
  assert.match(inserted, /"switchboard": \{/);
  assert.match(r.text, /\n\t\t"switchboard": \{\n\t\t\t"type": "stdio",/, 'indented with the file\'s tabs');
  const again = setJsonEntry(r.text, vscode);
  assert.equal(again.kind, 'unchanged');
  assert.equal(again.text, r.text);
});

test('JSON: an entry that differs is replaced in place, the rest kept; the previous one is reported', () => {
  const old = '{\n  "mcpServers": {\n    "a": {"command": "x"},\n    "switchboard": {"type": "stdio", "command": "/old/node", "args": []},\n    "z": {"command": "y"}\n  },\n  "theme": "dark"\n}\n';
  const r = setJsonEntry(old, { ...vscode, container: 'mcpServers', jsonc: false });
  assert.ok(r.kind === 'replaced', JSON.stringify(r));
  assert.deepEqual(plain(r.previous), { type: 'stdio', command: '/old/node', args: [] });
  const parsed = JSON.parse(r.text) as { mcpServers: Record<string, unknown>; theme: string };
  assert.deepEqual(Object.keys(parsed.mcpServers), ['a', 'switchboard', 'z'], 'same place');
  assert.deepEqual(parsed.mcpServers.switchboard, entry);
  assert.ok(r.text.startsWith('{\n  "mcpServers": {\n    "a": {"command": "x"},\n    "switchboard": '));
  assert.ok(r.text.endsWith('\n    "z": {"command": "y"}\n  },\n  "theme": "dark"\n}\n'));
});

test('JSON: a comment at the end of the last property\'s line stays on that line', () => {
  const r = setJsonEntry('{\n  "servers": {\n    "a": {} // mine\n  }\n}\n', vscode);
  assert.ok(r.kind === 'added');
  assert.ok(r.text.startsWith('{\n  "servers": {\n    "a": {}, // mine\n    "switchboard": {\n'), r.text);
  const trailing = setJsonEntry('{\n  "servers": {\n    "a": {}, /* mine */\n  }\n}\n', vscode);
  assert.ok(trailing.kind === 'added');
  assert.ok(trailing.text.startsWith('{\n  "servers": {\n    "a": {}, /* mine */\n    "switchboard": {\n'), trailing.text);
  assert.ok(trailing.text.endsWith('\n    },\n  }\n}\n'), 'the trailing comma style kept');
});

test('JSON: duplicate keys (the last one wins for the client) are refused rather than edited where the client would not look', () => {
  const twice = '{\n  "servers": {"a": 1},\n  "servers": {"b": 2}\n}\n';
  const r = setJsonEntry(twice, vscode);
  assert.ok(r.kind === 'refused', JSON.stringify(r));
  assert.match(r.reason, /could not be edited without changing more than the entry/);
  const entryTwice = '{"servers": {"switchboard": {"old": 1}, "switchboard": {"old": 2}}}';
  assert.equal(setJsonEntry(entryTwice, vscode).kind, 'refused');
});

test('JSON: the same entry with keys in another order is unchanged', () => {
  const text = JSON.stringify({ servers: { switchboard: { args: entry.args, command: entry.command, type: 'stdio' } } });
  assert.equal(setJsonEntry(text, vscode).kind, 'unchanged');
});

test('JSON: a file that does not parse is refused with its line; comments are refused in plain JSON', () => {
  const broken = '{\n  "servers": {\n    "a": 1\n    "b": 2\n  }\n}\n';
  const r = setJsonEntry(broken, vscode);
  assert.ok(r.kind === 'refused');
  assert.equal(r.line, 4);
  assert.match(r.reason, /does not parse as JSON with comments \(CommaExpected at line 4, column 5\)/);
  const commented = '{\n  // a comment\n  "mcpServers": {}\n}\n';
  const plain = setJsonEntry(commented, { ...vscode, container: 'mcpServers', jsonc: false });
  assert.ok(plain.kind === 'refused');
  assert.equal(plain.line, 2);
  assert.equal(setJsonEntry(commented, { ...vscode, container: 'mcpServers', jsonc: true }).kind, 'added');
});

test('JSON: a root or a container that is not an object is refused', () => {
  assert.equal(setJsonEntry('[1, 2]', vscode).kind, 'refused');
  const r = setJsonEntry('{\n  "servers": []\n}', vscode);
  assert.ok(r.kind === 'refused');
  assert.match(r.reason, /"servers" is not an object/);
  assert.equal(r.line, 2);
});

const codex = `# Codex settings
model = "o4-mini" # the default

[mcp_servers.docs]
command = "docs-mcp"
args = ["--port", "0"]

# switchboard, set up by hand long ago
[mcp_servers.switchboard]
command = "/old/node"
args = ["/old/cli.js", "mcp"]

[mcp_servers.switchboard.env]
DEBUG = "1"

# shell settings follow
[shell_environment_policy]
inherit = "core"
`;

test('TOML: a new file gets the table; a file without one gets it appended after a blank line', () => {
  const fresh = setTomlEntry('', 'switchboard', launch);
  assert.ok(fresh.kind === 'added');
  assert.equal(fresh.text, tomlSnippet('switchboard', launch));
  assert.deepEqual(plain(parse(fresh.text)), { mcp_servers: { switchboard: { command: launch.command, args: launch.args } } });
  const head = 'model = "o3"\n# keep me\n';
  const r = setTomlEntry(head, 'switchboard', launch);
  assert.ok(r.kind === 'added');
  assert.equal(r.text, `${head}\n${tomlSnippet('switchboard', launch)}`);
  const noEol = setTomlEntry('model = "o3"', 'switchboard', launch);
  assert.ok(noEol.kind === 'added');
  assert.equal(noEol.text, `model = "o3"\n\n${tomlSnippet('switchboard', launch)}`);
});

test('TOML: an entry that differs is replaced with its sub-tables; comments and other tables stay byte for byte', () => {
  const r = setTomlEntry(codex, 'switchboard', launch);
  assert.ok(r.kind === 'replaced', JSON.stringify(r));
  const [before, after] = codex.split(/\[mcp_servers\.switchboard\][\s\S]*?DEBUG = "1"\n/);
  assert.equal(r.text, `${before}${tomlSnippet('switchboard', launch)}${after}`);
  assert.match(r.text, /# switchboard, set up by hand long ago\n\[mcp_servers\.switchboard\]\n/);
  assert.match(r.text, /\n# shell settings follow\n\[shell_environment_policy\]/);
  assert.deepEqual(plain(r.previous), { command: '/old/node', args: ['/old/cli.js', 'mcp'], env: { DEBUG: '1' } });
  const again = setTomlEntry(r.text, 'switchboard', launch);
  assert.equal(again.kind, 'unchanged');
  assert.equal(again.text, r.text);
});

test('TOML: our table last in the file, with trailing comments, keeps them', () => {
  const text = 'a = 1\n\n[mcp_servers.switchboard]\ncommand = "x"\n\n# the end\n';
  const r = setTomlEntry(text, 'switchboard', launch);
  assert.ok(r.kind === 'replaced');
  assert.equal(r.text, `a = 1\n\n${tomlSnippet('switchboard', launch)}\n# the end\n`);
});

test('TOML: CRLF files keep CRLF; Windows paths are escaped', () => {
  const win = serverLaunch('C:\\Program Files\\nodejs\\node.exe', 'C:\\sb\\dist\\cli.js', 'C:\\Users\\u\\.switchboard', undefined);
  const r = setTomlEntry('model = "o3"\r\n', 'switchboard', win);
  assert.ok(r.kind === 'added');
  assert.ok(r.text.startsWith('model = "o3"\r\n\r\n[mcp_servers.switchboard]\r\ncommand = "C:\\\\Program Files\\\\nodejs\\\\node.exe"\r\n'));
  assert.doesNotMatch(r.text.replace(/\r\n/g, ''), /\n/);
  assert.deepEqual(plain((parse(r.text) as { mcp_servers: Record<string, unknown> }).mcp_servers.switchboard), { command: win.command, args: win.args });
});

test('TOML: a name that is not a bare key is quoted; a header inside a multi-line string is not a header', () => {
  assert.match(tomlSnippet('a.b', launch), /^\[mcp_servers\."a\.b"\]\n/);
  const tricky = 'note = """\n[mcp_servers.switchboard]\ncommand = "fake"\n"""\n';
  const r = setTomlEntry(tricky, 'switchboard', launch);
  assert.ok(r.kind === 'added', JSON.stringify(r));
  assert.ok(r.text.startsWith(tricky));
  assert.deepEqual(dottedKey(' mcp_servers . "switch.board" '), ['mcp_servers', 'switch.board']);
  assert.deepEqual(dottedKey("a.'b c'"), ['a', 'b c']);
  assert.equal(dottedKey('a..b'), undefined);
});

test('TOML: an edit that would leave the file unparsable (a header inside a string, misread) is refused', () => {
  // a comment holding ''' misleads the line reader about where a literal multi-line string starts,
  // so the "header" inside the string looks like ours: the check after the edit catches it
  const text = "x = 1 # '''\ns = '''\n[mcp_servers.switchboard]\ncommand = \"fake\"\n'''\n";
  const r = setTomlEntry(text, 'switchboard', launch);
  assert.ok(r.kind === 'refused', JSON.stringify(r));
  assert.match(r.reason, /could not be edited without changing more than mcp_servers\.switchboard; add this table by hand:\n\[mcp_servers\.switchboard\]\n/);
});

test('TOML: an array of tables under our entry (which this command does not edit) is refused, not left half-replaced', () => {
  const text = '[mcp_servers.switchboard]\ncommand = "x"\n\n[[mcp_servers.switchboard.tools]]\nname = "a"\n';
  const r = setTomlEntry(text, 'switchboard', launch);
  assert.ok(r.kind === 'refused', JSON.stringify(r));
  assert.match(r.reason, /add this table by hand/);
});

test('TOML: a path with DEL (which TOML wants escaped) round-trips', () => {
  const odd = serverLaunch('/usr/bin/node', '/opt/we\u007fird/cli.js', '/h', undefined);
  const r = setTomlEntry('', 'switchboard', odd);
  assert.ok(r.kind === 'added', JSON.stringify(r));
  assert.match(r.text, /we\\u007Fird/);
  assert.deepEqual(plain(parse(r.text)), { mcp_servers: { switchboard: { command: odd.command, args: odd.args } } });
});

test('TOML: a file that does not parse is refused with its line; an inline definition is refused, not duplicated', () => {
  const r = setTomlEntry('a = 1\nb = [\n', 'switchboard', launch);
  assert.ok(r.kind === 'refused');
  assert.equal(r.line, 3);
  assert.match(r.reason, /does not parse as TOML \(.+ at line 3, column 1\)/);
  const inline = setTomlEntry('[mcp_servers]\nswitchboard = { command = "x" }\n', 'switchboard', launch);
  assert.ok(inline.kind === 'refused');
  assert.match(inline.reason, /inline table or dotted keys/);
  const notTable = setTomlEntry('mcp_servers = 3\n', 'switchboard', launch);
  assert.ok(notTable.kind === 'refused');
  // appending would redefine an inline mcp_servers table: caught by the check after the edit
  const inlineParent = setTomlEntry('mcp_servers = { docs = { command = "d" } }\n', 'switchboard', launch);
  assert.ok(inlineParent.kind === 'refused', JSON.stringify(inlineParent));
  assert.match(inlineParent.reason, /add this table by hand/);
});

test('client files: per client, scope and platform; CLAUDE_CONFIG_DIR, CODEX_HOME and XDG_CONFIG_HOME are followed', () => {
  const p = { env: {}, platform: 'linux' as const, userHome: '/home/u', cwd: '/work/p' };
  assert.equal(clientPlace('claude-code', 'user', p).file, '/home/u/.claude.json');
  assert.equal(clientPlace('claude-code', 'project', p).file, '/work/p/.mcp.json');
  assert.equal(clientPlace('codex', 'user', p).file, '/home/u/.codex/config.toml');
  assert.equal(clientPlace('vscode', 'user', p).file, '/home/u/.config/Code/User/mcp.json');
  assert.equal(clientPlace('vscode', 'project', p).file, '/work/p/.vscode/mcp.json');
  const env = { CLAUDE_CONFIG_DIR: '/c', CODEX_HOME: '/x', XDG_CONFIG_HOME: '/cfg' };
  assert.equal(clientPlace('claude-code', 'user', { ...p, env }).file, '/c/.claude.json');
  assert.equal(clientPlace('codex', 'user', { ...p, env }).file, '/x/config.toml');
  assert.equal(clientPlace('vscode', 'user', { ...p, env }).file, '/cfg/Code/User/mcp.json');
  assert.equal(vscodeUserDir({ ...p, platform: 'darwin' }), '/home/u/Library/Application Support/Code/User');
  assert.equal(vscodeUserDir({ ...p, platform: 'win32', env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' } }), 'C:\\Users\\u\\AppData\\Roaming\\Code\\User');
  assert.equal(clientPlace('vscode', 'user', p).entry(launch).type, 'stdio');
  assert.equal(clientPlace('vscode', 'user', p).container, 'servers');
  assert.equal(clientPlace('claude-code', 'user', p).container, 'mcpServers');
});
