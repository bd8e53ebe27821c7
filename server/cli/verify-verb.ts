/**
 * `switchboard verify <user> [--confirm <number> | --accept-change]` (design.md §4.3, issue 18):
 * the safety number of you and a user, marking it verified, or accepting their changed keys.
 * The core asks the relay's key directory (a verb without a core brings the link up for it), so
 * delegated and direct answer the same.
 */
import { USER_NAME_RULE, isValidUserName } from '../../protocol/names';
import type { TrustInfo } from '../../protocol/rpc';
import { ExitCode, usage } from '../../lib/node/cli/errors';
import { command, spec } from '../../lib/node/cli/command';
import { JSON_FLAG } from './args';
import type { VerbContext } from './context';
import { inert, inertJson } from './format';
import { withCore } from './session';

const verifySpec = spec({
  name: 'verify',
  summary: 'show the safety number of you and a user; --confirm it once compared, or --accept-change after their keys changed',
  details: [
    'Compare the 60 digits with the user over another channel (in person, a call). If they match, `--confirm <number>` marks the user verified.',
    'When the user\'s keys changed (`peers` says changed), sends to them fail until you run `--accept-change`: compare the new number first.',
    'Trust is `unverified`, `verified` or `changed` (--json: {"user", "trust", "safety_number", "new_safety_number", "devices", "fresh"}).',
  ],
  flags: {
    confirm: { type: 'string', value: 'number', conflicts: ['accept-change'], description: 'mark the user verified: the safety number as you compared it (spaces ignored); a wrong one exits 1' },
    'accept-change': { type: 'boolean', description: "accept the user's changed keys (they become the pinned keys, unverified)" },
    json: JSON_FLAG,
  },
  positionals: [{ name: 'user', description: 'the user whose keys to check' }],
  examples: ['switchboard verify bob', 'switchboard verify bob --confirm "12345 67890 …"', 'switchboard verify bob --accept-change'],
});

export const verify = command(verifySpec, async ({ values, positionals }, context: VerbContext) => {
  const user = positionals[0]!;
  if (!isValidUserName(user)) throw usage(`invalid user name "${user}": ${USER_NAME_RULE}`);
  if (values.confirm !== undefined && values['accept-change'] === true) throw usage('give --confirm or --accept-change, not both');
  if (values.confirm !== undefined && !/^[\d\s-]+$/.test(values.confirm)) throw usage('--confirm takes the safety number: digits, in groups or not');
  const info = await withCore(
    context.paths,
    (core) =>
      values.confirm !== undefined
        ? core.call('trust/confirm', { user, safety_number: values.confirm })
        : values['accept-change'] === true
          ? core.call('trust/accept', { user })
          : core.call('trust/show', { user }),
    { sync: true },
  );
  context.out(values.json ? inertJson(info) : trustLines(info).join('\n'));
  return ExitCode.Ok;
});

export function trustLines(info: TrustInfo): string[] {
  const lines = [`${inert(info.user)}: ${info.trust} (${info.devices} device${info.devices === 1 ? '' : 's'})`, `safety number: ${info.safety_number ?? 'none'}`];
  if (info.new_safety_number) lines.push(`new safety number: ${info.new_safety_number}`, `their keys changed: compare the new number with ${inert(info.user)}, then \`switchboard verify ${info.user} --accept-change\``);
  else if (info.trust === 'unverified') lines.push(`compare it with ${inert(info.user)} over another channel, then \`switchboard verify ${info.user} --confirm <number>\``);
  if (!info.fresh) lines.push('(the relay could not be asked: these are the keys pinned before)');
  return lines;
}
