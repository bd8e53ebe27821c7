/**
 * Group management for the JSON-RPC methods `group/*`: each request goes to the relay on the
 * core's live link and is answered with the group as the relay's verdict left it (stored here
 * first, by the sync engine). A refusal is a `GroupRefused` error that says what to do; no link
 * is `NotSent` with the sync problem's reason. Reading (`show`, `list`) falls back on what this
 * home last heard when the relay cannot answer.
 */
import { ErrorCodes, type Group, type GroupCreateParams, type GroupListResult, type GroupNameParams, type GroupRenameParams, type GroupRoleParams, type GroupUsersParams } from '../protocol/rpc';
import { GROUP_REJECTION_CODES, RELAY_PROTOCOL_V2, type GroupVerdictFrame } from '../protocol/relay';
import { USER_NAME_RULE, groupAddress } from '../protocol/names';
import { CoreError, notFound } from './errors';
import type { Repository } from './store/repository';
import type { GroupRequestBody, SyncPort } from './sync/port';

/** How long a group request waits for the relay's verdict. */
export const GROUP_VERDICT_WAIT_MS = 10_000;
/** How long a core that is still dialling (the CLI's direct mode) is given before a group request. */
const SETTLE_MS = 5000;
/** How long `group/list` waits for the relay's list before answering from the store. */
const LIST_WAIT_MS = 3000;

/** Said when the relay answers hello with v1 only. */
export const RELAY_V1_ONLY = 'the relay speaks protocol v1; upgrade it for groups';

export class GroupService {
  constructor(
    private readonly repo: Repository,
    private readonly sync: SyncPort,
  ) {}

  create(p: GroupCreateParams): Promise<Group> {
    return this.request({ type: 'group_create', group: p.name, members: p.members ?? [] });
  }

  add(p: GroupUsersParams): Promise<Group> {
    return this.request({ type: 'group_add', group: p.name, users: p.users });
  }

  remove(p: GroupUsersParams): Promise<Group> {
    return this.request({ type: 'group_remove', group: p.name, users: p.users });
  }

  leave(p: GroupNameParams): Promise<Group> {
    return this.request({ type: 'group_leave', group: p.name });
  }

  rename(p: GroupRenameParams): Promise<Group> {
    return this.request({ type: 'group_rename', group: p.name, new_name: p.new_name });
  }

  role(p: GroupRoleParams): Promise<Group> {
    return this.request({ type: 'group_role', group: p.name, user: p.user, role: p.role });
  }

  /** From the relay when it answers; else (offline, or no longer a member) as this home last knew it. */
  async show(p: GroupNameParams): Promise<Group> {
    await this.sync.whenSettled(SETTLE_MS);
    const stored = this.repo.groupByName(p.name);
    if (!this.sync.isOnline() || (this.sync.relayVersion() ?? 0) < RELAY_PROTOCOL_V2) {
      if (stored) return stored;
      throw notFound(`group ${groupAddress(p.name)} (the relay cannot be asked now: ${this.offlineReason()})`);
    }
    const verdict = await this.sync.groupRequest({ type: 'group_show', group: p.name }, GROUP_VERDICT_WAIT_MS);
    if (verdict?.result === 'ok') return this.repo.group(verdict.group_id)!;
    if (stored) return stored;
    if (verdict === undefined) throw notFound(`group ${groupAddress(p.name)} (no answer from the relay in time, and this home has not heard of it)`);
    throw groupRefused('show', p.name, verdict);
  }

  /**
   * The groups this home knows, current ones first. When online, the relay's list is asked for
   * first, and a group it names that this home does not know (or knows at an older position) is
   * shown, so a new device learns its rooms and their members.
   */
  async list(): Promise<GroupListResult> {
    await this.sync.whenSettled(SETTLE_MS);
    if (this.sync.isOnline() && (this.sync.relayVersion() ?? 0) >= RELAY_PROTOCOL_V2) {
      const summaries = await this.sync.groupList(LIST_WAIT_MS);
      for (const summary of summaries ?? []) {
        const known = this.repo.group(summary.group_id);
        if (known && known.role !== null && this.repo.groupLastPos(summary.group_id) >= summary.pos) continue;
        await this.sync.groupRequest({ type: 'group_show', group: summary.group }, LIST_WAIT_MS);
      }
    }
    return { groups: this.repo.groups() };
  }

  private async request(body: GroupRequestBody): Promise<Group> {
    await this.sync.whenSettled(SETTLE_MS);
    if (!this.sync.isOnline()) {
      const problem = this.sync.problem();
      throw new CoreError(ErrorCodes.NotSent, `not sent: ${this.offlineReason()}; nothing was changed`, {
        kind: 'not_sent',
        ...(problem ? { reason_code: problem.code } : {}),
      });
    }
    if ((this.sync.relayVersion() ?? 0) < RELAY_PROTOCOL_V2) {
      throw new CoreError(ErrorCodes.NotSent, `not sent: ${RELAY_V1_ONLY}; nothing was changed`, { kind: 'not_sent' });
    }
    const verdict = await this.sync.groupRequest(body, GROUP_VERDICT_WAIT_MS);
    if (verdict === undefined) {
      throw new CoreError(
        ErrorCodes.NotSent,
        `no verdict from the relay within ${GROUP_VERDICT_WAIT_MS / 1000} s (the link may have dropped); the request may still take effect: check with \`switchboard group show ${body.group}\``,
        { kind: 'not_sent' },
      );
    }
    if (verdict.result === 'rejected') throw groupRefused(body.type.slice('group_'.length), body.group, verdict);
    return this.repo.group(verdict.group_id)!;
  }

  private offlineReason(): string {
    const problem = this.sync.problem();
    return problem ? problem.message : `the relay is ${this.sync.status().state}`;
  }
}

/** What a person does about each refusal. */
function hint(code: string, group: string): string {
  switch (code) {
    case GROUP_REJECTION_CODES.badName:
      return `a group name must ${USER_NAME_RULE}`;
    case GROUP_REJECTION_CODES.groupExists:
      return 'pick another name';
    case GROUP_REJECTION_CODES.unknownGroup:
      return 'check the name with `switchboard group list`';
    case GROUP_REJECTION_CODES.notMember:
      return `see who is in it with \`switchboard group show ${group}\``;
    case GROUP_REJECTION_CODES.forbidden:
      return `ask an owner or admin of ${groupAddress(group)} (\`switchboard group show ${group}\` lists them)`;
    case GROUP_REJECTION_CODES.unknownUser:
      return 'check the spelling; the relay has no active account of that name';
    case GROUP_REJECTION_CODES.lastOwner:
      return `hand ownership over first: switchboard group role ${group} <user> owner`;
    case GROUP_REJECTION_CODES.limit:
      return 'the relay caps members per group and groups per user; ask its operator';
    case GROUP_REJECTION_CODES.rateLimit:
    case GROUP_REJECTION_CODES.storage:
      return 'retry shortly';
    default:
      return 'see the reason above';
  }
}

export function groupRefused(verb: string, group: string, verdict: Extract<GroupVerdictFrame, { result: 'rejected' }>): CoreError {
  return new CoreError(ErrorCodes.GroupRefused, `group ${verb} ${groupAddress(group)} refused by the relay (${verdict.code}): ${verdict.reason}; ${hint(verdict.code, group)}`, {
    kind: 'group_refused',
    code: verdict.code,
    retryable: verdict.retryable,
  });
}
