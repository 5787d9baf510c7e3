/**
 * store/: the shared store, PostgreSQL (storage.postgres), behind the same Store interface as the
 * embedded SQLite default and held to the same conformance suite (store-conformance.ts).
 *
 * - Every write goes through one queue per process, so an incident's versions reach the
 *   database in the order they were made; refreshes and rollups are batched once a second
 *   (one transaction, a few multi-row statements), operator changes and audit entries are
 *   written at once and their promises settle only when committed.
 * - Connections come from a pg.Pool: after a PostgreSQL restart broken connections are dropped
 *   and new ones made on the next query; what was queued stays queued until a flush succeeds;
 *   an audit write that fails rejects, so the API answers 5xx and never 2xx for a lost action.
 * - Rollup tables are range-partitioned by time (pg-schema.ts PARTITION_SPAN), partitions made
 *   ahead of need and on demand; retention drops whole partitions and trims the one it cuts.
 */
import { Incident as IncidentSchema, type Incident, type IncidentListQuery } from '@downstream/shared';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DAY, FLUSH_INTERVAL_MS, isoMs, MAINTAIN_INTERVAL_MS, META_SIMULATED } from './constants.js';
import { incidentKeys, keysSignature, splitCustomerEndpoint } from './incident-keys.js';
import { checkoutClient, newPgPool } from './pg-pool.js';
import { migratePg, PARTITION_SPAN, partitionName, partitionOf, partitionStart } from './pg-schema.js';
import { pendingOf, RollupBuffer, sumPerTable, type PendingRollup } from './rollup-buffer.js';
import { pgRollupReader } from './pg-rollups.js';
import { ROLLUP_TABLES, rollupQueries, type RollupTable } from './rollup-queries.js';
import { minuteKeptFrom, retentionCuts } from './retention.js';
import { classify, StoreUnavailableError } from './errors.js';
import { storeMetrics } from './store-metrics.js';
import { parseSpan } from './sqlite-store.js';
import {
  auditEntryFromRow,
  type AuditEntry,
  type AuditRecord,
  type ChangedIncident,
  type IncidentKeyCount,
  type SimulatedHistoryImport,
  type Store,
} from './types.js';

export interface PgStoreOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  retentionDays: number;
  logger: Logger;
  now?: () => number;
  /** Set false to drive flush()/maintain() by hand (tests). */
  timers?: boolean;
  registry?: Registry;
  /** Pool size (default 10). */
  maxConnections?: number;
}

export interface PgStore extends Store {
  importHistory(history: SimulatedHistoryImport): Promise<void>;
  simulatedHistory(): Promise<{ from: number; to: number } | undefined>;
  isEmpty(): Promise<boolean>;
  readonly pool: pg.Pool;
}

/** Runs tasks one after another: an incident's versions are committed in the order they were made. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

interface Written {
  status: Incident['status'];
  notes: number;
  keysSig: string;
}

const LOCK_MAINTAIN = 0x646f776d;
const LOCK_PARTITIONS = 0x646f7770;

export { StoreUnavailableError };

export async function openPgStore(opts: PgStoreOptions): Promise<PgStore> {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ module: 'store', store: 'postgres' });
  const retentionMs = opts.retentionDays * DAY;
  const pool = newPgPool({ url: opts.url, max: opts.maxConnections ?? 10, name: 'downstream store', log });

  const checkout = (): Promise<pg.PoolClient> => checkoutClient(pool, log);

  const client = await checkout().catch((err: unknown) => {
    void pool.end();
    throw new StoreUnavailableError(`connecting to PostgreSQL at ${redact(opts.url)}`, err);
  });
  try {
    await migratePg(client);
  } finally {
    client.release();
  }

  const pendingIncidents = new Map<string, Incident>();
  const written = new Map<string, Written>();
  const rollups = new RollupBuffer();
  const metrics = storeMetrics(opts.registry, () => ({ rollups: rollups.size, incidents: pendingIncidents.size }));
  const writes = new Serial();
  /** Partitions known to exist, per table (by start). */
  const partitions = new Map<RollupTable, Set<number>>(ROLLUP_TABLES.map((t) => [t, new Set<number>()]));

  const tx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await checkout();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  };

  /** Makes the partitions rows at these times go to (each table), if not there yet. */
  const ensurePartitions = async (table: RollupTable, times: Iterable<number>): Promise<void> => {
    const known = partitions.get(table)!;
    const missing = new Set<number>();
    for (const t of times) {
      const s = partitionStart(table, t);
      if (!known.has(s)) missing.add(s);
    }
    if (missing.size === 0) return;
    await tx(async (c) => {
      // Serialised across processes: two CREATE ... PARTITION OF for one range would collide.
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PARTITIONS]);
      for (const s of missing) {
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(table, s)} PARTITION OF ${table} FOR VALUES FROM (${s}) TO (${s + PARTITION_SPAN[table]})`,
        );
      }
    });
    for (const s of missing) known.add(s);
  };

  const loadPartitions = async (): Promise<void> => {
    const r = await pool.query<{ parent: string; child: string }>(
      `SELECT p.relname AS parent, c.relname AS child FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = ANY($1) AND pg_table_is_visible(c.oid)`,
      [ROLLUP_TABLES as unknown as string[]],
    );
    for (const t of ROLLUP_TABLES) partitions.get(t)!.clear();
    for (const row of r.rows) {
      const t = row.parent as RollupTable;
      const s = partitionOf(t, row.child);
      if (s !== undefined) partitions.get(t)!.add(s);
    }
  };

  /** Partitions for now and the next span of each table: a flush at midnight finds its own. */
  const createAhead = async (nowMs: number): Promise<void> => {
    for (const t of ROLLUP_TABLES) await ensurePartitions(t, [nowMs, nowMs + PARTITION_SPAN[t]]);
  };

  /** Writes incidents in one statement each for rows, old keys and new keys; stamps from change_clock. */
  const writeIncidents = async (c: pg.PoolClient, incs: Incident[]): Promise<void> => {
    if (incs.length === 0) return;
    const n = incs.length;
    const { rows } = await c.query<{ base: number }>(
      `UPDATE change_clock SET v = GREATEST(v + 1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) + $1 - 1
       WHERE id = 1 RETURNING v - $1 + 1 AS base`,
      [n],
    );
    const base = rows[0].base;
    const col = <T>(f: (i: Incident, k: number) => T) => incs.map(f);
    await c.query(
      `INSERT INTO incidents (id, kind, direction, status, severity, first_seen, last_seen, target_ip, json, simulated, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                            $8::text[], $9::text[], $10::boolean[], $11::bigint[])
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, direction = excluded.direction, status = excluded.status,
         severity = excluded.severity, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
         target_ip = excluded.target_ip, json = excluded.json, updated_at = excluded.updated_at`,
      [
        col((i) => i.id),
        col((i) => i.kind),
        col((i) => i.direction),
        col((i) => i.status),
        col((i) => i.severity),
        col((i) => isoMs(i.firstSeen)),
        col((i) => isoMs(i.lastSeen)),
        col((i) => i.target?.ip ?? null),
        col((i) => JSON.stringify(i)),
        col((i) => i.simulated === true),
        col((_i, k) => base + k),
      ],
    );
    const rekey: string[] = [];
    const dims: string[] = [];
    const keys: string[] = [];
    const ids: string[] = [];
    for (const inc of incs) {
      const ks = incidentKeys(inc);
      const sig = keysSignature(ks);
      if (written.get(inc.id)?.keysSig === sig) continue;
      rekey.push(inc.id);
      for (const [d, k] of ks) {
        dims.push(d);
        keys.push(k);
        ids.push(inc.id);
      }
    }
    if (rekey.length > 0) {
      await c.query('DELETE FROM incident_keys WHERE incident_id = ANY($1::text[])', [rekey]);
      await c.query(
        `INSERT INTO incident_keys (dim, key, incident_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT DO NOTHING`,
        [dims, keys, ids],
      );
    }
  };
  /** After the commit: what this process now knows is in the database. */
  const noteWritten = (incs: Incident[]): void => {
    for (const inc of incs) {
      written.set(inc.id, { status: inc.status, notes: inc.notes.length, keysSig: keysSignature(incidentKeys(inc)) });
    }
  };

  const writeRollups = async (
    c: pg.PoolClient,
    byTable: Map<RollupTable, Map<string, PendingRollup>>,
    simulated = false,
  ): Promise<void> => {
    for (const [table, m] of byTable) {
      if (m.size === 0) continue;
      const rows = [...m.values()];
      await c.query(
        `INSERT INTO ${table} (dim, key, t, kind, packets, bytes, flows, simulated)
         SELECT d, k, t, kd, p, b, f, $8 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],
                                                     $5::float8[], $6::float8[], $7::float8[]) AS u(d, k, t, kd, p, b, f)
         ON CONFLICT (dim, key, t, kind) DO UPDATE SET packets = ${table}.packets + excluded.packets,
           bytes = ${table}.bytes + excluded.bytes, flows = ${table}.flows + excluded.flows
           ${simulated ? ', simulated = true' : ''}`,
        [
          rows.map((r) => r.dim),
          rows.map((r) => r.key),
          rows.map((r) => r.t),
          rows.map((r) => r.kind),
          rows.map((r) => r.packets),
          rows.map((r) => r.bytes),
          rows.map((r) => r.flows),
          simulated,
        ],
      );
    }
  };

  let closed = false;
  /** The timer's flush in flight: a slow or unreachable database does not pile them up. */
  let timerFlush: Promise<void> | undefined;
  /** One batch: queued incident refreshes and rollups. On failure they stay queued. */
  const flushBatch = (): Promise<void> =>
    writes.run(async () => {
      if (pendingIncidents.size === 0 && rollups.size === 0) return;
      const incs = [...pendingIncidents.values()];
      const rows = rollups.take();
      const end = metrics.flushSeconds.startTimer();
      try {
        const byTable = sumPerTable(rows);
        for (const [t, m] of byTable)
          await ensurePartitions(
            t,
            [...m.values()].map((r) => r.t),
          );
        await tx(async (c) => {
          await writeIncidents(c, incs);
          await writeRollups(c, byTable);
        });
      } catch (e) {
        rollups.restore(rows);
        metrics.flushErrors.inc();
        log.error(
          { err: e, incidents: incs.length, rollups: rows.length },
          'store flush failed (kept, retried next flush)',
        );
        throw classify('writing queued incidents and rollups', e);
      } finally {
        end();
      }
      noteWritten(incs);
      metrics.rollupRows.inc(rows.length);
      // A newer version queued while this one was written stays for the next flush.
      for (const inc of incs) if (pendingIncidents.get(inc.id) === inc) pendingIncidents.delete(inc.id);
    });
  // Each call writes everything recorded before it (it runs after the writes queued before it).
  const flush = (): Promise<void> => flushBatch();
  /** Reads see what was recorded; an unreachable database fails the read anyway. */
  const flushForRead = (): Promise<void> => flush().catch(() => undefined);

  const maintain = async (nowMs = now()): Promise<void> => {
    await flushForRead();
    const t0 = performance.now();
    await createAhead(nowMs);
    const cuts = retentionCuts(nowMs, retentionMs);
    const cutOf: Record<RollupTable, number> = {
      rollup_minute: cuts.minute,
      rollup_hour: cuts.hour,
      rollup_day: cuts.day,
    };
    const r = await tx(async (c) => {
      // One process at a time does it; the others have nothing left to do.
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCK_MAINTAIN]);
      if (!rows[0].ok) return undefined;
      let folded = 0;
      let expired = 0;
      const dropped: string[] = [];
      for (const table of ROLLUP_TABLES) {
        const cut = cutOf[table];
        const parts = await c.query<{ child: string }>(
          `SELECT c.relname AS child FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1 AND pg_table_is_visible(c.oid)`,
          [table],
        );
        for (const { child } of parts.rows) {
          const s = partitionOf(table, child);
          if (s === undefined || s + PARTITION_SPAN[table] > cut) continue;
          const n = await c.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${child}`);
          if (table === 'rollup_minute') folded += n.rows[0].n;
          else expired += n.rows[0].n;
          await c.query(`DROP TABLE ${child}`);
          dropped.push(child);
          partitions.get(table)!.delete(s);
        }
        // The partition the cut falls in keeps its newer rows.
        const del = await c.query(`DELETE FROM ${table} WHERE t < $1`, [cut]);
        if (table === 'rollup_minute') folded += del.rowCount ?? 0;
        else expired += del.rowCount ?? 0;
      }
      await c.query(
        `DELETE FROM incident_keys WHERE incident_id IN (SELECT id FROM incidents WHERE last_seen < $1 AND status = 'resolved')`,
        [cuts.incidents],
      );
      const gone = await c.query<{ id: string }>(
        "DELETE FROM incidents WHERE last_seen < $1 AND status = 'resolved' RETURNING id",
        [cuts.incidents],
      );
      for (const { id } of gone.rows) written.delete(id);
      const audit = await c.query('DELETE FROM audit WHERE at_ms < $1', [cuts.incidents]);
      return { folded, expired, incidents: gone.rowCount ?? 0, audit: audit.rowCount ?? 0, partitions: dropped.length };
    });
    if (!r) return;
    for (const [what, n] of Object.entries(r)) if (what !== 'partitions' && n > 0) metrics.deleted.inc({ what }, n);
    log.debug({ ...r, ms: Math.round(performance.now() - t0) }, 'store maintenance');
  };

  const parseIncident = (json: string): Incident => IncidentSchema.parse(JSON.parse(json));
  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> => {
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (e) {
      throw classify('reading', e);
    }
  };

  const queries = rollupQueries(pgRollupReader(pool), now);

  const store: PgStore = {
    pool,

    async upsertIncident(inc: Incident): Promise<void> {
      const prev = written.get(inc.id);
      const operatorChange = prev
        ? prev.status !== inc.status || prev.notes !== inc.notes.length
        : inc.status !== 'open' || inc.notes.length > 0;
      if (!operatorChange) {
        pendingIncidents.set(inc.id, inc);
        return;
      }
      // Committed before this resolves, after any earlier version of it still being written.
      pendingIncidents.delete(inc.id);
      await writes.run(async () => {
        try {
          await tx((c) => writeIncidents(c, [inc]));
        } catch (e) {
          metrics.writeErrors.inc({ what: 'incident' });
          // Still written by a later flush, unless a newer version is queued by then.
          if (!pendingIncidents.has(inc.id)) pendingIncidents.set(inc.id, inc);
          throw classify(`writing incident ${inc.id}`, e);
        }
        noteWritten([inc]);
      });
    },

    async getIncident(id: string): Promise<Incident | undefined> {
      const p = pendingIncidents.get(id);
      if (p) return p;
      const rows = await q<{ json: string }>('SELECT json FROM incidents WHERE id = $1', [id]);
      return rows[0] ? parseIncident(rows[0].json) : undefined;
    },

    async listIncidents(x: IncidentListQuery): Promise<Incident[]> {
      await flushForRead();
      const params: unknown[] = [];
      const where: string[] = [];
      if (x.status) where.push(`status = $${params.push(x.status)}`);
      if (x.kind) where.push(`kind = $${params.push(x.kind)}`);
      if (x.direction) where.push(`direction = $${params.push(x.direction)}`);
      if (x.since) where.push(`last_seen >= $${params.push(isoMs(x.since))}`);
      const rows = await q<{ json: string }>(
        `SELECT json FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY last_seen DESC LIMIT $${params.push(x.limit)}`,
        params,
      );
      return rows.map((r) => parseIncident(r.json));
    },

    async incidentsChangedSince(sinceMs: number, limit = 500): Promise<ChangedIncident[]> {
      await flushForRead();
      const rows = await q<{ json: string; updated_at: number }>(
        'SELECT json, updated_at FROM incidents WHERE updated_at > $1 ORDER BY updated_at LIMIT $2',
        [sinceMs, limit],
      );
      return rows.map((r) => ({ ...parseIncident(r.json), changedAt: r.updated_at }));
    },

    async appendAudit(e: AuditRecord): Promise<void> {
      try {
        await pool.query(
          'INSERT INTO audit (at, at_ms, by, action, incident_id, detail) VALUES ($1, $2, $3, $4, $5, $6)',
          [e.at, isoMs(e.at) || now(), e.by, e.action, e.incidentId ?? null, e.detail ?? null],
        );
      } catch (err) {
        metrics.writeErrors.inc({ what: 'audit' });
        throw classify('writing an audit entry', err);
      }
    },

    async listAudit(incidentId: string): Promise<AuditEntry[]> {
      const rows = await q<{
        at: string;
        by: string;
        action: string;
        incident_id: string | null;
        detail: string | null;
      }>('SELECT at, by, action, incident_id, detail FROM audit WHERE incident_id = $1 ORDER BY seq', [incidentId]);
      return rows.map(auditEntryFromRow);
    },

    recordAbuse(rows) {
      rollups.add(rows);
    },

    async abuseSeries(x) {
      await flushForRead();
      return queries.abuseSeries(x);
    },
    async abuseTotals(x) {
      await flushForRead();
      return queries.abuseTotals(x);
    },
    async abuseRows(x) {
      await flushForRead();
      return queries.abuseRows(x);
    },

    async incidentsFor(dimension, key, limit = 1000): Promise<Incident[]> {
      await flushForRead();
      const rows = await q<{ json: string }>(
        `SELECT i.json FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
         WHERE k.dim = $1 AND k.key = $2 ORDER BY i.last_seen DESC LIMIT $3`,
        [dimension, key, limit],
      );
      return rows.map((r) => parseIncident(r.json));
    },

    async incidentCustomerEndpoints(since = 0) {
      await flushForRead();
      const rows = await q<{ key: string }>(
        `SELECT DISTINCT k.key AS key FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
         WHERE k.dim = 'customer-endpoint' AND i.last_seen >= $1`,
        [since],
      );
      return rows.map(({ key }) => splitCustomerEndpoint(key));
    },

    async incidentCounts(dimension, since = 0): Promise<IncidentKeyCount[]> {
      await flushForRead();
      return q<IncidentKeyCount>(
        `SELECT k.key AS key, i.kind AS kind, i.status AS status, COUNT(*) AS count, MAX(i.last_seen) AS "lastSeen"
         FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
         WHERE k.dim = $1 AND i.last_seen >= $2 GROUP BY k.key, i.kind, i.status`,
        [dimension, since],
      );
    },

    async importHistory(h: SimulatedHistoryImport): Promise<void> {
      await flushForRead();
      const byTable = sumPerTable(h.rollups.map(pendingOf), minuteKeptFrom(now()));
      for (const [t, m] of byTable)
        await ensurePartitions(
          t,
          [...m.values()].map((r) => r.t),
        );
      const incs = h.incidents.map((inc) => ({ ...inc, simulated: true }));
      await writes.run(() =>
        tx(async (c) => {
          await writeRollups(c, byTable, true);
          await writeIncidents(c, incs);
          await c.query(
            'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
            [META_SIMULATED, JSON.stringify({ from: h.from, to: h.to })],
          );
        }),
      );
      noteWritten(incs);
    },

    async simulatedHistory() {
      const rows = await q<{ value: string }>('SELECT value FROM meta WHERE key = $1', [META_SIMULATED]);
      return rows[0] ? parseSpan(rows[0].value) : undefined;
    },

    async isEmpty(): Promise<boolean> {
      await flushForRead();
      const rows = await q<{ any: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM incidents) OR EXISTS (SELECT 1 FROM rollup_hour)
                OR EXISTS (SELECT 1 FROM meta WHERE key = $1) AS any`,
        [META_SIMULATED],
      );
      return !rows[0].any;
    },

    maintain,
    flush,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (flushTimer) clearInterval(flushTimer);
      if (maintainTimer) clearInterval(maintainTimer);
      await flush().catch((err: unknown) => log.error({ err }, 'final store flush failed: queued rows lost'));
      await pool.end();
    },
  };

  await loadPartitions();
  await createAhead(now());
  // What is in the database, so a restart does not rewrite every open incident's keys.
  for (const r of await q<{ id: string; json: string }>("SELECT id, json FROM incidents WHERE status != 'resolved'")) {
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
    // Errors are counted and logged in flushBatch; the rows wait for the next tick.
    flushTimer = setInterval(() => {
      timerFlush ??= flushBatch()
        .catch(() => undefined)
        .finally(() => (timerFlush = undefined));
    }, FLUSH_INTERVAL_MS);
    flushTimer.unref();
    await maintain().catch((err: unknown) => log.error({ err }, 'store maintenance failed'));
    maintainTimer = setInterval(() => {
      maintain().catch((err: unknown) => log.error({ err }, 'store maintenance failed'));
    }, MAINTAIN_INTERVAL_MS);
    maintainTimer.unref();
  }
  log.info({ url: redact(opts.url), retentionDays: opts.retentionDays }, 'store open');
  return store;
}

/** The URL without its password, for logs and errors. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
