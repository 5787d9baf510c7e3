import { touchPages } from './touch-pages.js';
import type { DetectionEvent } from '@downstream/shared';
import type { Config } from '../config/config.js';
import type { DetectorSet, Enricher } from '../context.js';
import type { EnrichedBatch } from '../enrich/enriched-batch.js';
import { thresholdsByCustomer } from './config.js';
import { InboundDetector } from './inbound.js';
import { OutboundDetector } from './outbound.js';
import { ParticipationDetector } from './participation.js';

export { DetectConfig } from './config.js';
export { InboundDetector } from './inbound.js';
export { OutboundDetector } from './outbound.js';
export { ParticipationDetector } from './participation.js';

export interface Detectors extends DetectorSet {
  /** Bytes of detector state: fixed tables plus the bounded source lists in use. */
  memoryBytes(): number;
  /** Allocate every bounded structure and map its memory now rather than on first use (a long-running shard). */
  reserve(): void;
  readonly inbound: InboundDetector;
  readonly outbound: OutboundDetector;
  readonly participation: ParticipationDetector;
}

/**
 * Every built-in detector behind the DetectorSet seam. Detectors keep their own keyed state
 * (inbound by target, outbound by customer endpoint, participation by outside target), so a
 * deployment can shard them by key hash; none reads another's state.
 */
export function createDetectors(config: Config, enricher: Enricher): Detectors {
  const cfg = config.detect;
  const th = thresholdsByCustomer(
    cfg,
    config.network.customers.map((c) => c.name),
  );
  const inbound = new InboundDetector(
    cfg,
    th,
    enricher,
    config.network.customers.map((c) => c.capacity_bps ?? 0),
  );
  const outbound = new OutboundDetector(cfg, th, enricher, config.network.allowed_smtp);
  const participation = new ParticipationDetector(cfg, enricher);
  return {
    inbound,
    outbound,
    participation,
    process(batch: EnrichedBatch): void {
      if (batch.length === 0) return;
      inbound.process(batch);
      outbound.process(batch);
      participation.process(batch);
    },
    tick(nowMs: number): DetectionEvent[] {
      const out: DetectionEvent[] = [];
      inbound.tick(nowMs, out);
      outbound.tick(nowMs, out);
      participation.tick(nowMs, out);
      return out;
    },
    reserve(): void {
      inbound.table.reserveWatches();
      participation.table.reserveWatches();
      touchPages(inbound, outbound, participation);
    },
    memoryBytes(): number {
      return inbound.table.memoryBytes + inbound.credits.bytes + outbound.memoryBytes + participation.table.memoryBytes;
    },
  };
}

export { registerDetectorMetrics } from './metrics.js';
