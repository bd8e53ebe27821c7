/** What the core's services need from the relay sync engine. */
import type { ConfigureParams, SyncStatus } from '../../protocol/rpc';

export interface SyncPort {
  status(): SyncStatus;
  isOnline(): boolean;
  /** The outbox has new work. */
  kick(): void;
  /** Resolves when the message's outbox entry has a verdict, or after `ms`. */
  awaitVerdict(id: string, ms: number): Promise<void>;
  /** Resolves once a connection attempt in progress has ended, or after `ms`. */
  whenSettled(ms: number): Promise<void>;
  reconnect(): void;
  configure(config: ConfigureParams): void;
  onStatus(listener: (status: SyncStatus) => void): void;
  stop(): Promise<void>;
}
