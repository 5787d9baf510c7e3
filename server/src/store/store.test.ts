import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbuseRollupRow } from '../context.js';
import Database from 'better-sqlite3';
import { DAY, DB_FILE, HOUR, MINUTE, openStore, type SqliteStore } from './index.js';
import { makeIncident } from '../testing/make-incident.js';

const logger = pino({ level: 'silent' });
const open: SqliteStore[] = [];
const dirs: string[] = [];
function mem(now?: () => number): SqliteStore {
  const s = openStore({ path: ':memory:', retentionDays: 90, logger, timers: false, now });
  open.push(s);
  return s;
}
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ds-store-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const row = (minute: number, key: string, bytes: number, over: Partial<AbuseRollupRow> = {}): AbuseRollupRow => ({
  minute,
  kind: 'scanner',
  dimension: 'asn',
  key,
  packets: bytes / 100,
  bytes,
  flows: 1,
  ...over,
});

describe('incidents', () => {
  it('refreshes are written behind (latest wins); an operator change is on disk at once', async () => {
    const s = mem();
    const base = makeIncident('x');
    await s.upsertIncident(base);
    const onDisk = () =>
      s.db.prepare('SELECT json FROM incidents WHERE id = ?').get('x') as { json: string } | undefined;
    const count = () => onDisk()!.json;
    expect(onDisk()).toBeUndefined(); // a new incident waits for the flush…
    expect(await s.getIncident('x')).toEqual(base); // …but is readable meanwhile
    await s.flush();
    expect(JSON.parse(count())).toEqual(base);
    await s.upsertIncident({ ...base, peak: { pps: 1, bps: 2 } });
    await s.upsertIncident({ ...base, peak: { pps: 3, bps: 4 } });
    expect(JSON.parse(count()).peak).toEqual(base.peak); // not yet written
    expect((await s.getIncident('x'))?.peak).toEqual({ pps: 3, bps: 4 }); // but readable
    await s.upsertIncident({ ...base, peak: { pps: 3, bps: 4 }, status: 'acknowledged' });
    expect(JSON.parse(count()).status).toBe('acknowledged');
    await s.upsertIncident({
      ...base,
      status: 'acknowledged',
      notes: [{ at: base.lastSeen, by: 'ops', text: 'calling them' }],
    });
    expect(JSON.parse(count()).notes).toHaveLength(1);
    await s.upsertIncident({
      ...base,
      status: 'acknowledged',
      notes: [{ at: base.lastSeen, by: 'ops', text: 'calling them' }],
      peak: { pps: 9, bps: 9 },
    });
    await s.flush();
    expect(JSON.parse(count()).peak).toEqual({ pps: 9, bps: 9 });
    // Created already acknowledged (or with a note): written at once.
    await s.upsertIncident(makeIncident('y', { status: 'acknowledged' }));
    expect(s.db.prepare('SELECT status FROM incidents WHERE id = ?').get('y')).toEqual({ status: 'acknowledged' });
  });
});

describe('data dirs from older builds', () => {
  it('gain the change feed column on open; their incidents count as changed when last seen', async () => {
    const dir = tmp();
    // The incidents table as builds before the change feed made it.
    const old = new Database(join(dir, DB_FILE));
    old.exec(`CREATE TABLE incidents (id TEXT PRIMARY KEY, kind TEXT NOT NULL, direction TEXT NOT NULL, status TEXT NOT NULL,
      severity TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, target_ip TEXT, json TEXT NOT NULL,
      simulated INTEGER NOT NULL DEFAULT 0)`);
    const inc = makeIncident('legacy', { lastSeen: '2026-11-20T08:00:00.000Z' });
    old
      .prepare('INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)')
      .run(
        inc.id,
        inc.kind,
        inc.direction,
        inc.status,
        inc.severity,
        0,
        Date.parse(inc.lastSeen),
        null,
        JSON.stringify(inc),
      );
    old.close();
    const s = openStore({ path: dir, retentionDays: 90, logger, timers: false });
    open.push(s);
    const feed = await s.incidentsChangedSince(0);
    expect(feed.map((i) => [i.id, i.changedAt])).toEqual([['legacy', Date.parse(inc.lastSeen)]]);
    // New writes stamp after everything already there.
    await s.upsertIncident(makeIncident('new'));
    expect((await s.incidentsChangedSince(Date.parse(inc.lastSeen))).map((i) => i.id)).toEqual(['new']);
  });
});

describe('metrics', () => {
  it('counts flushed rollup rows and reports what is pending', async () => {
    const registry = new Registry();
    const s = openStore({ path: ':memory:', retentionDays: 90, logger, timers: false, registry });
    open.push(s);
    s.recordAbuse([row(0, 'a', 1), row(0, 'a', 1), row(0, 'b', 1)]);
    expect(await registry.getSingleMetricAsString('downstream_store_pending')).toContain(
      'downstream_store_pending{what="rollups"} 2',
    );
    await s.flush();
    expect(await registry.getSingleMetricAsString('downstream_store_rollup_rows_total')).toContain(
      'downstream_store_rollup_rows_total 2',
    );
    expect(await registry.getSingleMetricAsString('downstream_store_pending')).toContain(
      'downstream_store_pending{what="rollups"} 0',
    );
  });
});

describe('rollups', () => {
  it('retention and hourly folding on a store seeded with 30 days of data', async () => {
    const now = Date.UTC(2026, 10, 24, 12, 0, 0);
    const start = now - 30 * DAY;
    const dir = tmp();
    const s = openStore({ path: dir, retentionDays: 20, logger, timers: false, now: () => now });
    open.push(s);
    // Every 10 minutes for 30 days, two ASNs and an endpoint: 12,960 minute rows.
    const expectedHour = new Map<number, number>();
    let batch: AbuseRollupRow[] = [];
    for (let t = start; t < now; t += 10 * MINUTE) {
      batch.push(
        row(t, '174', 1000),
        row(t, '3356', 10, { kind: 'amplification' }),
        row(t, '198.51.100.10', 5, { dimension: 'endpoint' }),
      );
      const h = Math.floor(t / HOUR) * HOUR;
      expectedHour.set(h, (expectedHour.get(h) ?? 0) + 1000);
      if (batch.length > 3000) {
        s.recordAbuse(batch);
        await s.flush();
        batch = [];
      }
    }
    s.recordAbuse(batch);
    // Incidents: resolved long ago (expires), open long ago (kept: still active), resolved recently.
    await s.upsertIncident(
      makeIncident('old', { status: 'resolved', lastSeen: new Date(now - 25 * DAY).toISOString() }),
    );
    await s.upsertIncident(makeIncident('old-open', { lastSeen: new Date(now - 25 * DAY).toISOString() }));
    await s.upsertIncident(makeIncident('recent', { status: 'resolved', lastSeen: new Date(now - DAY).toISOString() }));
    await s.appendAudit({ at: new Date(now - 25 * DAY).toISOString(), by: 'ops', action: 'ack', incidentId: 'old' });
    await s.appendAudit({ at: new Date(now - DAY).toISOString(), by: 'ops', action: 'ack', incidentId: 'recent' });
    await s.flush();
    const minuteRowsBefore = (s.db.prepare('SELECT COUNT(*) AS n FROM rollup_minute').get() as { n: number }).n;
    expect(minuteRowsBefore).toBe(30 * 144 * 3);

    await s.maintain(now);

    const q = <T>(sql: string, ...p: unknown[]): T => s.db.prepare(sql).get(...p) as T;
    const cut7 = now - 7 * DAY;
    const cut20 = now - 20 * DAY;
    // Minute rows: only the last 7 days remain.
    expect(q<{ min: number }>('SELECT MIN(t) AS min FROM rollup_minute').min).toBeGreaterThanOrEqual(cut7);
    expect(q<{ n: number }>('SELECT COUNT(*) AS n FROM rollup_minute').n).toBe(7 * 144 * 3);
    // Hour rows: 20 days of retention, each the sum of its six 10-minute rows.
    expect(q<{ min: number }>('SELECT MIN(t) AS min FROM rollup_hour').min).toBe(cut20);
    const hours = s.db
      .prepare("SELECT t, bytes FROM rollup_hour WHERE dim = 'asn' AND key = '174' ORDER BY t")
      .all() as { t: number; bytes: number }[];
    expect(hours).toHaveLength(20 * 24);
    for (const h of hours) expect(h.bytes).toBe(expectedHour.get(h.t));
    expect(q<{ min: number }>('SELECT MIN(t) AS min FROM rollup_day').min).toBeGreaterThanOrEqual(cut20 - DAY);
    // Series across the fold: hourly data for days 8..20 ago, nothing before retention.
    const r = await s.abuseSeries({ dimension: 'asn', from: now - 30 * DAY, to: now, stepMs: DAY, keys: ['174'] });
    const days = r.series[0].bytesSeries;
    expect(days).toHaveLength(31); // 30 days starting at noon span 31 UTC days
    expect(days.slice(0, 10)).toEqual(new Array(10).fill(0));
    expect(days.slice(10, 30)).toEqual(new Array(20).fill(144_000));
    expect(days[30]).toBe(72_000); // today until noon
    // Raw rows for an endpoint: minutes for 7 days, hours before.
    const eps = await s.abuseRows({
      dimension: 'endpoint',
      key: '198.51.100.10',
      from: now - 30 * DAY,
      to: now,
      limit: 100_000,
    });
    expect(eps.filter((e) => e.resolution === 'minute')).toHaveLength(7 * 144);
    expect(
      eps.filter((e) => e.resolution === 'hour').every((e) => e.minute < cut7 && e.minute >= cut20 && e.bytes === 30),
    ).toBe(true);
    // Incidents and audit past retention go; an incident still open stays.
    expect(await s.getIncident('old')).toBeUndefined();
    expect(await s.getIncident('old-open')).toBeDefined();
    expect(await s.getIncident('recent')).toBeDefined();
    expect((await s.incidentsFor('endpoint', '198.51.100.10')).map((i) => i.id).sort()).toEqual(['old-open', 'recent']);
    expect(await s.listAudit('old')).toEqual([]);
    expect(await s.listAudit('recent')).toHaveLength(1);
    await s.close();

    // And it all persisted.
    const again = openStore({ path: dir, retentionDays: 20, logger, timers: false, now: () => now });
    open.push(again);
    expect(
      (await again.abuseSeries({ dimension: 'asn', from: now - 2 * DAY, to: now, stepMs: DAY, keys: ['174'] }))
        .series[0].bytesSeries,
    ).toEqual([144_000, 144_000, 72_000]);
  });
});

/**
 * Runs `body` in a child process that has opened `store` on `dir` (and never closes it), waits
 * until `ready` accepts a chunk of its stdout, then SIGKILLs it. Fails with `timeoutMessage`
 * (given the child's stderr) when that takes over `timeoutMs`, or when the child exits first.
 */
async function runThenKill(
  dir: string,
  body: string,
  args: string[],
  ready: (stdout: string) => boolean,
  timeoutMs: number,
  timeoutMessage: (stderr: string) => string,
): Promise<void> {
  const require = createRequire(import.meta.url);
  const child = join(dir, 'child.mjs');
  const storeModule = fileURLToPath(new URL('./index.ts', import.meta.url));
  writeFileSync(
    child,
    `
      const { pino } = await import(${JSON.stringify(pathToFileURL(require.resolve('pino')).href)});
      const { openStore } = await import(${JSON.stringify(storeModule)});
      const store = openStore({ path: ${JSON.stringify(dir)}, retentionDays: 90, logger: pino({ level: 'silent' }) });
      ${body}
      `,
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(timeoutMessage(err))), timeoutMs);
    proc.stdout.on('data', (d: Buffer) => {
      if (ready(d.toString())) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
}

describe('durability', () => {
  it('after SIGKILL, the audit entry, the acknowledged incident and rollups older than a flush are there', async () => {
    const dir = tmp();
    // The child writes, says so, then idles until killed; it never closes the store.
    await runThenKill(
      dir,
      `
      const now = Date.now();
      const inc = JSON.parse(process.argv[2]);
      await store.upsertIncident(inc);
      await store.upsertIncident({ ...inc, status: 'acknowledged' });
      await store.appendAudit({ at: new Date().toISOString(), by: 'ops', action: 'ack', incidentId: inc.id, detail: 'calling the customer' });
      store.recordAbuse([{ minute: now, kind: 'scanner', dimension: 'endpoint', key: '198.51.100.10', packets: 5, bytes: 500, flows: 2 }]);
      setTimeout(() => process.stdout.write('written\\n'), 1500);
      setInterval(() => {}, 1000);
      `,
      [JSON.stringify(makeIncident('dur-1'))],
      (out) => out.includes('written'),
      20_000,
      (err) => `child never wrote: ${err}`,
    );

    const s = openStore({ path: dir, retentionDays: 90, logger, timers: false });
    open.push(s);
    expect((await s.getIncident('dur-1'))?.status).toBe('acknowledged');
    expect(await s.listAudit('dur-1')).toEqual([
      expect.objectContaining({ by: 'ops', action: 'ack', detail: 'calling the customer' }),
    ]);
    const rows = await s.abuseRows({
      dimension: 'endpoint',
      key: '198.51.100.10',
      from: Date.now() - HOUR,
      to: Date.now() + HOUR,
    });
    expect(rows.map((r) => [r.kind, r.bytes, r.flows])).toEqual([['scanner', 500, 2]]);
  });
});

describe('crash loss bound', () => {
  it('a SIGKILL mid-stream loses at most about a second of rollups, and nothing before that', async () => {
    const dir = tmp();
    let last = -1;
    // One rollup row every 50 ms, each announced on stdout after it was handed to the store.
    await runThenKill(
      dir,
      `
      const minute = Math.floor(Date.now() / 60000) * 60000;
      let n = 0;
      setInterval(() => {
        store.recordAbuse([{ minute, kind: 'scanner', dimension: 'endpoint', key: 'seq-' + n, packets: 1, bytes: 1, flows: 1 }]);
        process.stdout.write(n + '\\n');
        n++;
      }, 50);
      `,
      [],
      (out) => {
        for (const l of out.split('\n')) if (l) last = Number(l);
        return last >= 50;
      },
      30_000,
      (err) => `child stalled at ${last}: ${err}`,
    );

    const s = openStore({ path: dir, retentionDays: 90, logger, timers: false });
    open.push(s);
    const seqs = (await s.abuseTotals({ dimension: 'endpoint', from: Date.now() - HOUR, to: Date.now() + HOUR }))
      .map((t) => Number(t.key.slice(4)))
      .sort((a, b) => a - b);
    // What survives is a prefix of what was recorded (no holes)…
    expect(seqs).toEqual(seqs.map((_, i) => i));
    // …missing at most the last flush interval's worth (20 rows at 50 ms) plus scheduling slack.
    expect(seqs.length).toBeGreaterThanOrEqual(last + 1 - 30);
  });
});
