// Mutation testing (issue #19): `npm run test:mutation`. See docs/testing.md for when to run it.
//
// Scope: the modules where a wrong line loses or duplicates a message or lets someone in.
// Globs, not a fixed list, so modules added later under these names are mutated too.
const mutate = [
  // idempotency and fingerprints
  'server/idempotency.ts',
  'lib/node/send-fingerprint.ts',
  // the outbox and the sync engine
  'server/outbox/*.ts',
  'server/sync/engine.ts',
  'server/service.ts',
  // the write batcher
  'lib/node/write-batcher.ts',
  // the relay's ledger (and its store's quota and id-ownership checks)
  'relay/ledger.ts',
  'relay/store.ts',
  // limits and auth
  'relay/server.ts',
  'relay/session.ts',
  'relay/rate-limit.ts',
  'relay/tokens.ts',
  // peer-text neutralisation
  'server/cli/format.ts',
  'extension/format.ts',
  'lib/text-safety.ts',
  // framing
  'server/rpc/framing.ts',
  'server/rpc/frame-codec.ts',
  'lib/node/turn-writes.ts',
];

// Test files that exercise those modules in this process: the tap runner collects coverage
// per file and runs a mutant only against the files that reach it. Tests that spawn dist/
// binaries are left out: the binaries are not instrumented, so they could not kill a mutant.
const testFiles = [
  'test/unit/core-*.test.ts',
  'test/unit/relay-*.test.ts',
  'test/unit/extension-format*.test.ts',
  'test/unit/extension-tree-model.test.ts',
  'test/unit/text-*.test.ts',
  'test/unit/cli-socket-client.test.ts',
  'test/integration/relay-link.test.ts',
  'test/integration/relay-protocol.test.ts',
  'test/integration/sync-paths.test.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate,
  testRunner: 'tap',
  tap: {
    testFiles,
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '--test-timeout=60000'],
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  // Two shared cores: never more than two test processes at once.
  concurrency: 2,
  // A mutant that makes a test wait for its deadline is a timeout (killed), not a hang.
  timeoutMS: 20_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  // dist/ stays in the sandbox: cli-socket-client.test.ts also drives the built CLI (test/support/cli.ts),
  // so `npm run test:mutation` builds first.
  ignorePatterns: ['out', 'artifacts', '.bench-data', '.e2e-cache', 'reports', '*.vsix', 'media', 'test/e2e', 'test/vscode'],
  cleanTempDir: true,
};
