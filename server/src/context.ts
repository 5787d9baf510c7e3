/**
 * The application context: the services one running server is made of, as each module's own
 * interface (ingest/types.ts, enrich/types.ts, store/types.ts, incidents/types.ts,
 * traffic/types.ts). `server.ts` builds and wires them. Modules import each other's types.ts,
 * never this file's AppContext, unless they are handed the whole context (api/, realtime/,
 * feeds/, actions/).
 */
import type { DetectionEvent } from '@downstream/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from './config/config.js';
import type { EnrichedBatch } from './enrich/enriched-batch.js';
import type { Enricher } from './enrich/types.js';
import type { IncidentManager } from './incidents/types.js';
import type { CollectorSet } from './ingest/types.js';
import type { Store } from './store/types.js';
import type { SubscriberDirectory } from './subscribers/types.js';
import type { TrafficMeter } from './traffic/types.js';

// Re-exported for files that still import them from here (store/index.ts, detect/, server.ts).
export type { AddressInfo, Enricher } from './enrich/types.js';
export type { IncidentEvents, IncidentManager } from './incidents/types.js';
export type { CollectorSet } from './ingest/types.js';
export type {
  AbuseDimension,
  AbuseRollupRow,
  AbuseSeries,
  AbuseSeriesQuery,
  AbuseTotal,
  AuditEntry,
  AuditRecord,
  IncidentKeyCount,
  SimulatedHistoryImport,
  Store,
  StoredRollupRow,
} from './store/types.js';
export type { SubscriberDirectory } from './subscribers/types.js';
export type { TrafficMeter } from './traffic/types.js';

/** detect/: streaming detectors (its own types.ts when the detector kernel change lands). Pure computation over batches; no I/O, no incident state. */
export interface DetectorSet {
  process(batch: EnrichedBatch): void;
  /** Called about once a second; returns what fired (or still fires) in the current windows. */
  tick(nowMs: number): DetectionEvent[];
}

/** Everything the HTTP, socket and feed layers may use. */
export interface AppContext {
  config: Config;
  logger: Logger;
  registry: Registry;
  version: string;
  startedAt: number;
  collectors: CollectorSet;
  enricher: Enricher;
  incidents: IncidentManager;
  store: Store;
  traffic: TrafficMeter;
  /** Address → subscriber; absent in contexts built without a store (tests). */
  subscribers?: SubscriberDirectory;
  /** Absolute path of the built SPA (web/dist), or undefined to serve none. */
  webRoot?: string;
}
