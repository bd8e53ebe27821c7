import { build } from 'esbuild';
const r = await build({ platform: 'node', target: 'node20', format: 'cjs', bundle: true, minify: true, write: false, metafile: true, entryPoints: ['server/cli/main.ts'], outfile: '/tmp/cli.js', external: ['./direct.js', './relay.js'], define: { SWITCHBOARD_VERSION: '"x"' } });
const out = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(out.inputs).map(([k, v]) => [v.bytesInOutput, k]).sort((a, b) => b[0] - a[0]);
for (const [b, k] of rows.slice(0, 40)) console.log(b, k);
