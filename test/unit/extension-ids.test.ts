/**
 * package.json and the extension name the same commands, views and context keys: every id in
 * extension/ids.ts and extension/contextKeys.ts is the one package.json contributes or switches
 * on, and no `switchboard.*` string sits anywhere else in extension/ but setting names.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ContextKeys, USER_CONTEXT_KEYS } from '../../extension/contextKeys';
import { Commands, MCP_PROVIDER_ID, Views } from '../../extension/ids';

const ROOT = join(__dirname, '..', '..');

interface Contributes {
  commands: { command: string }[];
  menus: Record<string, { command: string; when?: string }[]>;
  keybindings: { command: string; when?: string }[];
  views: Record<string, { id: string; when?: string }[]>;
  viewsWelcome: { view: string; when?: string; contents: string }[];
  configuration: { properties: Record<string, unknown> };
  mcpServerDefinitionProviders: { id: string; label: string }[];
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: Contributes };
const c = pkg.contributes;

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** Every `when` clause in package.json. */
function whenClauses(): string[] {
  const out: string[] = [];
  for (const items of Object.values(c.menus)) for (const i of items) if (i.when) out.push(i.when);
  for (const k of c.keybindings) if (k.when) out.push(k.when);
  for (const items of Object.values(c.views)) for (const v of items) if (v.when) out.push(v.when);
  for (const w of c.viewsWelcome) if (w.when) out.push(w.when);
  return out;
}

/** The key of each term of a `when` clause, and the value it is compared with (`view == x` → ['view', 'x']). */
function whenTerms(when: string): [key: string, value: string | undefined][] {
  return when
    .split(/&&|\|\|/)
    .map((t) => t.trim().replace(/^[!(\s]+|[)\s]+$/g, ''))
    .filter((t) => t && t !== 'true' && t !== 'false')
    .map((t) => {
      const m = /^(\S+)\s*(?:==|!=|=~|<=|>=|<|>|\s+not in\s+|\s+in\s+)\s*(.+)$/.exec(t);
      return m ? [m[1]!, m[2]!.trim()] : [t, undefined];
    });
}

describe('package.json and extension/ids.ts, contextKeys.ts', () => {
  it('the when-clause reader takes keys, not values', () => {
    assert.deepEqual(whenTerms('!switchboard.connection || switchboard.connection == connecting'), [['switchboard.connection', undefined], ['switchboard.connection', 'connecting']]);
    assert.deepEqual(whenTerms('view == switchboard.inbox && viewItem =~ /\\.unread$/'), [['view', 'switchboard.inbox'], ['viewItem', '/\\.unread$/']]);
    assert.deepEqual(whenTerms('false'), []);
  });

  it('contributes exactly the commands in Commands', () => {
    assert.deepEqual(sorted(c.commands.map((x) => x.command)), sorted(Object.values(Commands)));
  });

  it('menus, keybindings and welcome-view links name only commands in Commands (or VS Code\'s own)', () => {
    const ours = new Set<string>(Object.values(Commands));
    const named = [...Object.values(c.menus).flat().map((m) => m.command), ...c.keybindings.map((k) => k.command), ...c.viewsWelcome.flatMap((w) => [...w.contents.matchAll(/\(command:([A-Za-z0-9_.]+)/g)].map((m) => m[1]!))];
    const switchboard = named.filter((n) => n.startsWith('switchboard.'));
    assert.deepEqual(switchboard.filter((n) => !ours.has(n)), []);
    assert.ok(switchboard.length > 20, 'the reader found the references');
    assert.deepEqual(named.filter((n) => !n.startsWith('switchboard.')), ['workbench.action.openSettings'], 'the only foreign command is the settings link');
  });

  it('contributes the one MCP server definition provider the extension registers', () => {
    assert.deepEqual(c.mcpServerDefinitionProviders, [{ id: MCP_PROVIDER_ID, label: 'Switchboard' }]);
  });

  it('contributes exactly the views in Views, and when clauses compare view ids with those', () => {
    assert.deepEqual(sorted(Object.values(c.views).flat().map((v) => v.id)), sorted(Object.values(Views)));
    assert.deepEqual(sorted(c.viewsWelcome.map((w) => w.view)), sorted(Object.values(Views)));
    const compared = whenClauses().flatMap(whenTerms).filter(([k]) => k === 'view' || k === 'focusedView').map(([, v]) => v!);
    assert.deepEqual(sorted(compared), sorted(Object.values(Views)));
  });

  it('when clauses switch on exactly the context keys in ContextKeys that are not for users alone', () => {
    const used = sorted(whenClauses().flatMap(whenTerms).map(([k]) => k).filter((k) => k.startsWith('switchboard.')));
    const userOnly = new Set<string>(USER_CONTEXT_KEYS);
    assert.deepEqual(used, sorted(Object.values(ContextKeys).filter((k) => !userOnly.has(k))));
    assert.deepEqual(used.filter((k) => userOnly.has(k)), [], 'a key package.json uses is not for users alone');
  });

  it('the context keys for users alone are documented for them', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'extension.md'), 'utf8');
    for (const k of Object.values(ContextKeys)) assert.ok(doc.includes(`\`${k}\``), `docs/extension.md names ${k}`);
  });

  it('no other switchboard.* string in extension/ but setting names', () => {
    const settings = new Set(Object.keys(c.configuration.properties));
    const dir = join(ROOT, 'extension');
    const stray: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && n !== 'ids.ts' && n !== 'contextKeys.ts')) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/['"`](switchboard\.[A-Za-z0-9_.]+)/g)) if (!settings.has(m[1]!)) stray.push(`${f}: ${m[1]}`);
    }
    assert.deepEqual(stray, []);
  });
});
