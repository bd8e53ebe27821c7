// Bundles every entry point with esbuild. Entries whose source is absent are skipped, so a
// partial checkout still builds what it has.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const production = process.argv.includes('--production');
// jsonc-parser's `main` is a UMD build whose run-time require('./impl/…') esbuild cannot follow: bundle its ES module build.
const alias = { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' };
const node = { alias, platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', define: { SWITCHBOARD_VERSION: JSON.stringify(version) } };

// The work of CLI verbs a delegated `send` never needs, each a bundle of its own beside dist/cli.js,
// required only when its verb runs (server/cli/bundles.ts, whose BundleName lists the same names):
const cliBundles = [
  'core-service', // `daemon install | uninstall`: the systemd unit and launchd plist writers
  'daemon-control', // `daemon start | stop | restart`: spawning a core and waiting for it (node:child_process)
  'doctor-checks', // `doctor`
  'file-transfer', // `send --attach` and `download`: hashing, progress, writing files (node:crypto, node:fs/promises)
  'mcp-install', // `mcp install`: the config file editors with jsonc-parser and smol-toml
];

const entries = [
  // The CLI: every verb's declaration and the message verbs' work; loads the store code only when it runs a verb directly.
  { ...node, entryPoints: ['server/cli/main.ts'], outfile: 'dist/cli.js', external: ['./direct.js', './relay.js', './mcp.js', ...cliBundles.map((name) => `./${name}.js`)] },
  ...cliBundles.map((name) => ({ ...node, entryPoints: [`server/cli/${name}.ts`], outfile: `dist/${name}.js` })),
  // The MCP server (`switchboard mcp`): the SDK stays out of the CLI bundle, loaded only for that verb.
  { ...node, entryPoints: ['server/mcp/main.ts'], outfile: 'dist/mcp.js' },
  // Everything that opens the store: direct CLI verbs and the core daemon.
  { ...node, entryPoints: ['server/direct.ts'], outfile: 'dist/direct.js', external: ['better-sqlite3'] },
  { ...node, entryPoints: ['server/daemon.ts'], outfile: 'dist/daemon.js', external: ['better-sqlite3'] },
  { ...node, entryPoints: ['relay/main.ts'], outfile: 'dist/relay.js', external: ['better-sqlite3'] },
  { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { platform: 'browser', target: 'es2022', format: 'iife', bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
];

await Promise.all(entries.filter((e) => existsSync(e.entryPoints[0])).map((e) => build(e)));

// The conversation view's icon font ships from the package, not a copy kept in the repository.
const codicons = new URL('../node_modules/@vscode/codicons/', import.meta.url);
mkdirSync(new URL('../dist/codicons/', import.meta.url), { recursive: true });
for (const file of ['dist/codicon.css', 'dist/codicon.ttf', 'LICENSE', 'LICENSE-CODE']) {
  copyFileSync(new URL(file, codicons), new URL(`../dist/codicons/${file.replace('dist/', '')}`, import.meta.url));
}
