/**
 * What only the PostgreSQL store has (the shared behaviour is in store-conformance.test.ts):
 * time partitions, several processes on one database, and an outage of the database.
 */
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeIncident } from '../testing/make-incident.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres, startPostgres, type PgServer } from '../testing/postgres.js';
import { DAY, HOUR } from './constants.js';
import { StoreUnavailableError } from './errors.js';
import { PARTITION_SPAN } from './pg-schema.js';
import { openPgStore, type PgStore, type PgStoreOptions } from './pg-store.js';
import type { AbuseRollupRow } from './types.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const bin = postgresBinDir();
if (!bin) console.warn(POSTGRES_MISSING);

const row = (minute: number, key: string, bytes: number): AbuseRollupRow => ({
  minute,
  kind: 'scanner',
  dimension: 'asn',
  key,
  packets: 1,
  bytes,
  flows: 1,
});

describe.skipIf(!bin)('PostgreSQL store', () => {
  let shared: PgServer | undefined;
  const opened: PgStore[] = [];
  const clients: pg.Client[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  });
  const db = async () => (shared ??= await sharedPostgres()).createDatabase('pgs');
  const open = async (url: string, o: Partial<PgStoreOptions> = {}) => {
    const s = await openPgStore({ url, retentionDays: 90, logger, timers: false, ...o });
    opened.push(s);
    return s;
  };
  const sql = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    return c;
  };
  const partitionsOf = async (c: pg.Client, table: string) =>
    (
      await c.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1 ORDER BY 1`,
        [table],
      )
    ).rows.map((r) => Number(r.name.split('_p')[1]));

  it('range-partitions the rollup tables by time, ahead of need and on demand; retention drops whole partitions', async () => {
    const url = await db();
    const now = Date.UTC(2026, 10, 24, 12, 0, 0);
    let clock = now;
    const s = await open(url, { now: () => clock, retentionDays: 20 });
    const c = await sql(url);
    const kinds = await c.query<{ relname: string; relkind: string }>(
      "SELECT relname, relkind FROM pg_class WHERE relname IN ('rollup_minute', 'rollup_hour', 'rollup_day') ORDER BY 1",
    );
    expect(kinds.rows.map((r) => r.relkind)).toEqual(['p', 'p', 'p']); // partitioned tables
    // Made ahead: the span holding now, and the next.
    const span = PARTITION_SPAN.rollup_minute;
    const today = Math.floor(now / span) * span;
    expect(await partitionsOf(c, 'rollup_minute')).toEqual([today, today + span]);
    // Rows 25 days back (a backfill, a late exporter) get their partitions when written.
    s.recordAbuse([row(now - 25 * DAY, '174', 10), row(now - 2 * HOUR, '174', 5)]);
    await s.flush();
    expect(await partitionsOf(c, 'rollup_minute')).toContain(Math.floor((now - 25 * DAY) / span) * span);
    const hourParts = await partitionsOf(c, 'rollup_hour');
    expect(hourParts).toContain(Math.floor((now - 25 * DAY) / PARTITION_SPAN.rollup_hour) * PARTITION_SPAN.rollup_hour);

    await s.maintain(now);
    // Minute partitions wholly older than 7 days and hour partitions wholly past the retention are gone.
    const minuteCut = Math.floor((now - 7 * DAY) / HOUR) * HOUR;
    for (const p of await partitionsOf(c, 'rollup_minute')) expect(p + span).toBeGreaterThan(minuteCut);
    for (const p of await partitionsOf(c, 'rollup_hour'))
      expect(p + PARTITION_SPAN.rollup_hour).toBeGreaterThan(now - 20 * DAY);
    expect((await s.abuseTotals({ dimension: 'asn', from: now - 30 * DAY, to: now })).map((t) => t.bytes)).toEqual([5]);

    // A month on, maintenance made the partitions of the new now as well.
    clock = now + 30 * DAY;
    await s.maintain(clock);
    const later = Math.floor(clock / span) * span;
    expect(await partitionsOf(c, 'rollup_minute')).toEqual([later, later + span]);
  });

  it('two processes on one database: each sees the other’s writes; change stamps are unique and committed in order', async () => {
    const url = await db();
    const [a, b] = await Promise.all([open(url), open(url)]); // both migrate at once
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const s = i % 2 === 0 ? a : b;
      writes.push(s.upsertIncident(makeIncident(`i${i}`, { status: i % 4 === 0 ? 'acknowledged' : 'open' })));
      if (i % 5 === 0) writes.push(s.flush());
    }
    await Promise.all(writes);
    await Promise.all([a.flush(), b.flush()]);
    const seen = await b.incidentsChangedSince(0, 1000);
    expect(seen.map((i) => i.id).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `i${i}`).sort());
    const stamps = seen.map((i) => i.changedAt);
    expect(new Set(stamps).size).toBe(40);
    expect([...stamps].sort((x, y) => x - y)).toEqual(stamps);
    // A poller that keeps its cursor misses nothing the other process writes later.
    const cursor = stamps[stamps.length - 1];
    await a.upsertIncident({ ...makeIncident('i1'), status: 'resolved' });
    expect((await b.incidentsChangedSince(cursor)).map((i) => [i.id, i.status])).toEqual([['i1', 'resolved']]);
    expect((await b.getIncident('i1'))?.status).toBe('resolved');
    await b.appendAudit({
      at: new Date().toISOString(),
      by: 'ops',
      action: 'note',
      incidentId: 'i1',
      detail: 'from b',
    });
    expect((await a.listAudit('i1')).map((e) => e.detail)).toEqual(['from b']);
  });

  it('rollups from several detect processes for the same minute and key add up, in every resolution', async () => {
    const url = await db();
    const t = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const [a, b] = await Promise.all([open(url, { now: () => t + 2 * HOUR }), open(url, { now: () => t + 2 * HOUR })]);
    a.recordAbuse([row(t, '174', 100), row(t + 60_000, '174', 5)]);
    b.recordAbuse([row(t, '174', 300)]);
    await Promise.all([a.flush(), b.flush()]);
    b.recordAbuse([row(t, '174', 1)]);
    await b.flush();
    const minutes = await a.abuseRows({ dimension: 'asn', key: '174', from: t - HOUR, to: t + HOUR });
    expect(minutes.map((r) => [r.minute - t, r.bytes, r.flows])).toEqual([
      [60_000, 5, 1],
      [0, 401, 3],
    ]);
    const total = await b.abuseTotals({ dimension: 'asn', from: t - DAY, to: t + HOUR });
    expect(total.find((x) => x.key === '174')?.bytes).toBe(406);
  });

  it('a connection cut while the store holds it in a transaction fails that flush, keeps its rows, and leaves nothing unhandled', async () => {
    const url = await db();
    const s = await open(url);
    await s.upsertIncident(makeIncident('t1'));
    await s.flush();
    // Hold the store's transaction on a lock, then end its backend: the pool has lent that
    // client out, so only the store's own listener stands between the 'error' and the process.
    const locker = await sql(url);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE');
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await s.upsertIncident({ ...makeIncident('t1'), peak: { pps: 7, bps: 7 } });
      const flushing = s.flush();
      const waiting = async () =>
        (
          await locker.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
          )
        ).rows[0]!.n;
      for (let k = 0; k < 100 && (await waiting()) === 0; k++) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).toBe(1);
      await locker.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      await expect(flushing).rejects.toBeInstanceOf(StoreUnavailableError);
      await locker.query('ROLLBACK');
      await s.flush(); // the kept refresh goes out on the next flush
      expect((await s.getIncident('t1'))?.peak.pps).toBe(7);
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('refuses a schema newer than this build, naming both versions', async () => {
    const url = await db();
    await (await open(url)).close();
    const c = await sql(url);
    await c.query("UPDATE schema_versions SET version = 99 WHERE component = 'store'");
    await expect(openPgStore({ url, retentionDays: 90, logger, timers: false })).rejects.toThrow(
      /store schema is version 99, newer than this build knows \(1\)/,
    );
  });

  it('says which server it could not reach (password not shown)', async () => {
    const err = await openPgStore({
      url: 'postgres://u:secret@127.0.0.1:1/x',
      retentionDays: 90,
      logger,
      timers: false,
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/connecting to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x/);
    expect((err as Error).message).not.toContain('secret');
  });

  describe('an outage of the database', () => {
    // A server of its own: stopping the shared one would fail the other files' queries.
    let own: PgServer;
    afterAll(async () => own?.destroy());

    it('keeps queued refreshes and rollups, counts the failed flushes, rejects audit writes, and writes it all once back', async () => {
      own = await startPostgres({ fsync: true });
      const url = await own.createDatabase('outage');
      const registry = new Registry();
      const s = await open(url, { registry });
      const now = Date.now();
      await s.upsertIncident(makeIncident('q1'));
      await s.flush();

      await own.stop('immediate');
      // Detection carries on: refreshes and rollups are queued, not refused.
      await s.upsertIncident({ ...makeIncident('q1'), peak: { pps: 42, bps: 42 } });
      await s.upsertIncident(makeIncident('q2'));
      s.recordAbuse([row(now, '174', 100)]);
      await expect(s.flush()).rejects.toBeInstanceOf(StoreUnavailableError);
      s.recordAbuse([row(now, '174', 1)]);
      await expect(s.flush()).rejects.toThrow(/store: writing queued incidents and rollups failed/);
      expect(await registry.getSingleMetricAsString('downstream_store_flush_errors_total')).toContain(
        'downstream_store_flush_errors_total 2',
      );
      // An operator action is refused, not silently dropped.
      await expect(
        s.appendAudit({ at: new Date().toISOString(), by: 'ops', action: 'ack', incidentId: 'q1' }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(
        s.upsertIncident({ ...makeIncident('q1'), peak: { pps: 42, bps: 42 }, status: 'acknowledged' }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(await registry.getSingleMetricAsString('downstream_store_write_errors_total')).toMatch(
        /what="audit"} 1[\s\S]*what="incident"} 1|what="incident"} 1[\s\S]*what="audit"} 1/,
      );

      await own.start();
      // Same store object, no reopen: the pool reconnects.
      await s.flush();
      expect((await s.getIncident('q1'))?.status).toBe('acknowledged'); // the refused change was kept queued
      expect((await s.getIncident('q1'))?.peak).toEqual({ pps: 42, bps: 42 }); // the latest version
      expect((await s.getIncident('q2'))?.id).toBe('q2');
      expect((await s.abuseTotals({ dimension: 'asn', from: now - HOUR, to: now + HOUR })).map((t) => t.bytes)).toEqual(
        [101],
      );
      await s.appendAudit({ at: new Date().toISOString(), by: 'ops', action: 'ack', incidentId: 'q1' });
      expect(await s.listAudit('q1')).toHaveLength(1);
    });
  });
});
