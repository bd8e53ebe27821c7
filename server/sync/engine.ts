/**
 * The sync engine: keeps the core's live link to the relay, drains the outbox, commits
 * deliveries before acking them, and reports freshness. (Relay connection: see relay-link.ts.)
 */
import type { ConfigureParams, SyncState, SyncStatus } from '../../protocol/rpc';
import { readConfig, readToken, writeConfig, type RelayConfig } from '../config';
import type { Logger } from '../log';
import type { HomePaths } from '../paths';
import type { Repository } from '../store/repository';
import type { WriteBatcher } from '../store/write-batcher';
import type { SyncPort } from './port';

export class SyncEngine implements SyncPort {
  private config: RelayConfig;
  private token: string | null;
  private state: SyncState = 'disabled';
  private lastError: string | null = null;
  private connectedSince: string | null = null;
  private readonly listeners: ((status: SyncStatus) => void)[] = [];
  private readonly verdictWaiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly paths: HomePaths,
    private readonly repo: Repository,
    private readonly writes: WriteBatcher,
    private readonly log: Logger,
  ) {
    this.config = readConfig(paths);
    this.token = readToken(paths);
  }

  localUser(): string {
    return this.config.user ?? 'me';
  }

  status(): SyncStatus {
    const counts = this.repo.outboxCounts();
    return {
      state: this.state,
      relay: this.config.relay,
      user: this.config.user,
      last_inbound_at: this.repo.getState('last_inbound_at') ?? null,
      last_ack_at: this.repo.getState('last_ack_at') ?? null,
      last_error: this.lastError,
      connected_since: this.connectedSince,
      queued: counts.pending + counts.inflight,
    };
  }

  isOnline(): boolean {
    return this.state === 'online';
  }

  onStatus(listener: (status: SyncStatus) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.setState(this.isConfigured() ? 'offline' : 'disabled');
  }

  kick(): void {}

  awaitVerdict(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.verdictWaiters.get(id) ?? [];
      waiters.push(done);
      this.verdictWaiters.set(id, waiters);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  reconnect(): void {
    this.start();
  }

  configure(config: ConfigureParams): void {
    this.config = { ...this.config, relay: config.relay, user: config.user };
    this.token = config.token;
    writeConfig(this.paths, this.config, config.token);
    this.lastError = null;
    this.reconnect();
  }

  async stop(): Promise<void> {}

  private isConfigured(): boolean {
    return this.config.relay !== null && this.config.user !== null && this.token !== null;
  }

  private setState(state: SyncState): void {
    this.state = state;
    const status = this.status();
    for (const listener of this.listeners) listener(status);
  }
}
