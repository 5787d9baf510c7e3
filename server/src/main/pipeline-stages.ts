/**
 * What the in-process pipeline (pipeline.ts) and the threaded one (threaded-pipeline.ts) share:
 * the stage names, their metrics, how a stage's failure is counted and logged, and how a tick's
 * events reach the incident manager (in one canonical order, whichever shard found them).
 * A file of its own so that the threaded pipeline, loaded lazily by pipeline.ts, does not import
 * pipeline.ts back.
 */
import type { DetectionEvent } from '@downstream/shared';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { IncidentManager } from '../context.js';

export type PipelineStage = 'batch' | 'detect' | 'incidents';

const MESSAGES: Record<PipelineStage, string> = {
  batch: 'flow batch processing failed',
  detect: 'detector tick failed',
  incidents: 'incident tick failed',
};

/**
 * The order a tick's events reach the incident manager in. Several events can merge into one
 * incident (a customer's spam-bot endpoints form one campaign; the latest event's evidence
 * wins), so the order must not depend on which detector shard or table slot a key landed in.
 */
export function canonicalOrder(a: DetectionEvent, b: DetectionEvent): number {
  return a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export interface PipelineMetrics {
  batches: Counter;
  flows: Counter;
  errors: Counter<'stage'>;
  tick: Histogram;
}

/** The pipeline's counters, the same whether the stages run in this thread or in workers. */
export function createPipelineMetrics(registry?: Registry): PipelineMetrics {
  const reg = registry ? [registry] : [];
  const m: PipelineMetrics = {
    batches: new Counter({ name: 'downstream_pipeline_batches_total', help: 'Flow batches processed', registers: reg }),
    flows: new Counter({
      name: 'downstream_pipeline_flows_total',
      help: 'Flow records processed by the detectors',
      registers: reg,
    }),
    errors: new Counter({
      name: 'downstream_pipeline_errors_total',
      help: 'Exceptions in the pipeline by stage',
      labelNames: ['stage'],
      registers: reg,
    }),
    tick: new Histogram({
      name: 'downstream_tick_seconds',
      help: 'Detector + incident tick duration',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1],
      registers: reg,
    }),
  };
  // Series exist from the start (at 0) so rate() and alerts see them before the first error.
  for (const stage of Object.keys(MESSAGES)) m.errors.inc({ stage }, 0);
  return m;
}

export type StageFailure = (stage: PipelineStage, err: unknown) => void;

/** Counted, logged at most once a second per stage; rethrown when there is no logger (tests). */
export function stageFailures(m: PipelineMetrics, logger: Logger | undefined): StageFailure {
  const lastLogged = new Map<PipelineStage, number>();
  return (stage, err) => {
    if (!logger) throw err;
    m.errors.inc({ stage });
    const now = Date.now();
    if (now - (lastLogged.get(stage) ?? 0) > 1000) {
      lastLogged.set(stage, now);
      logger.error({ err }, MESSAGES[stage]);
    }
  };
}

/** The tick's second half: what the detectors fired → incident manager, then lifecycles. */
export function deliverTick(
  incidents: IncidentManager,
  events: DetectionEvent[],
  nowMs: number,
  failed: StageFailure,
): void {
  try {
    events.sort(canonicalOrder);
    for (const ev of events) incidents.ingest(ev);
  } catch (err) {
    failed('detect', err);
  }
  try {
    incidents.tick(nowMs);
  } catch (err) {
    failed('incidents', err);
  }
}
