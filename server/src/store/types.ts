import type { AuditEntry, AuditRecord, Incident, IncidentListQuery, IncidentStatus } from '@downstream/shared';

/** Audit entries are shared with the API (shared/src/audit.ts): one vocabulary. */
export type { AuditEntry, AuditRecord } from '@downstream/shared';

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

/** What `Store.importHistory` writes (server/src/sim/history.ts makes it). */
export interface SimulatedHistoryImport {
  from: number;
  to: number;
  rollups: AbuseRollupRow[];
  incidents: Incident[];
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

/** An incident as `incidentsChangedSince` returns it: with the time its stored row last changed. */
export type ChangedIncident = Incident & {
  /** ms since epoch; monotonic per store (the change feed's cursor). */
  changedAt: number;
};

/**
 * store/: durable state. Behind an interface so the embedded SQLite default and the shared
 * PostgreSQL store (storage.postgres) are interchangeable; both pass store-conformance.ts.
 *
 * Every method is async because a shared store is across a network. What must be durable when a
 * call resolves is said per method; callers on a hot path (detection) do not await refreshes.
 */
export interface Store {
  /**
   * New incidents and numeric refreshes may be queued (written within ~1 s, latest version per
   * id, in call order per incident); a change of status or notes is written before it resolves.
   */
  upsertIncident(incident: Incident): Promise<void>;
  getIncident(id: string): Promise<Incident | undefined>;
  listIncidents(query: IncidentListQuery): Promise<Incident[]>;
  /**
   * Incidents whose stored row changed after `sinceMs`, oldest change first (at most `limit`,
   * default 500): the change feed another process polls. Queued writes are flushed first. A
   * poller should keep its cursor at the last `changedAt` it saw and tolerate seeing a row again.
   */
  incidentsChangedSince(sinceMs: number, limit?: number): Promise<ChangedIncident[]>;
  /** Operator actions: durable when this resolves; a write that fails rejects (never lost silently). */
  appendAudit(entry: AuditRecord): Promise<void>;
  listAudit(incidentId: string): Promise<AuditEntry[]>;
  /** Rollups are batched; a crash may lose up to ~1 s of them. Never blocks on the database. */
  recordAbuse(rows: AbuseRollupRow[]): void;
  /** Time series of one dimension's rollups (heatmaps, trends). */
  abuseSeries(query: AbuseSeriesQuery): Promise<AbuseSeries>;
  /** Totals per key over [from, to), biggest (bytes) first; beyond the 7 days of minute rows the range widens to whole hours. */
  abuseTotals(query: AbuseTotalsQuery): Promise<AbuseTotal[]>;
  /** Raw rollup rows for one key, newest first: minute rows where kept, hour rows before. */
  abuseRows(query: AbuseRowsQuery): Promise<StoredRollupRow[]>;
  /** Incidents naming `key` (endpoint IP as target or source, ASN, customer, upstream link), newest first. */
  incidentsFor(dimension: AbuseDimension, key: string, limit?: number): Promise<Incident[]>;
  /** Endpoints that incidents seen since `since` attribute to a customer (target or source). */
  incidentCustomerEndpoints(since?: number): Promise<{ customer: string; ip: string }[]>;
  /** Incident counts per key of a dimension, by kind and status, for incidents seen since `since`. */
  incidentCounts(dimension: AbuseDimension, since?: number): Promise<IncidentKeyCount[]>;
  /**
   * Writes the demo's simulated history (rollups flagged simulated, incidents with
   * `simulated: true`) in one transaction and records its span. Optional: stores without it get
   * no backfill.
   */
  importHistory?(history: SimulatedHistoryImport): Promise<void>;
  /** Span of the simulated history, when one was imported. */
  simulatedHistory?(): Promise<{ from: number; to: number } | undefined>;
  /** No incident, rollup or history yet: a fresh data dir. */
  isEmpty?(): Promise<boolean>;
  /** Retention and folding (also run hourly by the store itself). */
  maintain(nowMs?: number): Promise<void>;
  /** Writes everything queued; rejects when the database refused it (the rows stay queued). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface AbuseTotalsQuery {
  dimension: AbuseDimension;
  from: number;
  to: number;
  kind?: Incident['kind'];
  keys?: string[];
  limit?: number;
}

export interface AbuseRowsQuery {
  dimension: AbuseDimension;
  key: string;
  from: number;
  to: number;
  limit?: number;
}

/** An audit row as both stores keep it (columns at, by, action, incident_id, detail): optional fields stay absent. */
export function auditEntryFromRow(r: {
  at: string;
  by: string;
  action: string;
  incident_id: string | null;
  detail: string | null;
}): AuditEntry {
  const e: AuditEntry = { at: r.at, by: r.by, action: r.action };
  if (r.incident_id !== null) e.incidentId = r.incident_id;
  if (r.detail !== null) e.detail = r.detail;
  return e;
}
