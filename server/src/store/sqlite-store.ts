/**
 * store/: the embedded default behind the Store seam.
 *
 * Why SQLite (better-sqlite3) rather than DuckDB: the write pattern is many small transactional
 * writes (incident upserts, operator actions that must be durable the moment they return, rollup
 * upserts once a second), which is SQLite's home ground; better-sqlite3 is synchronous, so an
 * operator action is on disk before its promise resolves; WAL lets REST reads run while the writer
 * works; it is a single file with a mature crash-recovery story. DuckDB would win large analytical
 * scans, but the rollups are pre-aggregated (minute → hour → day) so the heaviest query reads at
 * most a few hundred thousand rows by primary key. A store shared by several processes is
 * PostgreSQL (pg-store.ts), behind the same interface.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Incident as IncidentSchema, type Incident, type IncidentListQuery } from '@downstream/shared';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DAY, FLUSH_INTERVAL_MS, isoMs, MAINTAIN_INTERVAL_MS, META_SIMULATED } from './constants.js';
import { incidentKeys, keysSignature, splitCustomerEndpoint } from './incident-keys.js';
import { pendingOf, RollupBuffer, sumPerTable } from './rollup-buffer.js';
import { GRAIN, ROLLUP_TABLES, rollupQueries, type RollupTable } from './rollup-queries.js';
import { sqliteRollupReader } from './sqlite-rollups.js';
import { minuteKeptFrom, retentionCuts } from './retention.js';
import { classify } from './errors.js';
import { createSqliteSchema } from './sqlite-schema.js';
import { changeClock, storeMetrics } from './store-metrics.js';
import {
  auditEntryFromRow,
  type AuditEntry,
  type AuditRecord,
  type ChangedIncident,
  type IncidentKeyCount,
  type SimulatedHistoryImport,
  type Store,
} from './types.js';

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

export interface SqliteStore extends Store {
  importHistory(history: SimulatedHistoryImport): Promise<void>;
  simulatedHistory(): Promise<{ from: number; to: number } | undefined>;
  isEmpty(): Promise<boolean>;
  /** The underlying database, for tests, benchmarks and the modules that share its file. */
  readonly db: Database.Database;
  readonly file: string;
}

/** What the store remembers of each incident row it wrote: is the next upsert an operator change, are its keys new. */
interface Written {
  status: Incident['status'];
  notes: number;
  keysSig: string;
}

/**
 * The SQLite file under a data dir (or ':memory:'), without the store's tables: what the modules
 * that keep their own tables in it (subscribers) open when the store itself is PostgreSQL.
 */
export function openSqliteFile(path: string): { db: Database.Database; file: string } {
  let file = ':memory:';
  if (path !== ':memory:') {
    mkdirSync(path, { recursive: true });
    file = join(path, DB_FILE);
  }
  const db = new Database(file);
  // First: switching a fresh file to WAL takes the write lock, and another process opening the
  // same file at that moment must wait for it, not fail with "database is locked".
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  // FULL: each commit is fsynced, so an operator action survives even a power cut, not just a
  // process crash. Affordable because everything frequent (rollups, incident refreshes) is
  // batched into one transaction per second.
  db.pragma('synchronous = FULL');
  return { db, file };
}

export function openStore(opts: StoreOptions): SqliteStore {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ module: 'store' });
  const { db, file } = openSqliteFile(opts.path);
  createSqliteSchema(db);

  const retentionMs = opts.retentionDays * DAY;
  const stamps = changeClock(now);
  stamps.seen((db.prepare('SELECT MAX(updated_at) AS m FROM incidents').get() as { m: number | null }).m ?? 0);

  const st = {
    upsertIncident: db.prepare(
      `INSERT INTO incidents (id, kind, direction, status, severity, first_seen, last_seen, target_ip, json, simulated, updated_at)
       VALUES (@id, @kind, @direction, @status, @severity, @firstSeen, @lastSeen, @targetIp, @json, @simulated, @updatedAt)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, direction = excluded.direction, status = excluded.status,
         severity = excluded.severity, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
         target_ip = excluded.target_ip, json = excluded.json, updated_at = excluded.updated_at`,
    ),
    deleteKeys: db.prepare('DELETE FROM incident_keys WHERE incident_id = ?'),
    insertKey: db.prepare('INSERT OR IGNORE INTO incident_keys (dim, key, incident_id) VALUES (?, ?, ?)'),
    getIncident: db.prepare<[string], { json: string }>('SELECT json FROM incidents WHERE id = ?'),
    changedSince: db.prepare<[number, number], { json: string; updated_at: number }>(
      'SELECT json, updated_at FROM incidents WHERE updated_at > ? ORDER BY updated_at LIMIT ?',
    ),
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
  const written = new Map<string, Written>();
  const rollups = new RollupBuffer();
  const metrics = storeMetrics(opts.registry, () => ({ rollups: rollups.size, incidents: pendingIncidents.size }));

  const writeIncident = (inc: Incident): void => {
    const keys = incidentKeys(inc);
    const keysSig = keysSignature(keys);
    st.upsertIncident.run({
      id: inc.id,
      kind: inc.kind,
      direction: inc.direction,
      status: inc.status,
      severity: inc.severity,
      firstSeen: isoMs(inc.firstSeen),
      lastSeen: isoMs(inc.lastSeen),
      targetIp: inc.target?.ip ?? null,
      json: JSON.stringify(inc),
      simulated: inc.simulated ? 1 : 0,
      updatedAt: stamps.next(),
    });
    const prev = written.get(inc.id);
    if (!prev || prev.keysSig !== keysSig) {
      st.deleteKeys.run(inc.id);
      for (const [dim, key] of keys) st.insertKey.run(dim, key, inc.id);
    }
    written.set(inc.id, { status: inc.status, notes: inc.notes.length, keysSig });
  };
  const writeIncidentTx = db.transaction(writeIncident);

  const flushTx = db.transaction((incs: Incident[], rows: ReturnType<RollupBuffer['take']>) => {
    for (const inc of incs) writeIncident(inc);
    for (const r of rows) {
      for (const t of ROLLUP_TABLES) {
        const g = GRAIN[t];
        st.rollup[t].run(r.dim, r.key, Math.floor(r.t / g) * g, r.kind, r.packets, r.bytes, r.flows);
      }
    }
  });

  let closed = false;
  /** Writes what is queued; on failure keeps it for the next attempt and returns the error. */
  const flushNow = (): unknown => {
    if (closed || (pendingIncidents.size === 0 && rollups.size === 0)) return undefined;
    const end = metrics.flushSeconds.startTimer();
    const incs = [...pendingIncidents.values()];
    const rows = rollups.take();
    try {
      flushTx(incs, rows);
    } catch (e) {
      // Keep the pending data for the next attempt (e.g. SQLITE_BUSY from an outside reader).
      rollups.restore(rows);
      metrics.flushErrors.inc();
      log.error({ err: e }, 'store flush failed');
      return e;
    } finally {
      end();
    }
    metrics.rollupRows.inc(rows.length);
    for (const inc of incs) if (pendingIncidents.get(inc.id) === inc) pendingIncidents.delete(inc.id);
    return undefined;
  };

  const parseIncident = (json: string): Incident => IncidentSchema.parse(JSON.parse(json));

  const maintainNow = (nowMs = now()): void => {
    flushNow();
    const t0 = performance.now();
    const cuts = retentionCuts(nowMs, retentionMs);
    const r = db.transaction(() => {
      // The hour and day tables are written alongside the minute table, so "folding" minute rows
      // into hourly ones is dropping the minute rows once they pass the 7-day mark.
      const folded = db.prepare('DELETE FROM rollup_minute WHERE t < ?').run(cuts.minute).changes;
      let expired = 0;
      expired += db.prepare('DELETE FROM rollup_hour WHERE t < ?').run(cuts.hour).changes;
      expired += db.prepare('DELETE FROM rollup_day WHERE t < ?').run(cuts.day).changes;
      const old = db
        .prepare<[number], { id: string }>("SELECT id FROM incidents WHERE last_seen < ? AND status = 'resolved'")
        .all(cuts.incidents);
      for (const { id } of old) {
        st.deleteKeys.run(id);
        written.delete(id);
      }
      const incidents = db
        .prepare("DELETE FROM incidents WHERE last_seen < ? AND status = 'resolved'")
        .run(cuts.incidents).changes;
      // Audit entries outlive nothing they describe: drop any older than the retention.
      const audit = db.prepare('DELETE FROM audit WHERE at_ms < ?').run(cuts.incidents).changes;
      return { folded, expired, incidents, audit };
    })();
    for (const [what, n] of Object.entries(r)) if (n > 0) metrics.deleted.inc({ what }, n);
    log.debug({ ...r, ms: Math.round(performance.now() - t0) }, 'store maintenance');
  };

  // Readers flush first (below), so what was recorded is what is read.
  const queries = rollupQueries(sqliteRollupReader(db), now);

  const store: SqliteStore = {
    db,
    file,

    async upsertIncident(inc: Incident): Promise<void> {
      const prev = written.get(inc.id);
      const operatorChange = prev
        ? prev.status !== inc.status || prev.notes !== inc.notes.length
        : inc.status !== 'open' || inc.notes.length > 0;
      if (operatorChange) {
        // A lifecycle change or a note: on disk (fsynced) before we return.
        pendingIncidents.delete(inc.id);
        try {
          writeIncidentTx(inc);
        } catch (e) {
          metrics.writeErrors.inc({ what: 'incident' });
          pendingIncidents.set(inc.id, inc);
          throw classify(`writing incident ${inc.id}`, e);
        }
      } else {
        // New incidents and refreshes ride the next flush (≤ 1 s): a burst of new incidents
        // costs one transaction, not one fsync each.
        pendingIncidents.set(inc.id, inc);
      }
    },

    async getIncident(id: string): Promise<Incident | undefined> {
      const p = pendingIncidents.get(id);
      if (p) return p;
      const row = st.getIncident.get(id);
      return row ? parseIncident(row.json) : undefined;
    },

    async listIncidents(q: IncidentListQuery): Promise<Incident[]> {
      flushNow();
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
        params.push(isoMs(q.since));
      }
      params.push(q.limit);
      const rows = db
        .prepare<unknown[], { json: string }>(
          `SELECT json FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_seen DESC LIMIT ?`,
        )
        .all(...params);
      return rows.map((r) => parseIncident(r.json));
    },

    async incidentsChangedSince(sinceMs: number, limit = 500): Promise<ChangedIncident[]> {
      flushNow();
      return st.changedSince.all(sinceMs, limit).map((r) => ({ ...parseIncident(r.json), changedAt: r.updated_at }));
    },

    async appendAudit(e: AuditRecord): Promise<void> {
      // Its own committed (fsynced) transaction: durable when this resolves.
      try {
        st.appendAudit.run(e.at, isoMs(e.at) || now(), e.by, e.action, e.incidentId ?? null, e.detail ?? null);
      } catch (err) {
        metrics.writeErrors.inc({ what: 'audit' });
        throw classify('writing an audit entry', err);
      }
    },

    async listAudit(incidentId: string): Promise<AuditEntry[]> {
      return st.listAudit.all(incidentId).map(auditEntryFromRow);
    },

    recordAbuse(rows) {
      // Rows add up: several calls for the same (minute, kind, dimension, key) are summed.
      rollups.add(rows);
    },

    async abuseSeries(q) {
      flushNow();
      return queries.abuseSeries(q);
    },

    async abuseTotals(q) {
      flushNow();
      return queries.abuseTotals(q);
    },

    async abuseRows(q) {
      flushNow();
      return queries.abuseRows(q);
    },

    async incidentsFor(dimension, key, limit = 1000): Promise<Incident[]> {
      flushNow();
      return db
        .prepare<[string, string, number], { json: string }>(
          `SELECT i.json FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
           WHERE k.dim = ? AND k.key = ? ORDER BY i.last_seen DESC LIMIT ?`,
        )
        .all(dimension, key, limit)
        .map((r) => parseIncident(r.json));
    },

    async incidentCustomerEndpoints(since = 0): Promise<{ customer: string; ip: string }[]> {
      flushNow();
      return db
        .prepare<[number], { key: string }>(
          `SELECT DISTINCT k.key AS key FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
           WHERE k.dim = 'customer-endpoint' AND i.last_seen >= ?`,
        )
        .all(since)
        .map(({ key }) => splitCustomerEndpoint(key));
    },

    async incidentCounts(dimension, since = 0): Promise<IncidentKeyCount[]> {
      flushNow();
      return db
        .prepare<[string, number], IncidentKeyCount>(
          `SELECT k.key AS key, i.kind AS kind, i.status AS status, COUNT(*) AS count, MAX(i.last_seen) AS lastSeen
           FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
           WHERE k.dim = ? AND i.last_seen >= ? GROUP BY k.key, i.kind, i.status`,
        )
        .all(dimension, since);
    },

    async importHistory(h: SimulatedHistoryImport): Promise<void> {
      flushNow();
      // Summed per table in JS first: one row write per (table, key, bucket), not per minute.
      const sums = sumPerTable(h.rollups.map(pendingOf), minuteKeptFrom(now()));
      const ins = Object.fromEntries(
        ROLLUP_TABLES.map((t) => [
          t,
          db.prepare(
            `INSERT INTO ${t} (dim, key, t, kind, packets, bytes, flows, simulated) VALUES (?, ?, ?, ?, ?, ?, ?, 1)
             ON CONFLICT (dim, key, t, kind) DO UPDATE SET packets = packets + excluded.packets,
               bytes = bytes + excluded.bytes, flows = flows + excluded.flows, simulated = 1`,
          ),
        ]),
      ) as Record<RollupTable, Database.Statement>;
      db.transaction(() => {
        for (const [t, m] of sums)
          for (const r of m.values()) ins[t].run(r.dim, r.key, r.t, r.kind, r.packets, r.bytes, r.flows);
        for (const inc of h.incidents) writeIncident({ ...inc, simulated: true });
        db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
          META_SIMULATED,
          JSON.stringify({ from: h.from, to: h.to }),
        );
      })();
    },

    async simulatedHistory(): Promise<{ from: number; to: number } | undefined> {
      const row = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(META_SIMULATED);
      return row ? parseSpan(row.value) : undefined;
    },

    async isEmpty(): Promise<boolean> {
      flushNow();
      const one = (sql: string) => db.prepare(sql).get() !== undefined;
      return (
        !one('SELECT 1 FROM incidents LIMIT 1') &&
        !one('SELECT 1 FROM rollup_hour LIMIT 1') &&
        !one(`SELECT 1 FROM meta WHERE key = '${META_SIMULATED}'`)
      );
    },

    async maintain(nowMs?: number): Promise<void> {
      maintainNow(nowMs);
    },

    async flush(): Promise<void> {
      const err = flushNow();
      if (err) throw classify('writing queued incidents and rollups', err);
    },

    async close(): Promise<void> {
      if (closed) return;
      flushNow();
      closed = true;
      if (flushTimer) clearInterval(flushTimer);
      if (maintainTimer) clearInterval(maintainTimer);
      db.close();
    },
  };

  // Remember what is on disk so a restart does not rewrite every incident's keys.
  for (const r of db
    .prepare<[], { id: string; json: string }>("SELECT id, json FROM incidents WHERE status != 'resolved'")
    .all()) {
    try {
      const inc = parseIncident(r.json);
      written.set(r.id, { status: inc.status, notes: inc.notes.length, keysSig: keysSignature(incidentKeys(inc)) });
    } catch (e) {
      log.warn({ id: r.id, err: e }, 'stored incident does not match the schema');
    }
  }

  let flushTimer: NodeJS.Timeout | undefined;
  let maintainTimer: NodeJS.Timeout | undefined;
  if (opts.timers !== false) {
    flushTimer = setInterval(flushNow, FLUSH_INTERVAL_MS);
    flushTimer.unref();
    maintainNow();
    maintainTimer = setInterval(() => {
      try {
        maintainNow();
      } catch (e) {
        log.error({ err: e }, 'store maintenance failed');
      }
    }, MAINTAIN_INTERVAL_MS);
    maintainTimer.unref();
  }
  log.info({ file, retentionDays: opts.retentionDays }, 'store open');
  return store;
}

/** The meta row of the simulated history's span, or undefined when it is not one. */
export function parseSpan(value: string): { from: number; to: number } | undefined {
  try {
    const v = JSON.parse(value) as { from: unknown; to: unknown };
    return typeof v.from === 'number' && typeof v.to === 'number' ? { from: v.from, to: v.to } : undefined;
  } catch {
    return undefined;
  }
}
