/**
 * The flow bus on NATS JetStream: one stream holding the subjects `<subject>.<partition>`,
 * partitions fixed by `bus.partitions` (detect/shard.ts keying: a flow is on the partition of
 * its local key and on that of its remote key). The stream keeps batches for
 * `bus.max_age_seconds` so a detect process taking over a partition reads what its dead
 * owner had not acknowledged, and dedupes re-sent batches by message id.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { Config } from '../config/config.js';

export type BusConfig = NonNullable<Config['bus']>;

export const partitionSubject = (bus: BusConfig, p: number): string => `${bus.subject}.${p}`;
/** Core NATS (outside the stream): customer-campaign detections to the campaign's owner (detect-role.ts). */
export const campaignEventSubject = (bus: BusConfig, p: number | '*'): string => `${bus.subject}-campaigns.${p}`;
export const durableName = (bus: BusConfig, p: number): string => `${bus.stream}-p${p}`;
export const leaseBucket = (bus: BusConfig): string => `${bus.stream}-leases`;

/** Connect and keep reconnecting for ever: a NATS restart must not need a process restart. */
export async function connectBus(bus: BusConfig, name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: bus.nats.split(','),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      pingInterval: 5000,
    });
  } catch (err) {
    throw new Error(`bus.nats: cannot connect to ${bus.nats}: ${(err as Error).message}`);
  }
}

/** Create the flow stream, or check that an existing one has the subjects this config uses. */
export async function ensureFlowStream(nc: NatsConnection, bus: BusConfig): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const subjects = [`${bus.subject}.*`];
  const wanted = {
    name: bus.stream,
    subjects,
    max_age: bus.max_age_seconds * 1e9,
    duplicate_window: Math.min(bus.max_age_seconds, 120) * 1e9,
    max_msg_size: -1,
    // Read back by every process that joins: they must all split keys the same way.
    description: `downstream flow bus, partitions=${bus.partitions}`,
    storage: bus.storage === 'memory' ? StorageType.Memory : StorageType.File,
  };
  try {
    const info = await jsm.streams.info(bus.stream);
    if (info.config.subjects?.join() !== subjects.join())
      throw new Error(
        `bus.stream: stream ${bus.stream} exists with subjects ${info.config.subjects?.join(', ')}, not ${subjects.join(', ')}`,
      );
    const theirs = /partitions=(\d+)/.exec(info.config.description ?? '')?.[1];
    if (theirs !== undefined && Number(theirs) !== bus.partitions)
      throw new Error(
        `bus.partitions: ${bus.partitions}, but stream ${bus.stream} was made with ${theirs} partitions (every process of a cluster must use the same)`,
      );
  } catch (err) {
    if (/^bus\.(stream|partitions)/.test((err as Error).message)) throw err;
    try {
      await jsm.streams.add(wanted);
    } catch (e) {
      const msg = (e as Error).message;
      if (/overlap/i.test(msg))
        throw new Error(
          `bus.subject: ${bus.subject}.* overlaps the subjects of another stream than bus.stream ${bus.stream} on this NATS server`,
        );
      // Another process created it between our look and our add.
      if (!/already in use|exists/i.test(msg)) throw e;
    }
  }
  await ensureConsumers(jsm, bus);
  return jsm;
}

/** A consumer redelivers what its dead holder had not acknowledged after this. */
const ACK_WAIT_S = 10;

/**
 * One durable consumer per partition, made with the stream (by whichever process comes
 * first), so batches published before any detect process runs wait for it. Its position
 * survives the process holding it: the next lease holder continues where the last stopped.
 */
async function ensureConsumers(jsm: JetStreamManager, bus: BusConfig): Promise<void> {
  const have = new Set<string>();
  for await (const c of jsm.consumers.list(bus.stream)) have.add(c.name);
  for (let p = 0; p < bus.partitions; p++) {
    const name = durableName(bus, p);
    if (have.has(name)) continue;
    try {
      await jsm.consumers.add(bus.stream, {
        durable_name: name,
        filter_subject: partitionSubject(bus, p),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: ACK_WAIT_S * 1e9,
        max_ack_pending: 1000,
      });
    } catch (e) {
      if (!/already in use|exists/i.test((e as Error).message)) throw e;
    }
  }
}

export { jetstream };

/** A core NATS message's JSON body checked against `schema`: what is not JSON fails like what does not match. */
export function parseJsonMessage<T extends z.ZodType>(m: Msg, schema: T): z.ZodSafeParseResult<z.infer<T>> {
  let body: unknown;
  try {
    body = m.json();
  } catch {
    body = undefined;
  }
  return schema.safeParse(body);
}
