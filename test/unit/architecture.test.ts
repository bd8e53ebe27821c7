/**
 * The floor plan (docs/architecture.md §1) is the architecture: this test holds the page, each
 * part's tsconfig.json and every import in the code to one table, and finds import cycles.
 * `tsc -b` refuses a cross-part import on its own; this test also catches what the compiler
 * cannot see (the page drifting from the tsconfigs, a Node built-in reached through a bare
 * specifier, a cycle) and says which line of the plan an import breaks.
 */
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ROOT } from '../support/cli';

interface Part {
  folder: string;
  sees: string;
  mayImport: string[];
}

const TOOLS = ['test/', 'bench/', 'scripts/'];

/** The §1 table of docs/architecture.md, one entry per product part (tests and tools left out). */
function floorPlan(): Part[] {
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = page.slice(page.indexOf('## 1. Floor plan'), page.indexOf('\n## 2.'));
  const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| part') && !line.startsWith('|---'));
  const folders = (cell: string) => [...cell.matchAll(/`([^`]+\/)`/g)].map((m) => m[1]!);
  const parts = rows.map((row) => {
    const cells = row.split('|').map((c) => c.trim());
    return { folder: folders(cells[2]!)[0]!, sees: cells[3]!, mayImport: folders(cells[4]!) };
  });
  return parts.filter((p) => !TOOLS.includes(p.folder));
}

/** The part a repository path belongs to: the longest folder that holds it (lib/node/ before lib/). */
function partOf(path: string, parts: Part[]): string | undefined {
  const holders = [...parts.map((p) => p.folder), ...TOOLS].filter((folder) => path.startsWith(folder));
  return holders.sort((a, b) => b.length - a.length)[0];
}

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'node_modules') walk(path);
      } else if (/\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, folder));
  return out;
}

/** Every module specifier a file names: static and dynamic imports, re-exports, `import type` too. */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** A relative specifier as the repository path of the file it names, when it names one. */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(ROOT, dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(ROOT, candidate);
  }
  return undefined;
}

const NODE_BUILTINS = new Set(builtinModules);
const isNodeBuiltin = (spec: string) => spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]!);

interface Edge {
  from: string;
  to: string;
}

function importGraph(files: string[]): { edges: Edge[]; bare: { from: string; spec: string }[] } {
  const edges: Edge[] = [];
  const bare: { from: string; spec: string }[] = [];
  for (const from of files) {
    for (const spec of specifiers(from)) {
      if (!spec.startsWith('.')) bare.push({ from, spec });
      else {
        const to = resolveRelative(from, spec);
        assert.ok(to, `${from} imports ${spec}, which names no file`);
        edges.push({ from, to });
      }
    }
  }
  return { edges, bare };
}

const parts = floorPlan();
const productFiles = parts.flatMap((p) => sourceFiles(p.folder)).filter((file, i, all) => all.indexOf(file) === i);
const everyFile = [...productFiles, ...TOOLS.flatMap((folder) => sourceFiles(folder).filter((f) => /\.(ts|mts|cts)$/.test(f)))];

test('the floor plan names every product folder, and every product folder is in it', () => {
  assert.deepEqual(
    parts.map((p) => p.folder).sort(),
    ['extension/', 'lib/', 'lib/node/', 'protocol/', 'relay/', 'server/', 'webview/'],
  );
  for (const part of parts) for (const allowed of part.mayImport) assert.ok(parts.some((p) => p.folder === allowed), `${part.folder} may import ${allowed}, which is not a part`);
});

test("each part's tsconfig.json references exactly the parts the floor plan lets it import, and sees the platform its row says", () => {
  for (const part of parts) {
    const file = join(ROOT, part.folder, 'tsconfig.json');
    const config = ts.readConfigFile(file, ts.sys.readFile);
    assert.equal(config.error, undefined, `${file} does not parse`);
    const references = ((config.config.references ?? []) as { path: string }[]).map((r) => `${relative(ROOT, resolve(ROOT, part.folder, r.path))}/`).sort();
    assert.deepEqual(references, [...part.mayImport].sort(), `${part.folder}tsconfig.json references`);
    const options = config.config.compilerOptions as { lib?: string[]; types?: string[] };
    const sees = (what: string) => part.sees.includes(what);
    assert.equal((options.lib ?? []).includes('DOM'), sees('DOM'), `${part.folder}: DOM in lib, and "${part.sees}" on the page`);
    assert.equal((options.types ?? []).includes('node'), sees('node'), `${part.folder}: node in types, and "${part.sees}" on the page`);
    assert.equal((options.types ?? []).includes('vscode'), sees('vscode'), `${part.folder}: vscode in types, and "${part.sees}" on the page`);
  }
  const root = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { references: { path: string }[] };
  assert.deepEqual(root.references.map((r) => `${r.path}/`).sort(), parts.map((p) => p.folder).sort(), 'the root tsconfig builds every part');
});

test('every import in a product part stays inside the floor plan', () => {
  const { edges, bare } = importGraph(productFiles);
  const broken: string[] = [];
  for (const { from, to } of edges) {
    const fromPart = partOf(from, parts)!;
    const toPart = partOf(to, parts);
    if (toPart === fromPart) continue;
    const allowed = parts.find((p) => p.folder === fromPart)!.mayImport;
    if (!toPart || !allowed.includes(toPart)) broken.push(`${from} imports ${to}: ${fromPart} may import only ${allowed.join(', ') || 'nothing of ours'}`);
  }
  for (const { from, spec } of bare) {
    const part = parts.find((p) => p.folder === partOf(from, parts))!;
    if (isNodeBuiltin(spec) && !part.sees.includes('node')) broken.push(`${from} imports ${spec}: ${part.folder} does not see node`);
    if ((spec === 'vscode' || spec.startsWith('vscode-languageclient')) && !part.sees.includes('vscode')) broken.push(`${from} imports ${spec}: ${part.folder} does not see vscode`);
  }
  assert.deepEqual(broken, []);
});

test('no file imports one that imports it back, however far round (type-only imports included)', () => {
  const { edges } = importGraph(everyFile);
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's strongly connected components: any component of more than one file is a cycle.
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    order.set(file, index);
    low.set(file, index++);
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!order.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, order.get(to)!));
    }
    if (low.get(file) === order.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (next.get(file) ?? []).includes(file)) cycles.push(component.sort());
    }
  };
  for (const file of everyFile) if (!order.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});
