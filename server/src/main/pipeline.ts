/**
 * The flow pipeline's stage order, written once: decoded batch → traffic meter → enrich →
 * detect; and once a second: detector windows → incident manager → incident lifecycles.
 * server.ts, the scenario harness (detect/pipeline-harness.ts) and the benchmarks use this
 * rather than each calling the stages themselves, so the order cannot drift between them.
 */
import type { DetectionEvent } from '@downstream/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { DetectorSet, Enricher, IncidentManager, TrafficMeter } from '../context.js';
import { createDetectors, registerDetectorMetrics } from '../detect/index.js';
import type { DecoderOptions } from '../ingest/decoder.js';
import type { FlowBatch } from '../flow/flow-batch.js';
import { startCollectors, type Collectors } from '../ingest/index.js';
import { createPipelineMetrics, deliverTick, stageFailures, type PipelineMetrics } from './pipeline-stages.js';

export { canonicalOrder, type PipelineStage } from './pipeline-stages.js';

export interface PipelineOptions {
  enricher: Enricher;
  detectors: DetectorSet;
  incidents: IncidentManager;
  /** Live traffic totals for `summary`; none in harnesses that do not need them. */
  traffic?: TrafficMeter;
  /** Pipeline counters and the tick histogram are registered here when given. */
  registry?: Registry;
  /**
   * Where a stage's exception goes. With a logger: counted, logged at most once a second per
   * stage, and the pipeline carries on (one bad batch must not stop ingest). Without: rethrown
   * (tests want to see it).
   */
  logger?: Logger;
  /** Share counters already registered (else made here, on `registry`). */
  metrics?: PipelineMetrics;
}

export interface Pipeline {
  /** One decoded batch through the traffic meter, enrichment and the detectors. */
  process(batch: FlowBatch): void;
  /** The once-a-second step; returns the detection events it handed to the incident manager. */
  tick(nowMs: number): DetectionEvent[];
  /** Flow records in batches a stage failed on (lost before detection). */
  droppedFlows(): number;
}

export function createPipeline(o: PipelineOptions): Pipeline {
  const { enricher, detectors, incidents, traffic, logger } = o;
  const m = o.metrics ?? createPipelineMetrics(o.registry);
  const failed = stageFailures(m, logger);
  let dropped = 0;
  return {
    process(batch: FlowBatch): void {
      try {
        traffic?.addBatch(batch);
        detectors.process(enricher.enrich(batch));
        m.batches.inc();
        m.flows.inc(batch.length);
      } catch (err) {
        dropped += batch.length;
        failed('batch', err);
      }
    },
    tick(nowMs: number): DetectionEvent[] {
      const end = m.tick.startTimer();
      let events: DetectionEvent[] = [];
      try {
        events = detectors.tick(nowMs);
      } catch (err) {
        failed('detect', err);
      }
      deliverTick(incidents, events, nowMs, failed);
      end();
      return events;
    },
    droppedFlows: () => dropped,
  };
}

export interface StartPipelineOptions {
  config: Config;
  logger: Logger;
  registry: Registry;
  enricher: Enricher;
  incidents: IncidentManager;
  traffic?: TrafficMeter;
  /**
   * Worker threads (receiver, `pipeline.decodeWorkers` ingest workers, `pipeline.detectShards`
   * detector shards). Default: yes when running compiled JavaScript; under tsx/vitest one thread
   * (collectors in-process, one detector set), which tests rely on for synchronous flushes.
   */
  threaded?: boolean;
  decoder?: Omit<DecoderOptions, 'sampling'>;
}

export interface RunningPipeline {
  collectors: Collectors;
  readonly threaded: boolean;
  /** The once-a-second step; resolves once the incident manager has the events. */
  tick(nowMs: number): Promise<DetectionEvent[]>;
  /** Flow records in batches a stage failed on (lost before detection). */
  droppedFlows(): number;
  stop(): Promise<void>;
}

/** Collectors plus the stages behind them, in this thread or across worker threads. */
export async function startPipeline(o: StartPipelineOptions): Promise<RunningPipeline> {
  const metrics = createPipelineMetrics(o.registry);
  const threaded = o.threaded ?? import.meta.url.endsWith('.js');
  if (threaded) {
    const { startThreadedPipeline } = await import('./threaded-pipeline.js');
    const t = await startThreadedPipeline({ ...o, metrics });
    return {
      collectors: t.collectors,
      threaded: true,
      tick: (nowMs) => t.tick(nowMs),
      droppedFlows: () => t.droppedFlows(),
      async stop() {
        await t.collectors.stop();
        await t.stop();
      },
    };
  }
  const detectors = createDetectors(o.config, o.enricher);
  // State size, keys tracked and evictions per table, read at scrape time.
  registerDetectorMetrics(o.registry, detectors);
  const pipeline = createPipeline({ ...o, detectors, metrics });
  const collectors = await startCollectors({
    collectors: o.config.collectors,
    logger: o.logger,
    registry: o.registry,
    decoder: o.decoder,
    onBatch: (batch) => pipeline.process(batch),
  });
  return {
    collectors,
    threaded: false,
    tick: async (nowMs) => pipeline.tick(nowMs),
    droppedFlows: () => pipeline.droppedFlows(),
    stop: () => collectors.stop(),
  };
}
