import type { Summary } from '@downstream/shared';
import type { FlowBatch } from '../flow/flow-batch.js';
import type { IncidentManager } from '../incidents/types.js';
import type { CollectorSet } from '../ingest/types.js';

/** Live traffic numbers for `summary`; updated by the pipeline. */
export interface TrafficMeter {
  addBatch(batch: FlowBatch): void;
  /** The same, for totals counted elsewhere (ingest worker threads). */
  addTotals(flows: number, packets: number, bytes: number): void;
  summary(incidents: IncidentManager, collectors: CollectorSet): Summary;
}
