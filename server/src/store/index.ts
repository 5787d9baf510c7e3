/**
 * store/: the embedded default behind the Store seam.
 *
 * Why SQLite (better-sqlite3) rather than DuckDB: the write pattern is many small transactional
 * writes (incident upserts, operator actions that must be durable the moment they return, rollup
 * upserts once a second), which is SQLite's home ground; better-sqlite3 is synchronous, so an
 * operator action is on disk before the HTTP response goes out, with no promise plumbing; WAL lets
 * REST reads run while the writer works; it is a single file with a mature crash-recovery story.
 * DuckDB would win large analytical scans, but the rollups are pre-aggregated (minute → hour →
 * day) so the heaviest query reads at most a few hundred thousand rows by primary key. When a
 * site outgrows that, the seam is where ClickHouse goes (DESIGN "Growing past one machine").
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Incident as IncidentSchema,
  type Incident,
  type IncidentKind,
  type IncidentListQuery,
  type IncidentStatus,
} from '@downstream/shared';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type {
  AbuseDimension,
  AbuseRollupRow,
  AbuseSeries,
  AbuseSeriesQuery,
  AbuseTotal,
  AuditEntry,
  IncidentKeyCount,
  Store,
  StoredRollupRow,
} from '../context.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** Minute rollups are kept this long; beyond it only hourly (and daily) rows remain. */
export const MINUTE_RETENTION_MS = 7 * DAY;
/** Longest a rollup may sit in memory before it is written: what a crash can lose. */
export const FLUSH_INTERVAL_MS = 1000;
const MAINTAIN_INTERVAL_MS = HOUR;

export interface StoreOptions {
  /** Data directory (created if missing), or ':memory:'. */
  path: string;
  retentionDays: number;
  logger: Logger;
  /** Clock, for tests. */
  now?: () => number;
  /** Set false to drive flush()/maintain() by hand (tests, benchmarks). */
  timers?: boolean;
  /** Where to register the store's metrics (downstream_store_*); none when absent. */
  registry?: Registry;
}

export const DB_FILE = 'downstream.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  direction TEXT NOT NULL,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  target_ip TEXT,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status, last_seen);
CREATE INDEX IF NOT EXISTS incidents_kind ON incidents (kind, last_seen);

-- Which endpoints, ASNs, customers and upstream links an incident names: the drill-down indexes.
CREATE TABLE IF NOT EXISTS incident_keys (
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  PRIMARY KEY (dim, key, incident_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incident_keys_incident ON incident_keys (incident_id);

CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  by TEXT NOT NULL,
  action TEXT NOT NULL,
  incident_id TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_incident ON audit (incident_id, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at_ms);
`;

const ROLLUP_TABLES = ['rollup_minute', 'rollup_hour', 'rollup_day'] as const;
type RollupTable = (typeof ROLLUP_TABLES)[number];
const GRAIN: Record<RollupTable, number> = { rollup_minute: MINUTE, rollup_hour: HOUR, rollup_day: DAY };
const RESOLUTION = { rollup_minute: 'minute', rollup_hour: 'hour', rollup_day: 'day' } as const;

// Primary key leads with (dim, key, t) so one key's series is a range read; the (dim, t) index
// serves "all keys in a window" (totals, top-N).
const rollupSchema = (t: RollupTable): string => `
CREATE TABLE IF NOT EXISTS ${t} (
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  t INTEGER NOT NULL,
  kind TEXT NOT NULL,
  packets REAL NOT NULL,
  bytes REAL NOT NULL,
  flows REAL NOT NULL,
  PRIMARY KEY (dim, key, t, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ${t}_time ON ${t} (dim, t);
`;

function ms(iso: string): number {
  const v = Date.parse(iso);
  return Number.isFinite(v) ? v : 0;
}

/**
 * What incident_keys indexes: the four rollup dimensions (incidentsFor) plus which endpoints an
 * incident attributes to which customer (the scorecard's endpoint count, without parsing
 * incidents that may list 10,000 sources each).
 */
type IndexDim = AbuseDimension | 'customer-endpoint';
const CUSTOMER_ENDPOINT_SEP = '\n';

/** The keys an incident names, per dimension (what incidentsFor() finds it by). */
export function incidentKeys(inc: Incident): [IndexDim, string][] {
  const out = new Set<string>();
  const add = (dim: IndexDim, key: string | number | undefined): void => {
    if (key === undefined || key === '') return;
    out.add(`${dim}\u0000${key}`);
  };
  const customerEndpoint = (customer: string | undefined, ip: string): void => {
    if (customer) add('customer-endpoint', `${customer}${CUSTOMER_ENDPOINT_SEP}${ip}`);
  };
  if (inc.target) {
    add('endpoint', inc.target.ip);
    if (inc.target.asn) add('asn', inc.target.asn);
    add('customer', inc.target.customer);
    customerEndpoint(inc.target.customer, inc.target.ip);
  }
  for (const s of inc.sources.top) {
    add('endpoint', s.ip);
    if (s.asn) add('asn', s.asn);
    add('customer', s.customer);
    customerEndpoint(s.customer, s.ip);
  }
  for (const a of inc.sources.asns) if (a.asn) add('asn', a.asn);
  for (const u of inc.upstreams) add('upstream', u.name);
  return [...out].map((s) => {
    const i = s.indexOf('\u0000');
    return [s.slice(0, i) as IndexDim, s.slice(i + 1)];
  });
}

interface PendingRollup {
  dim: string;
  key: string;
  t: number;
  kind: string;
  packets: number;
  bytes: number;
  flows: number;
}

export interface SqliteStore extends Store {
  /** The underlying database, for tests and benchmarks. */
  readonly db: Database.Database;
  readonly file: string;
}

export function openStore(opts: StoreOptions): SqliteStore {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ module: 'store' });
  let file = ':memory:';
  if (opts.path !== ':memory:') {
    mkdirSync(opts.path, { recursive: true });
    file = join(opts.path, DB_FILE);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: each commit is fsynced, so an operator action survives even a power cut, not just a
  // process crash. Affordable because everything frequent (rollups, incident refreshes) is
  // batched into one transaction per second.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  for (const t of ROLLUP_TABLES) db.exec(rollupSchema(t));

  const retentionMs = opts.retentionDays * DAY;

  const st = {
    upsertIncident: db.prepare(
      `INSERT INTO incidents (id, kind, direction, status, severity, first_seen, last_seen, target_ip, json)
       VALUES (@id, @kind, @direction, @status, @severity, @firstSeen, @lastSeen, @targetIp, @json)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, direction = excluded.direction, status = excluded.status,
         severity = excluded.severity, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
         target_ip = excluded.target_ip, json = excluded.json`,
    ),
    deleteKeys: db.prepare('DELETE FROM incident_keys WHERE incident_id = ?'),
    insertKey: db.prepare('INSERT OR IGNORE INTO incident_keys (dim, key, incident_id) VALUES (?, ?, ?)'),
    getIncident: db.prepare<[string], { json: string }>('SELECT json FROM incidents WHERE id = ?'),
    appendAudit: db.prepare('INSERT INTO audit (at, at_ms, by, action, incident_id, detail) VALUES (?, ?, ?, ?, ?, ?)'),
    listAudit: db.prepare<
      [string],
      { at: string; by: string; action: string; incident_id: string | null; detail: string | null }
    >('SELECT at, by, action, incident_id, detail FROM audit WHERE incident_id = ? ORDER BY seq'),
    rollup: Object.fromEntries(
      ROLLUP_TABLES.map((t) => [
        t,
        db.prepare(
          `INSERT INTO ${t} (dim, key, t, kind, packets, bytes, flows) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (dim, key, t, kind) DO UPDATE SET packets = packets + excluded.packets,
             bytes = bytes + excluded.bytes, flows = flows + excluded.flows`,
        ),
      ]),
    ) as Record<RollupTable, Database.Statement>,
  };

  // Write-behind for incident refreshes: the incident manager may upsert every active incident
  // every tick; only the latest version per id is written, at the next flush. A change an
  // operator made (status, notes) is written at once.
  const pendingIncidents = new Map<string, Incident>();
  const written = new Map<string, { status: IncidentStatus; notes: number; keysSig: string }>();
  const pendingRollups = new Map<string, PendingRollup>();

  const writeIncident = (inc: Incident): void => {
    const keys = incidentKeys(inc);
    const keysSig = `${keys.length}:${keys.map((k) => k[1]).join(',')}`;
    st.upsertIncident.run({
      id: inc.id,
      kind: inc.kind,
      direction: inc.direction,
      status: inc.status,
      severity: inc.severity,
      firstSeen: ms(inc.firstSeen),
      lastSeen: ms(inc.lastSeen),
      targetIp: inc.target?.ip ?? null,
      json: JSON.stringify(inc),
    });
    const prev = written.get(inc.id);
    if (!prev || prev.keysSig !== keysSig) {
      st.deleteKeys.run(inc.id);
      for (const [dim, key] of keys) st.insertKey.run(dim, key, inc.id);
    }
    written.set(inc.id, { status: inc.status, notes: inc.notes.length, keysSig });
  };
  const writeIncidentTx = db.transaction(writeIncident);

  const flushTx = db.transaction(() => {
    for (const inc of pendingIncidents.values()) writeIncident(inc);
    for (const r of pendingRollups.values()) {
      for (const t of ROLLUP_TABLES) {
        const g = GRAIN[t];
        st.rollup[t].run(r.dim, r.key, Math.floor(r.t / g) * g, r.kind, r.packets, r.bytes, r.flows);
      }
    }
  });

  const registers = opts.registry ? [opts.registry] : [];
  const metrics = {
    flushSeconds: new Histogram({
      name: 'downstream_store_flush_seconds',
      help: 'Time to write one batch of rollups and incident refreshes',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    flushErrors: new Counter({
      name: 'downstream_store_flush_errors_total',
      help: 'Failed batch writes (retried next flush)',
      registers,
    }),
    rollupRows: new Counter({
      name: 'downstream_store_rollup_rows_total',
      help: 'Minute rollup rows written (after merging)',
      registers,
    }),
    deleted: new Counter({
      name: 'downstream_store_expired_rows_total',
      help: 'Rows removed by retention and folding',
      labelNames: ['what'],
      registers,
    }),
  };
  new Gauge({
    name: 'downstream_store_pending',
    help: 'Rollup rows and incident refreshes waiting for the next flush',
    labelNames: ['what'],
    registers,
    collect() {
      this.set({ what: 'rollups' }, pendingRollups.size);
      this.set({ what: 'incidents' }, pendingIncidents.size);
    },
  });

  let closed = false;
  const flush = (): void => {
    if (closed || (pendingIncidents.size === 0 && pendingRollups.size === 0)) return;
    const end = metrics.flushSeconds.startTimer();
    try {
      flushTx();
    } catch (e) {
      // Keep the pending data for the next attempt (e.g. SQLITE_BUSY from an outside reader).
      metrics.flushErrors.inc();
      log.error({ err: e }, 'store flush failed');
      return;
    } finally {
      end();
    }
    metrics.rollupRows.inc(pendingRollups.size);
    pendingIncidents.clear();
    pendingRollups.clear();
  };

  const parseIncident = (json: string): Incident => IncidentSchema.parse(JSON.parse(json));

  const maintain = (nowMs = now()): void => {
    flush();
    const t0 = performance.now();
    const minuteCut = Math.floor((nowMs - MINUTE_RETENTION_MS) / HOUR) * HOUR;
    const cut = nowMs - retentionMs;
    const r = db.transaction(() => {
      // The hour and day tables are written alongside the minute table, so "folding" minute rows
      // into hourly ones is dropping the minute rows once they pass the 7-day mark.
      const folded = db.prepare('DELETE FROM rollup_minute WHERE t < ?').run(minuteCut).changes;
      let expired = 0;
      expired += db.prepare('DELETE FROM rollup_hour WHERE t < ?').run(Math.floor(cut / HOUR) * HOUR).changes;
      expired += db.prepare('DELETE FROM rollup_day WHERE t < ?').run(Math.floor(cut / DAY) * DAY).changes;
      const old = db
        .prepare<[number], { id: string }>("SELECT id FROM incidents WHERE last_seen < ? AND status = 'resolved'")
        .all(cut);
      for (const { id } of old) {
        st.deleteKeys.run(id);
        written.delete(id);
      }
      const incidents = db
        .prepare("DELETE FROM incidents WHERE last_seen < ? AND status = 'resolved'")
        .run(cut).changes;
      // Audit entries outlive nothing they describe: drop those of incidents now gone, and any
      // older than the retention.
      const audit = db.prepare('DELETE FROM audit WHERE at_ms < ?').run(cut).changes;
      return { folded, expired, incidents, audit };
    })();
    for (const [what, n] of Object.entries(r)) if (n > 0) metrics.deleted.inc({ what }, n);
    log.debug({ ...r, ms: Math.round(performance.now() - t0) }, 'store maintenance');
  };

  /** Coarsest table whose grain divides the step (minute rows only exist for 7 days). */
  const tableForStep = (stepMs: number): RollupTable =>
    stepMs % DAY === 0 ? 'rollup_day' : stepMs % HOUR === 0 ? 'rollup_hour' : 'rollup_minute';

  const kindClause = (kind: IncidentKind | undefined, params: unknown[]): string => {
    if (!kind) return '';
    params.push(kind);
    return ' AND kind = ?';
  };
  const keysClause = (keys: string[] | undefined, params: unknown[]): string => {
    if (!keys) return '';
    params.push(JSON.stringify(keys));
    return ' AND key IN (SELECT value FROM json_each(?))';
  };

  const seriesStmts = new Map<string, Database.Statement>();
  /** Per key: [key, JSON buckets, JSON packets, JSON bytes, JSON flows] (rows of a bucket summed in JS). */
  const seriesStmt = (table: RollupTable, withKind: boolean): Database.Statement => {
    const k = `${table}:${withKind}`;
    let st = seriesStmts.get(k);
    if (!st) {
      st = db
        .prepare(
          `SELECT key, json_group_array(b), json_group_array(p), json_group_array(y), json_group_array(f) FROM (
             SELECT key, CAST((t - @first) / @step AS INTEGER) AS b, packets AS p, bytes AS y, flows AS f FROM ${table}
             WHERE dim = @dim AND key IN (SELECT value FROM json_each(@keys)) AND t >= @first AND t < @to${withKind ? ' AND kind = @kind' : ''}
           ) GROUP BY key`,
        )
        .raw();
      seriesStmts.set(k, st);
    }
    return st;
  };

  type TotalsQuery = {
    dimension: AbuseDimension;
    from: number;
    to: number;
    kind?: IncidentKind;
    keys?: string[];
    limit?: number;
  };

  /** Add one table's sums over [from, to) (from aligned down to the table's grain) into `byKey`. */
  const addTotals = (table: RollupTable, q: TotalsQuery, byKey: Map<string, AbuseTotal>): void => {
    const g = GRAIN[table];
    if (q.from >= q.to) return;
    const params: unknown[] = [q.dimension, Math.floor(q.from / g) * g, q.to];
    const where = `dim = ? AND t >= ? AND t < ?${kindClause(q.kind, params)}${keysClause(q.keys, params)}`;
    const rows = db
      .prepare(
        `SELECT key, kind, SUM(packets), SUM(bytes), SUM(flows), MAX(t) FROM ${table} WHERE ${where} GROUP BY key, kind`,
      )
      .raw()
      .all(...params) as [string, IncidentKind, number, number, number, number][];
    for (const r of rows) {
      let t = byKey.get(r[0]);
      if (!t) byKey.set(r[0], (t = { key: r[0], packets: 0, bytes: 0, flows: 0, lastSeen: 0, byKind: {} }));
      t.packets += r[2];
      t.bytes += r[3];
      t.flows += r[4];
      if (r[5] > t.lastSeen) t.lastSeen = r[5];
      t.byKind[r[1]] = (t.byKind[r[1]] ?? 0) + r[3];
    }
  };

  const ranked = (byKey: Map<string, AbuseTotal>, limit?: number): AbuseTotal[] => {
    const out = [...byKey.values()].sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : 1));
    return limit !== undefined ? out.slice(0, limit) : out;
  };

  /**
   * Totals over [from, to) from the coarsest rows that fit: whole days from the day table, whole
   * hours around them from the hour table, and the partial hours at either end from minute rows
   * (where kept; beyond 7 days the range widens to whole hours). A 30-day scorecard thus reads
   * ~30 day rows, ~48 hour rows and ~120 minute rows per key instead of 43,200 minute rows.
   */
  const tieredTotals = (q: TotalsQuery): AbuseTotal[] => {
    const byKey = new Map<string, AbuseTotal>();
    const minuteKept = Math.floor((now() - MINUTE_RETENTION_MS) / HOUR) * HOUR;
    let from = q.from;
    const to = q.to;
    if (from < minuteKept) from = Math.floor(from / HOUR) * HOUR;
    const hA = Math.ceil(from / HOUR) * HOUR;
    const hB = Math.floor(to / HOUR) * HOUR;
    const part = (table: RollupTable, a: number, b: number): void => addTotals(table, { ...q, from: a, to: b }, byKey);
    if (hA >= hB) {
      part(from >= minuteKept ? 'rollup_minute' : 'rollup_hour', from, to);
    } else {
      part('rollup_minute', from, hA);
      const dA = Math.ceil(hA / DAY) * DAY;
      const dB = Math.floor(hB / DAY) * DAY;
      if (dA < dB) {
        part('rollup_hour', hA, dA);
        part('rollup_day', dA, dB);
        part('rollup_hour', dB, hB);
      } else {
        part('rollup_hour', hA, hB);
      }
      if (hB >= minuteKept) part('rollup_minute', hB, to);
      else part('rollup_hour', hB, to);
    }
    // lastSeen to the minute: look inside the hour (or day) the coarse rows point at.
    const lastIn = db.prepare<[string, string, number, number], { last: number | null }>(
      'SELECT MAX(t) AS last FROM rollup_minute WHERE dim = ? AND key = ? AND t >= ? AND t < ?',
    );
    const out = ranked(byKey, q.limit);
    for (const t of out) {
      if (t.lastSeen >= minuteKept && t.lastSeen % HOUR === 0) {
        const r = lastIn.get(
          q.dimension,
          t.key,
          t.lastSeen,
          Math.min(to, t.lastSeen + (t.lastSeen % DAY === 0 ? DAY : HOUR)),
        );
        if (r?.last != null && r.last > t.lastSeen) t.lastSeen = r.last;
      }
    }
    return out;
  };

  const store: SqliteStore = {
    db,
    file,

    upsertIncident(inc: Incident): void {
      const prev = written.get(inc.id);
      const operatorChange = prev
        ? prev.status !== inc.status || prev.notes !== inc.notes.length
        : inc.status !== 'open' || inc.notes.length > 0;
      if (operatorChange) {
        // A lifecycle change or a note: on disk (fsynced) before we return.
        pendingIncidents.delete(inc.id);
        writeIncidentTx(inc);
      } else {
        // New incidents and refreshes ride the next flush (≤ 1 s): a burst of new incidents
        // costs one transaction, not one fsync each.
        pendingIncidents.set(inc.id, inc);
      }
    },

    getIncident(id: string): Incident | undefined {
      const p = pendingIncidents.get(id);
      if (p) return p;
      const row = st.getIncident.get(id);
      return row ? parseIncident(row.json) : undefined;
    },

    listIncidents(q: IncidentListQuery): Incident[] {
      flush();
      const params: unknown[] = [];
      const where: string[] = [];
      if (q.status) {
        where.push('status = ?');
        params.push(q.status);
      }
      if (q.kind) {
        where.push('kind = ?');
        params.push(q.kind);
      }
      if (q.direction) {
        where.push('direction = ?');
        params.push(q.direction);
      }
      if (q.since) {
        where.push('last_seen >= ?');
        params.push(ms(q.since));
      }
      params.push(q.limit);
      const rows = db
        .prepare<unknown[], { json: string }>(
          `SELECT json FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_seen DESC LIMIT ?`,
        )
        .all(...params);
      return rows.map((r) => parseIncident(r.json));
    },

    appendAudit(e: AuditEntry): void {
      // Its own committed (fsynced) transaction: durable when this returns.
      st.appendAudit.run(e.at, ms(e.at) || now(), e.by, e.action, e.incidentId ?? null, e.detail ?? null);
    },

    listAudit(incidentId: string): AuditEntry[] {
      return st.listAudit.all(incidentId).map((r) => {
        const e: AuditEntry = { at: r.at, by: r.by, action: r.action };
        if (r.incident_id !== null) e.incidentId = r.incident_id;
        if (r.detail !== null) e.detail = r.detail;
        return e;
      });
    },

    recordAbuse(rows: AbuseRollupRow[]): void {
      // Rows add up: several calls for the same (minute, kind, dimension, key) are summed.
      for (const r of rows) {
        const t = Math.floor(r.minute / MINUTE) * MINUTE;
        const k = `${r.dimension}\u0000${r.key}\u0000${t}\u0000${r.kind}`;
        const p = pendingRollups.get(k);
        if (p) {
          p.packets += r.packets;
          p.bytes += r.bytes;
          p.flows += r.flows;
        } else {
          pendingRollups.set(k, {
            dim: r.dimension,
            key: r.key,
            t,
            kind: r.kind,
            packets: r.packets,
            bytes: r.bytes,
            flows: r.flows,
          });
        }
      }
    },

    abuseSeries(q: AbuseSeriesQuery): AbuseSeries {
      flush();
      const table = tableForStep(q.stepMs);
      const step = q.stepMs;
      const first = Math.floor(q.from / step) * step;
      const nb = Math.max(0, Math.ceil((q.to - first) / step));
      const buckets = Array.from({ length: nb }, (_, i) => first + i * step);
      // Totals (and the ranking) over the buckets' span from the coarsest rows that fit; then
      // the per-bucket values of only the keys shown.
      const ranked = tieredTotals({
        dimension: q.dimension,
        from: first,
        to: q.to,
        kind: q.kind,
        keys: q.keys,
        limit: q.keys ? undefined : (q.top ?? 50),
      });
      const totalsOf = new Map(ranked.map((t) => [t.key, t]));
      const keys = q.keys ?? ranked.map((t) => t.key);
      const series = new Map<string, AbuseSeries['series'][number]>();
      for (const key of keys) {
        series.set(key, {
          ...(totalsOf.get(key) ?? { key, packets: 0, bytes: 0, flows: 0, lastSeen: 0, byKind: {} }),
          packetsSeries: new Array<number>(nb).fill(0),
          bytesSeries: new Array<number>(nb).fill(0),
          flowsSeries: new Array<number>(nb).fill(0),
        });
      }
      const withTraffic = keys.filter((k) => totalsOf.has(k));
      if (withTraffic.length > 0 && nb > 0) {
        // One query for all keys shown, each key's rows folded into JSON arrays by SQLite and
        // parsed natively: materialising a JS row per (key, bucket) cost ~3x more.
        const rows = seriesStmt(table, q.kind !== undefined).all({
          first,
          step,
          to: q.to,
          dim: q.dimension,
          keys: JSON.stringify(withTraffic),
          ...(q.kind ? { kind: q.kind } : {}),
        }) as [string, string, string, string, string][];
        for (const r of rows) {
          const s = series.get(r[0]);
          if (!s) continue;
          const bs = JSON.parse(r[1]) as number[];
          const ps = JSON.parse(r[2]) as number[];
          const ys = JSON.parse(r[3]) as number[];
          const fs = JSON.parse(r[4]) as number[];
          for (let i = 0; i < bs.length; i++) {
            const b = bs[i];
            if (b < 0 || b >= nb) continue;
            s.packetsSeries[b] += ps[i];
            s.bytesSeries[b] += ys[i];
            s.flowsSeries[b] += fs[i];
          }
        }
      }
      const out = [...series.values()];
      if (!q.keys) out.sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : 1));
      return { resolution: RESOLUTION[table], buckets, series: out };
    },

    abuseTotals(q) {
      flush();
      return tieredTotals(q);
    },

    abuseRows(q): StoredRollupRow[] {
      flush();
      const limit = q.limit ?? 10_000;
      const minuteFrom = Math.max(q.from, Math.floor((now() - MINUTE_RETENTION_MS) / HOUR) * HOUR);
      const out: StoredRollupRow[] = [];
      type Row = { t: number; kind: IncidentKind; packets: number; bytes: number; flows: number };
      const read = (table: RollupTable, from: number, to: number, resolution: 'minute' | 'hour'): void => {
        if (from >= to || out.length >= limit) return;
        const rows = db
          .prepare<[string, string, number, number, number], Row>(
            `SELECT t, kind, packets, bytes, flows FROM ${table} WHERE dim = ? AND key = ? AND t >= ? AND t < ? ORDER BY t DESC, kind LIMIT ?`,
          )
          .all(q.dimension, q.key, from, to, limit - out.length);
        for (const r of rows) {
          out.push({
            minute: r.t,
            kind: r.kind,
            dimension: q.dimension,
            key: q.key,
            packets: r.packets,
            bytes: r.bytes,
            flows: r.flows,
            resolution,
          });
        }
      };
      read('rollup_minute', minuteFrom, q.to, 'minute');
      read('rollup_hour', q.from, Math.min(q.to, minuteFrom), 'hour');
      return out;
    },

    incidentsFor(dimension, key, limit = 1000): Incident[] {
      flush();
      return db
        .prepare<[string, string, number], { json: string }>(
          `SELECT i.json FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
           WHERE k.dim = ? AND k.key = ? ORDER BY i.last_seen DESC LIMIT ?`,
        )
        .all(dimension, key, limit)
        .map((r) => parseIncident(r.json));
    },

    incidentCustomerEndpoints(since = 0): { customer: string; ip: string }[] {
      flush();
      return db
        .prepare<[number], { key: string }>(
          `SELECT DISTINCT k.key AS key FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
           WHERE k.dim = 'customer-endpoint' AND i.last_seen >= ?`,
        )
        .all(since)
        .map(({ key }) => {
          const i = key.lastIndexOf(CUSTOMER_ENDPOINT_SEP);
          return { customer: key.slice(0, i), ip: key.slice(i + 1) };
        });
    },

    incidentCounts(dimension, since = 0): IncidentKeyCount[] {
      flush();
      return db
        .prepare<[string, number], IncidentKeyCount>(
          `SELECT k.key AS key, i.kind AS kind, i.status AS status, COUNT(*) AS count, MAX(i.last_seen) AS lastSeen
           FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
           WHERE k.dim = ? AND i.last_seen >= ? GROUP BY k.key, i.kind, i.status`,
        )
        .all(dimension, since);
    },

    maintain,
    flush,

    close(): void {
      if (closed) return;
      flush();
      closed = true;
      if (flushTimer) clearInterval(flushTimer);
      if (maintainTimer) clearInterval(maintainTimer);
      db.close();
    },
  };

  // Remember what is on disk so a restart does not rewrite every incident's keys.
  for (const r of db
    .prepare<[], { id: string; status: IncidentStatus; json: string }>(
      "SELECT id, status, json FROM incidents WHERE status != 'resolved'",
    )
    .all()) {
    try {
      const inc = parseIncident(r.json);
      const keys = incidentKeys(inc);
      written.set(r.id, {
        status: r.status,
        notes: inc.notes.length,
        keysSig: `${keys.length}:${keys.map((k) => k[1]).join(',')}`,
      });
    } catch (e) {
      log.warn({ id: r.id, err: e }, 'stored incident does not match the schema');
    }
  }

  let flushTimer: NodeJS.Timeout | undefined;
  let maintainTimer: NodeJS.Timeout | undefined;
  if (opts.timers !== false) {
    flushTimer = setInterval(flush, FLUSH_INTERVAL_MS);
    flushTimer.unref();
    maintain();
    maintainTimer = setInterval(() => {
      try {
        maintain();
      } catch (e) {
        log.error({ err: e }, 'store maintenance failed');
      }
    }, MAINTAIN_INTERVAL_MS);
    maintainTimer.unref();
  }
  log.info({ file, retentionDays: opts.retentionDays }, 'store open');
  return store;
}
