/**
 * A real relay on 127.0.0.1, one home per user configured against it (`switchboard init`), and
 * the cores a test file starts in them: the setup the MCP and agent integration tests share.
 * The homes exist from the start, so a file names them in its describe body; `start` (in its
 * `before`) brings the relay up, runs `init` in every home and starts the cores asked for.
 * The file's Cleanups undoes it all, last made first: the cores started here kill -9'd by their
 * PID, then any core something else started in a home (an MCP server starts one when none
 * answers) killed by the PID in its holder file, then the homes, then the relay.
 */
import type { ChildProcess } from 'node:child_process';
import { kill9, startCore, type Cleanups } from './cli';
import { killHomeCore } from './mcp';
import { TestRelay } from './relay';

export class RelayHomes<U extends string> {
  readonly relay = new TestRelay();
  /** Each user's home, named `<prefix><user>-…`. */
  readonly home: Readonly<Record<U, string>>;
  private readonly cores = new Map<U, ChildProcess>();

  constructor(cleanups: Cleanups, prefix: string, private readonly users: readonly U[]) {
    cleanups.push(() => this.relay.dispose());
    this.home = Object.fromEntries(users.map((user) => [user, cleanups.home(`${prefix}${user}-`)])) as Record<U, string>;
    cleanups.push(...users.map((user) => () => killHomeCore(this.home[user])));
    cleanups.push(async () => {
      for (const user of [...this.cores.keys()]) await this.stopCore(user);
    });
  }

  /** The relay up, every home configured against it, and a core running (answering) in each home of `cores`. */
  async start(cores: readonly U[] = []): Promise<void> {
    await this.relay.start();
    for (const user of this.users) await this.relay.configureHome(this.home[user], user);
    for (const user of cores) await this.startCore(user);
  }

  /** Starts the user's core as our child and waits until its socket answers. */
  async startCore(user: U): Promise<ChildProcess> {
    const core = await startCore(this.home[user]);
    this.cores.set(user, core);
    return core;
  }

  /** The core started here for the user, until it is stopped. */
  core(user: U): ChildProcess | undefined {
    return this.cores.get(user);
  }

  /** kill -9 of the core started here for the user (by its PID), if it runs. */
  async stopCore(user: U): Promise<void> {
    const core = this.cores.get(user);
    this.cores.delete(user);
    if (core) await kill9(core);
  }
}
