// Runs test/vscode/suite.ts (bundled next to this file as suite.js) inside code-server's
// extension host, where --extensionTestsPath is not honoured. Writes the outcome to the file
// named by SWITCHBOARD_SUITE_RESULT: first line "PASS" or "FAIL <reason>", then the report.
const { writeFileSync } = require('node:fs');

exports.activate = () => {
  const out = process.env.SWITCHBOARD_SUITE_RESULT;
  if (!out) return;
  const lines = [];
  const started = Date.now();
  require('./suite.js')
    .runWith((line) => lines.push(line))
    .then(
      () => writeFileSync(out, `PASS in ${Date.now() - started} ms\n${lines.join('\n')}\n`),
      (err) => writeFileSync(out, `FAIL ${err && err.message ? err.message : String(err)}\n${lines.join('\n')}\n`),
    );
};
