/**
 * The relay's JetStream layout, created at a node's start: one stream for every recipient's
 * deliveries and a KV bucket per table. Idempotent: a node that starts (or restarts) on a
 * provisioned cluster binds to what is there, and only moves the replica count when the
 * operator changed it (JetStream moves the data itself).
 *
 * Everything is file storage with `replicas` copies (default 3; 1 for a one-node cluster): a
 * write is acknowledged once a majority of replicas hold it, so losing one node of three loses
 * nothing acknowledged.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { clusterCall } from './errors';

export const DELIVERIES_STREAM = 'SB_DELIVERIES';
/** `sb.dlv.<recipient token>`: one subject per recipient, so its deliveries keep their order. */
export const DELIVERIES_SUBJECT_PREFIX = 'sb.dlv';

export const BUCKETS = {
  /** (sender, client_message_id) → the send's server id: create-only, kept until pruned by the relay. */
  dedupe: 'sb_dedupe',
  /** (user, device) → the highest delivery sequence the device acked. */
  cursors: 'sb_cursors',
  /** user → token hash and state. */
  accounts: 'sb_accounts',
  /** (group, user) → membership. */
  members: 'sb_members',
  /** user → every device's signed key record (the key directory, protocol v5). */
  keys: 'sb_keys',
} as const;
export type BucketName = keyof typeof BUCKETS;

export interface ProvisionOptions {
  /** Copies of every stream and bucket (1, 3 or 5; default 3). */
  replicas?: number;
  /** Deliveries older than this are dropped by the stream itself (ms; 0 = none). */
  deliveryMaxAgeMs?: number;
  /**
   * How long a publish's Nats-Msg-Id is remembered by the deliveries stream (ms; default 10 min):
   * covers a node's retry of the same append after a lost PubAck. Not the dedupe table: that is
   * `sb_dedupe`, kept as long as the relay says.
   */
  duplicateWindowMs?: number;
  /** Per-request bound for the JetStream API and publishes (ms; default 5 s). */
  timeoutMs?: number;
}

export interface Provisioned {
  js: JetStreamClient;
  jsm: JetStreamManager;
  buckets: Record<BucketName, KV>;
  replicas: number;
}

const nanos = (ms: number) => ms * 1_000_000;

export function deliveriesConfig(options: ProvisionOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: DELIVERIES_STREAM,
    subjects: [`${DELIVERIES_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? 3,
    max_age: nanos(options.deliveryMaxAgeMs ?? 0),
    duplicate_window: nanos(options.duplicateWindowMs ?? 10 * 60_000),
  };
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  let existing;
  try {
    existing = await jsm.streams.info(config.name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
  }
  if (!existing) {
    try {
      await jsm.streams.add(config);
      return;
    } catch (error) {
      // Another node created it between our info and add (10058: name in use): bind to it.
      if (!(error instanceof JetStreamApiError && error.code === 10058)) throw error;
      existing = await jsm.streams.info(config.name);
    }
  }
  const c = existing.config;
  if (c.num_replicas !== config.num_replicas || c.max_age !== config.max_age || c.duplicate_window !== config.duplicate_window) {
    await jsm.streams.update(config.name, { ...c, num_replicas: config.num_replicas, max_age: config.max_age, duplicate_window: config.duplicate_window });
  }
}

async function ensureBucket(kvm: Kvm, jsm: JetStreamManager, name: string, replicas: number): Promise<KV> {
  // Kvm.create binds to an existing bucket as it is: a replica change is an update of its stream.
  // No direct get: a direct get may be answered by a follower that has not applied the latest
  // write yet, and these tables decide on what they read (a claim lost to another node must
  // read the winner; a hello must see a user added a moment ago on another node).
  const kv = await kvm.create(name, { replicas, history: 1, storage: StorageType.File, allow_direct: false });
  const stream = `KV_${name}`;
  const info = await jsm.streams.info(stream);
  if (info.config.num_replicas !== replicas) await jsm.streams.update(stream, { ...info.config, num_replicas: replicas });
  return kv;
}

export async function provision(nc: NatsConnection, options: ProvisionOptions = {}): Promise<Provisioned> {
  const replicas = options.replicas ?? 3;
  if (![1, 3, 5].includes(replicas)) throw new Error(`replicas must be 1, 3 or 5 (not ${replicas})`);
  const timeout = options.timeoutMs ?? 5000;
  return clusterCall('provision the relay streams and buckets', async () => {
    const jsm = await jetstreamManager(nc, { timeout });
    const js = jetstream(nc, { timeout });
    await ensureStream(jsm, deliveriesConfig({ ...options, replicas }));
    const kvm = new Kvm(js);
    const entries = await Promise.all(
      (Object.keys(BUCKETS) as BucketName[]).map(async (key) => [key, await ensureBucket(kvm, jsm, BUCKETS[key], replicas)] as const),
    );
    return { js, jsm, buckets: Object.fromEntries(entries) as Record<BucketName, KV>, replicas };
  });
}
