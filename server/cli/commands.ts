/**
 * The table of every `switchboard` verb, in the order help lists them. Each verb declares
 * itself in its own module; this file only gathers them (nothing it lists imports it back).
 * `relay …` is not here: it is the relay's own table (relay/main.ts), loaded only when used.
 */
import { HOME_FLAG } from './args';
import { group, type Command } from '../../lib/node/cli/command';
import type { VerbContext } from './context';
import { EXIT_CODE_MEANINGS } from '../../lib/node/cli/errors';
import type { HelpOptions } from '../../lib/node/cli/help';
import { daemon } from './daemon-verbs';
import { doctor } from './doctor';
import { init } from './init';
import { ask } from './streaming';
import { config } from './config-verbs';
import { groupVerb } from './group-verbs';
import { agentVerb } from './agent-verbs';
import { inbox, outbox, peers, read, reply, search, send, status } from './verbs';
import { download } from './download';
import { mcp } from './mcp-verb';
import { verify } from './verify-verb';

export const COMMANDS: readonly Command<VerbContext>[] = [init, daemon, status, send, download, inbox, read, reply, ask, search, groupVerb, agentVerb, mcp, outbox, peers, verify, config, doctor];

/** `switchboard` itself: a group of the verbs above (help and version are handled in main.ts). */
export const SWITCHBOARD = group(
  {
    name: 'switchboard',
    summary: 'messaging for people who work in VS Code and the terminal, and the coding agents beside them',
    flags: {},
    examples: ['switchboard send --to bob -m hi', 'switchboard help send'],
  },
  COMMANDS,
);

/** What `switchboard help` lists for the relay, whose own declarations live in relay/main.ts. */
export const RELAY_SUMMARY = { usage: 'relay serve|add-user|revoke|install|uninstall …', summary: 'run or administer a relay (see `switchboard relay --help`)' };

/** How `switchboard`'s help is laid out: its global option and the exit codes under every page. */
export const SWITCHBOARD_HELP: HelpOptions = {
  program: 'switchboard',
  globals: [['home', HOME_FLAG]],
  footer: [
    `exit codes: ${EXIT_CODE_MEANINGS.map(([code, meaning]) => `${code} ${meaning}`).join(', ')}.`,
    'With --json, an error is one JSON object on stderr: {"error": {"code", "message", "hint"}}.',
  ],
};
