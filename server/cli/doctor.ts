/**
 * `switchboard doctor`: checks a home end to end and says what to fix (exit 1 when a check
 * fails). The declaration; the checks are doctor-checks.ts, a bundle of its own (bundles.ts).
 */
import { JSON_FLAG } from './args';
import { command, spec } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { bundle, inBundle } from './bundles';
import type * as Checks from './doctor-checks';

const doctorSpec = spec({
  name: 'doctor',
  summary: 'check this home end to end and say what to fix (exit 1 when a check fails)',
  flags: { json: JSON_FLAG },
  examples: ['switchboard doctor', 'switchboard doctor --json | jq .ok'],
});

export const doctor = command(doctorSpec, async ({ values }, context: VerbContext) => inBundle(() => bundle<typeof Checks>('doctor-checks').runDoctor(values.json ?? false, context)));
