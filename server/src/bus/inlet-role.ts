/**
 * `serve --role inlet`: the collectors (decode in a worker thread when compiled, as in the
 * single process), the enricher, and a publisher: each enriched batch is split by detector key
 * into the bus's partitions (detect/shard.ts partitionBatch, `bus.partitions` shards) and each
 * share goes out as one binary frame on its partition's subject (several if it would exceed
 * the server's max_payload). Nothing here waits on NATS: the publisher buffers within
 * `bus.buffer_bytes` and counts what it has to drop.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Enricher } from '../context.js';
import { partitionBatch } from '../detect/shard.js';
import type { EnrichedBatch } from '../enrich/enriched-batch.js';
import { startCollectors, type Collectors, type FlowBatch } from '../ingest/index.js';
import { encodeBatch, frameBytesPerRecord } from './codec.js';
import { startInletReporter } from './inlet-status.js';
import { connectBus, ensureFlowStream, partitionSubject, type BusConfig } from './nats.js';
import { BoundedPublisher } from './publisher.js';

export interface InletRoleOptions {
  config: Config & { bus: BusConfig };
  logger: Logger;
  registry: Registry;
  enricher: Enricher;
  id?: string;
  /** Collectors in a worker thread (default: when compiled, see ingest/index.ts). */
  worker?: boolean;
}

export interface InletRole {
  id: string;
  collectors: Collectors;
  publisher: BoundedPublisher;
  nc: NatsConnection;
  /** Enriched records handed to the publisher. */
  records(): number;
  /** Every batch the collectors hold now published (or buffered) and acknowledged. */
  flush(ms?: number): Promise<boolean>;
  /** One enriched batch out, as the collectors' would go (benchmarks). */
  publishEnriched(b: EnrichedBatch): void;
  stop(): Promise<void>;
}

/** Headroom under max_payload for the frame header and NATS headers (message id). */
const PAYLOAD_HEADROOM = 4096;

export async function startInletRole(o: InletRoleOptions): Promise<InletRole> {
  const { config, registry, enricher } = o;
  const bus = config.bus;
  const id = o.id ?? `inlet-${randomUUID().slice(0, 8)}`;
  const log = o.logger.child({ module: 'inlet-role', member: id });
  const nc = await connectBus(bus, id);
  await ensureFlowStream(nc, bus);
  const publisher = new BoundedPublisher({ nc, logger: log, bufferBytes: bus.buffer_bytes });
  const maxPayload = Math.max(64 * 1024, (nc.info?.max_payload ?? 1024 * 1024) - PAYLOAD_HEADROOM);
  let seq = 0;
  let records = 0;
  let failed = 0;

  const st = publisher.stats;
  new Counter({
    name: 'downstream_bus_published_records_total',
    help: 'Flow record copies the stream acknowledged from this inlet (a flow whose two keys are on different partitions counts twice)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(st.publishedRecords);
    },
  });
  new Counter({
    name: 'downstream_bus_dropped_records_total',
    help: 'Flow record copies an inlet dropped (buffer_full: NATS unreachable for longer than bus.buffer_bytes holds, oldest first; error: enrich/encode failed)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: 'buffer_full' }, st.droppedRecords);
      this.inc({ reason: 'error' }, failed);
    },
  });
  new Gauge({
    name: 'downstream_bus_buffered_bytes',
    help: 'Flow batch bytes an inlet holds that the stream has not acknowledged yet',
    registers: [registry],
    collect() {
      this.set(st.bufferedBytes);
    },
  });
  new Counter({
    name: 'downstream_bus_publish_failures_total',
    help: 'Publishes that failed or timed out (the frame is retried)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(st.failedPublishes);
    },
  });

  const publishEnriched = (b: EnrichedBatch): void => {
    const parts = partitionBatch(b, bus.partitions);
    parts.forEach((part, p) => {
      if (!part || part.length === 0) return;
      const per = Math.max(1, Math.floor(maxPayload / frameBytesPerRecord(part)));
      for (let from = 0; from < part.length; from += per) {
        const to = Math.min(part.length, from + per);
        publisher.publish({
          subject: partitionSubject(bus, p),
          data: encodeBatch(part, from, to),
          records: to - from,
          id: `${id}.${seq++}`,
        });
      }
    });
    records += b.length;
  };
  // Reports what arrives to the API processes; the exporters' health once the collectors run.
  const started: { collectors?: Collectors } = {};
  const reporter = startInletReporter({ nc, bus, inlet: id, exporters: () => started.collectors?.health() ?? [] });
  const onBatch = (batch: FlowBatch): void => {
    reporter.count(batch);
    try {
      publishEnriched(enricher.enrich(batch));
    } catch (err) {
      failed += batch.length;
      log.error({ err }, 'could not publish a flow batch');
    }
  };

  const collectors = await startCollectors({
    collectors: config.collectors,
    logger: o.logger,
    registry,
    onBatch,
    worker: o.worker,
  }).catch((err: unknown) => {
    reporter.stop();
    throw err;
  });
  started.collectors = collectors;
  log.info({ ports: collectors.ports, nats: bus.nats, partitions: bus.partitions }, 'inlet role running');

  return {
    id,
    collectors,
    publisher,
    nc,
    records: () => records,
    async flush(ms = 10_000) {
      await collectors.flush();
      return publisher.drained(ms);
    },
    publishEnriched,
    async stop() {
      await collectors.stop();
      reporter.stop();
      await publisher.drained(5000);
      publisher.close();
      await nc.drain().catch(() => undefined);
    },
  };
}
