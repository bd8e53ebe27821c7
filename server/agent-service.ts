/**
 * Agent identities this home's user owns, for the JSON-RPC methods `agent/*` (issue 14): each
 * request goes to the relay on the core's live link (protocol v4) and is answered with the
 * relay's word. `create` then writes the agent a complete home of its own beside this one
 * (`agentHome`): the same relay, the agent's name, its token (0600) and its own device id, so
 * `switchboard --home <dir> …` or `switchboard mcp --agent <name>` act as the agent at once.
 * The relay's answer is bounded in time: offline, a relay before v4, or no answer is `NotSent`
 * with what to do, never a hang.
 */
import { existsSync } from 'node:fs';
import { AGENT_REJECTION_CODES, RELAY_PROTOCOL_V4, type AgentInfo, type AgentResultFrame } from '../protocol/relay';
import { ErrorCodes, type AgentCreateResult, type AgentEntry, type AgentListResult, type AgentNameParams, type AgentRevokeResult } from '../protocol/rpc';
import { USER_NAME_RULE, agentIdentityName, canonicalUserName, isValidUserName } from '../protocol/names';
import { agentHome, homePaths, type HomePaths } from '../lib/node/paths';
import { loadConfig, writeConfig } from './config';
import { CoreError, invalidParams } from './errors';
import { ensurePrivateDir } from './fs-private';
import type { AgentRequestBody, SyncPort } from './sync/port';
import { errorMessage } from '../lib/error-message';
import { isDiskFull } from '../lib/node/storage-errors';

/** How long an agent request waits for the relay's answer. */
export const AGENT_ANSWER_WAIT_MS = 10_000;
/** How long a core that is still dialling (the CLI's direct mode) is given first. */
const SETTLE_MS = 5000;

/** Said when the relay is online but speaks a protocol before agents. */
export const RELAY_BEFORE_AGENTS = 'the relay speaks a protocol before v4; upgrade it for agent identities';

export class AgentService {
  constructor(
    private readonly sync: SyncPort,
    /** This (the owner's) home. */
    private readonly paths: HomePaths,
    private readonly localUser: () => string,
  ) {}

  /** `claude` is this user's `<user>.claude`; a name with a "." is taken as the full name. */
  fullName(name: string): string {
    return agentIdentityName(this.localUser(), name);
  }

  async create(p: AgentNameParams): Promise<AgentCreateResult> {
    // The link first: `claude` means `<user>.claude`, and the user is only known once configured.
    await this.ready('create', p.name);
    const name = this.fullName(p.name);
    if (!isValidUserName(name)) throw invalidParams(`name: "${name}" is too long or not a user name: ${USER_NAME_RULE}`);
    const answer = await this.request('create', name, { type: 'agent_create', name });
    const info = answer.agents[0];
    if (!info || answer.token === undefined) throw new CoreError(ErrorCodes.InternalError, `the relay created ${name} but did not answer with its token; revoke it (\`switchboard agent revoke ${name}\`) and create it again`, { kind: 'internal' });
    try {
      this.writeHome(info.name, answer.token);
    } catch (error) {
      // An account whose only token was never kept would be one nobody can use: take it back.
      const undone = await this.sync.agentRequest({ type: 'agent_revoke', name: info.name }, AGENT_ANSWER_WAIT_MS);
      const state = undone?.result === 'ok' ? 'it was revoked again at the relay' : `revoke it with \`switchboard agent revoke ${info.name}\``;
      throw new CoreError(ErrorCodes.InternalError, `agent create ${info.name}: the relay created it, but its home ${agentHome(this.paths.home, info.name)} could not be written (${errorMessage(error)}); ${state}, then create it again`, {
        kind: isDiskFull(error) ? 'disk_full' : 'internal',
      });
    }
    return { agent: this.entry(info), token: answer.token };
  }

  async list(): Promise<AgentListResult> {
    const answer = await this.request('list', undefined, { type: 'agent_list' });
    return { agents: answer.agents.map((a) => this.entry(a)) };
  }

  /** The local home stays (its store is the agent's history); the relay no longer lets it in. */
  async revoke(p: AgentNameParams): Promise<AgentRevokeResult> {
    await this.ready('revoke', p.name);
    const name = this.fullName(p.name);
    const answer = await this.request('revoke', name, { type: 'agent_revoke', name });
    return { agent: this.entry(answer.agents[0]!) };
  }

  private entry(info: AgentInfo): AgentEntry {
    const home = agentHome(this.paths.home, info.name);
    const paths = homePaths(home);
    return { ...info, home, home_present: existsSync(paths.config) && existsSync(paths.token) };
  }

  /**
   * The agent's home: the owner's relay settings with the agent's name and token. A device id
   * already there is kept (an agent revoked and created again keeps its store and cursor).
   */
  private writeHome(name: string, token: string): void {
    const owner = loadConfig(this.paths).config;
    const paths = homePaths(agentHome(this.paths.home, name));
    ensurePrivateDir(paths.home);
    const existing = loadConfig(paths).config;
    writeConfig(paths, { relay: owner.relay, user: name, device: existing.device, insecure: owner.insecure }, token);
  }

  /** A live v4 link, or NotSent saying why (bounded: a dialling core is given SETTLE_MS). */
  private async ready(verb: string, name: string | undefined): Promise<void> {
    await this.sync.whenSettled(SETTLE_MS);
    const what = name === undefined ? `agent ${verb}` : `agent ${verb} ${name}`;
    if (!this.sync.isOnline()) {
      const problem = this.sync.problem();
      const why = problem ? problem.message : `the relay is ${this.sync.status().state}`;
      throw new CoreError(ErrorCodes.NotSent, `${what}: not sent: ${why}; agent identities live at the relay, so this needs it online (check with \`switchboard status\`); nothing was changed`, {
        kind: 'not_sent',
        ...(problem ? { reason_code: problem.code } : {}),
      });
    }
    if ((this.sync.relayVersion() ?? 0) < RELAY_PROTOCOL_V4) throw new CoreError(ErrorCodes.NotSent, `${what}: not sent: ${RELAY_BEFORE_AGENTS}; nothing was changed`, { kind: 'not_sent' });
  }

  private async request(verb: string, name: string | undefined, body: AgentRequestBody): Promise<Extract<AgentResultFrame, { result: 'ok' }>> {
    await this.ready(verb, name);
    const what = name === undefined ? `agent ${verb}` : `agent ${verb} ${name}`;
    const answer = await this.sync.agentRequest(body, AGENT_ANSWER_WAIT_MS);
    if (answer === undefined) {
      throw new CoreError(
        ErrorCodes.NotSent,
        `${what}: no answer from the relay within ${AGENT_ANSWER_WAIT_MS / 1000} s (the link may have dropped); it may still take effect: check with \`switchboard agent list\``,
        { kind: 'not_sent' },
      );
    }
    if (answer.result === 'rejected') {
      throw new CoreError(ErrorCodes.AgentRefused, `${what} refused by the relay (${answer.code}): ${answer.reason}; ${hint(answer.code, this.localUser())}`, {
        kind: 'agent_refused',
        code: answer.code,
        retryable: answer.retryable,
      });
    }
    return answer;
  }
}

/** What a person does about each refusal. */
function hint(code: string, user: string): string {
  switch (code) {
    case AGENT_REJECTION_CODES.badName:
    case AGENT_REJECTION_CODES.notOwner:
      return `name it ${user}.<name> (or just <name>)`;
    case AGENT_REJECTION_CODES.forbidden:
      return "create agents from the owner's home";
    case AGENT_REJECTION_CODES.exists:
      return 'pick another name, or revoke that agent first';
    case AGENT_REJECTION_CODES.unknownAgent:
      return 'see your agents with `switchboard agent list`';
    case AGENT_REJECTION_CODES.limit:
      // The relay's reason already ends "revoke one first": say how, not that again.
      return '`switchboard agent revoke <name>` does it, or ask the relay operator to raise --max-agents-per-owner';
    default:
      return 'retry shortly';
  }
}
