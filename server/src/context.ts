/**
 * The seams between server modules, as interfaces. Each module implements its side in its own
 * folder; `server.ts` wires them. Keeping them here (and small) is what lets ingest, detect, the
 * store and socket.io later run in different processes (DESIGN "Growing past one machine").
 */
import type {
  DetectionEvent,
  ExporterHealth,
  Incident,
  IncidentDetail,
  IncidentListQuery,
  IncidentStatus,
  Summary,
  TimelinePoint,
} from '@downstream/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from './config/config.js';
import type { EnrichedBatch } from './enrich/enriched-batch.js';
import type { FlowBatch } from './ingest/flow-batch.js';

/** ingest/: UDP collectors. */
export interface CollectorSet {
  /** Bound UDP ports (useful when the config asked for port 0). */
  ports: { netflow?: number; ipfix?: number; sflow?: number };
  health(): ExporterHealth[];
  stop(): Promise<void>;
}

/** What an IP resolves to in enrich/. */
export interface AddressInfo {
  asn: number;
  asName: string;
  country: string;
  customer?: string;
}

/** enrich/: ASN data set + site config. */
export interface Enricher {
  /** Adds direction, ASN, customer and link columns; may reuse `batch`'s buffers. */
  enrich(batch: FlowBatch): EnrichedBatch;
  lookup(ip: string): AddressInfo;
  customerName(index: number): string | undefined;
  linkName(index: number): string | undefined;
}

/** detect/: streaming detectors. Pure computation over batches; no I/O, no incident state. */
export interface DetectorSet {
  process(batch: EnrichedBatch): void;
  /** Called about once a second; returns what fired (or still fires) in the current windows. */
  tick(nowMs: number): DetectionEvent[];
}

export type IncidentAction = 'ack' | 'resolve' | 'note' | 'mitigate';

export interface AuditEntry {
  at: string;
  by: string;
  action: string;
  incidentId?: string;
  detail?: string;
}

/** A row of abusive traffic for one minute, one dimension; what heatmaps and trends read. */
export interface AbuseRollupRow {
  /** Minute start, ms since epoch. */
  minute: number;
  kind: Incident['kind'];
  dimension: 'asn' | 'upstream' | 'customer' | 'endpoint';
  /** ASN as text, link name, customer name, or endpoint IP. */
  key: string;
  packets: number;
  bytes: number;
  flows: number;
}

export type AbuseDimension = AbuseRollupRow['dimension'];

/** Buckets are aligned to multiples of `stepMs` since the epoch (UTC days for 1d). */
export interface AbuseSeriesQuery {
  dimension: AbuseDimension;
  /** [from, to) in ms since epoch. */
  from: number;
  to: number;
  stepMs: number;
  kind?: Incident['kind'];
  /** Only these keys; otherwise the `top` keys by bytes. */
  keys?: string[];
  top?: number;
}

export interface AbuseTotal {
  key: string;
  packets: number;
  bytes: number;
  flows: number;
  /** Start of the last minute (or hour, beyond the minute retention) with traffic. */
  lastSeen: number;
  /** Bytes per kind. */
  byKind: Partial<Record<Incident['kind'], number>>;
}

export interface AbuseSeries {
  /** Which rollup table answered: minute rows are kept 7 days, hour and day rows for the retention. */
  resolution: 'minute' | 'hour' | 'day';
  /** Bucket starts, ms since epoch. */
  buckets: number[];
  series: (AbuseTotal & { packetsSeries: number[]; bytesSeries: number[]; flowsSeries: number[] })[];
}

/** A stored rollup row; `resolution` says whether `minute` is a minute or an hour start. */
export interface StoredRollupRow extends AbuseRollupRow {
  resolution: 'minute' | 'hour';
}

/** How often incidents name a key (customer, ASN, upstream, endpoint), by kind and status. */
export interface IncidentKeyCount {
  key: string;
  kind: Incident['kind'];
  status: IncidentStatus;
  count: number;
  /** Latest lastSeen among them, ms since epoch. */
  lastSeen: number;
}

/** store/: durable state. Behind an interface so the embedded SQLite default can be swapped. */
export interface Store {
  upsertIncident(incident: Incident): void;
  getIncident(id: string): Incident | undefined;
  listIncidents(query: IncidentListQuery): Incident[];
  /** Operator actions are written synchronously: an acknowledged action is never lost. */
  appendAudit(entry: AuditEntry): void;
  listAudit(incidentId: string): AuditEntry[];
  /** Rollups are batched; a crash may lose up to ~1 s of them. */
  recordAbuse(rows: AbuseRollupRow[]): void;
  /** Time series of one dimension's rollups (heatmaps, trends). */
  abuseSeries(query: AbuseSeriesQuery): AbuseSeries;
  /** Totals per key over [from, to), biggest (bytes) first; beyond the 7 days of minute rows the range widens to whole hours. */
  abuseTotals(query: {
    dimension: AbuseDimension;
    from: number;
    to: number;
    kind?: Incident['kind'];
    keys?: string[];
    limit?: number;
  }): AbuseTotal[];
  /** Raw rollup rows for one key, newest first: minute rows where kept, hour rows before. */
  abuseRows(query: {
    dimension: AbuseDimension;
    key: string;
    from: number;
    to: number;
    limit?: number;
  }): StoredRollupRow[];
  /** Incidents naming `key` (endpoint IP as target or source, ASN, customer, upstream link), newest first. */
  incidentsFor(dimension: AbuseDimension, key: string, limit?: number): Incident[];
  /** Endpoints that incidents seen since `since` attribute to a customer (target or source). */
  incidentCustomerEndpoints(since?: number): { customer: string; ip: string }[];
  /** Incident counts per key of a dimension, by kind and status, for incidents seen since `since`. */
  incidentCounts(dimension: AbuseDimension, since?: number): IncidentKeyCount[];
  /** Retention and folding (also run hourly by the store itself). */
  maintain(nowMs?: number): void;
  flush(): void;
  close(): void;
}

/** incidents/: merges detections into incidents with a lifecycle. */
export interface IncidentEvents {
  upsert: (incident: Incident) => void;
  resolved: (incident: Incident) => void;
}

export interface IncidentManager {
  ingest(event: DetectionEvent): void;
  /** Advance lifecycles (quiet period → resolved); roughly once a second. */
  tick(nowMs: number): void;
  list(query: IncidentListQuery): Incident[];
  /** Active (not resolved) incidents, for snapshots. */
  active(): Incident[];
  get(id: string): IncidentDetail | undefined;
  setStatus(id: string, status: IncidentStatus, by: string, note?: string): Incident | undefined;
  addNote(id: string, by: string, text: string): Incident | undefined;
  series(id: string): TimelinePoint[];
  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void;
  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void;
}

/** Live traffic numbers for `summary`; updated by the pipeline. */
export interface TrafficMeter {
  addBatch(batch: FlowBatch): void;
  summary(incidents: IncidentManager, collectors: CollectorSet): Summary;
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
  /** Absolute path of the built SPA (web/dist), or undefined to serve none. */
  webRoot?: string;
}
