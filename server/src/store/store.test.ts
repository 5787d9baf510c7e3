import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbuseRollupRow } from '../context.js';
import { DAY, HOUR, MINUTE, openStore, type SqliteStore } from './index.js';
import { makeIncident } from './test-helpers.js';

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
afterEach(() => {
  for (const s of open.splice(0)) s.close();
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
  it('round-trips, filters and orders newest first', () => {
    const s = mem();
    s.upsertIncident(makeIncident('a', { lastSeen: '2026-11-24T10:00:00.000Z', kind: 'scanner' }));
    s.upsertIncident(
      makeIncident('b', { lastSeen: '2026-11-24T11:00:00.000Z', direction: 'inbound', kind: 'ddos-fan-in' }),
    );
    s.upsertIncident(makeIncident('c', { lastSeen: '2026-11-24T12:00:00.000Z', status: 'resolved' }));
    expect(s.getIncident('a')).toEqual(makeIncident('a', { lastSeen: '2026-11-24T10:00:00.000Z', kind: 'scanner' }));
    expect(s.getIncident('zzz')).toBeUndefined();
    expect(s.listIncidents({ limit: 10 }).map((i) => i.id)).toEqual(['c', 'b', 'a']);
    expect(s.listIncidents({ limit: 2 }).map((i) => i.id)).toEqual(['c', 'b']);
    expect(s.listIncidents({ limit: 10, status: 'resolved' }).map((i) => i.id)).toEqual(['c']);
    expect(s.listIncidents({ limit: 10, kind: 'ddos-fan-in' }).map((i) => i.id)).toEqual(['b']);
    expect(s.listIncidents({ limit: 10, direction: 'outbound' }).map((i) => i.id)).toEqual(['c', 'a']);
    expect(s.listIncidents({ limit: 10, since: '2026-11-24T10:30:00Z' }).map((i) => i.id)).toEqual(['c', 'b']);
  });

  it('refreshes are written behind (latest wins); an operator change is on disk at once', () => {
    const s = mem();
    const base = makeIncident('x');
    s.upsertIncident(base);
    const onDisk = () =>
      s.db.prepare('SELECT json FROM incidents WHERE id = ?').get('x') as { json: string } | undefined;
    const count = () => onDisk()!.json;
    expect(onDisk()).toBeUndefined(); // a new incident waits for the flush…
    expect(s.getIncident('x')).toEqual(base); // …but is readable meanwhile
    s.flush();
    expect(JSON.parse(count())).toEqual(base);
    s.upsertIncident({ ...base, peak: { pps: 1, bps: 2 } });
    s.upsertIncident({ ...base, peak: { pps: 3, bps: 4 } });
    expect(JSON.parse(count()).peak).toEqual(base.peak); // not yet written
    expect(s.getIncident('x')?.peak).toEqual({ pps: 3, bps: 4 }); // but readable
    s.upsertIncident({ ...base, peak: { pps: 3, bps: 4 }, status: 'acknowledged' });
    expect(JSON.parse(count()).status).toBe('acknowledged');
    s.upsertIncident({
      ...base,
      status: 'acknowledged',
      notes: [{ at: base.lastSeen, by: 'ops', text: 'calling them' }],
    });
    expect(JSON.parse(count()).notes).toHaveLength(1);
    s.upsertIncident({
      ...base,
      status: 'acknowledged',
      notes: [{ at: base.lastSeen, by: 'ops', text: 'calling them' }],
      peak: { pps: 9, bps: 9 },
    });
    s.flush();
    expect(JSON.parse(count()).peak).toEqual({ pps: 9, bps: 9 });
    // Created already acknowledged (or with a note): written at once.
    s.upsertIncident(makeIncident('y', { status: 'acknowledged' }));
    expect(s.db.prepare('SELECT status FROM incidents WHERE id = ?').get('y')).toEqual({ status: 'acknowledged' });
  });

  it('finds incidents by endpoint (target or source), ASN, customer and upstream; re-indexes when sources change', () => {
    const s = mem();
    const inc = makeIncident('x');
    s.upsertIncident(inc);
    s.upsertIncident(
      makeIncident('y', {
        target: { ip: '198.51.100.10', customer: 'Residential A' },
        direction: 'inbound',
        kind: 'ddos-fan-in',
        sources: { distinct: 0, top: [], asns: [] },
        upstreams: [],
      }),
    );
    const ids = (dim: Parameters<SqliteStore['incidentsFor']>[0], key: string) =>
      s
        .incidentsFor(dim, key)
        .map((i) => i.id)
        .sort();
    expect(ids('endpoint', '198.51.100.10')).toEqual(['x', 'y']);
    expect(ids('endpoint', '203.0.113.9')).toEqual(['x']);
    expect(ids('asn', '64500')).toEqual(['x']);
    expect(ids('asn', '64496')).toEqual(['x']);
    expect(ids('customer', 'Residential A')).toEqual(['x', 'y']);
    expect(ids('upstream', 'Transit A')).toEqual(['x']);
    expect(ids('endpoint', '10.0.0.1')).toEqual([]);
    s.upsertIncident({ ...inc, sources: { ...inc.sources, top: [{ ...inc.sources.top[0], ip: '198.51.100.99' }] } });
    s.flush();
    expect(ids('endpoint', '198.51.100.11')).toEqual([]);
    expect(ids('endpoint', '198.51.100.99')).toEqual(['x']);
    const counts = s.incidentCounts('customer');
    expect(counts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'Residential A', kind: 'ddos-participation', status: 'open', count: 1 }),
        expect.objectContaining({ key: 'Residential A', kind: 'ddos-fan-in', status: 'open', count: 1 }),
      ]),
    );
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
    s.flush();
    expect(await registry.getSingleMetricAsString('downstream_store_rollup_rows_total')).toContain(
      'downstream_store_rollup_rows_total 2',
    );
    expect(await registry.getSingleMetricAsString('downstream_store_pending')).toContain(
      'downstream_store_pending{what="rollups"} 0',
    );
  });
});

describe('audit trail', () => {
  it('lists an incident’s actions in order, with optional fields kept optional', () => {
    const s = mem();
    s.appendAudit({ at: '2026-11-24T10:00:00.000Z', by: 'ops', action: 'ack', incidentId: 'x', detail: 'on it' });
    s.appendAudit({ at: '2026-11-24T10:01:00.000Z', by: 'admin', action: 'note', incidentId: 'x' });
    s.appendAudit({ at: '2026-11-24T10:02:00.000Z', by: 'ops', action: 'login' });
    expect(s.listAudit('x')).toEqual([
      { at: '2026-11-24T10:00:00.000Z', by: 'ops', action: 'ack', incidentId: 'x', detail: 'on it' },
      { at: '2026-11-24T10:01:00.000Z', by: 'admin', action: 'note', incidentId: 'x' },
    ]);
  });
});

describe('rollups', () => {
  const t0 = Date.UTC(2026, 10, 24, 10, 0, 0);

  it('sums rows for the same minute, kind, dimension and key; keeps the rest apart', () => {
    const s = mem(() => t0 + HOUR);
    s.recordAbuse([row(t0 + 5_000, '174', 100), row(t0 + 59_000, '174', 200), row(t0 + MINUTE, '174', 1000)]);
    s.recordAbuse([
      row(t0, '174', 400),
      row(t0, '174', 7, { kind: 'spam-bot' }),
      row(t0, '174', 9, { dimension: 'upstream' }),
    ]);
    s.flush();
    const rows = s.abuseRows({ dimension: 'asn', key: '174', from: t0 - HOUR, to: t0 + HOUR });
    expect(rows.map((r) => [r.minute - t0, r.kind, r.bytes])).toEqual([
      [MINUTE, 'scanner', 1000],
      [0, 'scanner', 700],
      [0, 'spam-bot', 7],
    ]);
    expect(rows.every((r) => r.resolution === 'minute')).toBe(true);
  });

  it('series: aligned buckets, top keys by bytes, kind filter, explicit keys', () => {
    const s = mem(() => t0 + DAY);
    const rows: AbuseRollupRow[] = [];
    for (let m = 0; m < 120; m++) {
      rows.push(row(t0 + m * MINUTE, '1', 10));
      rows.push(row(t0 + m * MINUTE, '2', 20, { kind: 'spam-bot' }));
      if (m % 2 === 0) rows.push(row(t0 + m * MINUTE, '3', 1));
    }
    s.recordAbuse(rows);
    const q = { dimension: 'asn' as const, from: t0 + 10 * MINUTE, to: t0 + 2 * HOUR, stepMs: 30 * MINUTE };
    const r = s.abuseSeries(q);
    expect(r.resolution).toBe('minute');
    expect(r.buckets).toEqual([0, 1, 2, 3].map((k) => t0 + k * 30 * MINUTE));
    expect(r.series.map((x) => x.key)).toEqual(['2', '1', '3']);
    // First bucket starts at t0 (aligned) but the range starts 10 minutes in.
    expect(r.series[1].bytesSeries).toEqual([300, 300, 300, 300]);
    expect(r.series[1].bytes).toBe(1200);
    expect(r.series[0].byKind).toEqual({ 'spam-bot': 2400 });
    expect(s.abuseSeries({ ...q, top: 1 }).series.map((x) => x.key)).toEqual(['2']);
    expect(s.abuseSeries({ ...q, kind: 'scanner' }).series.map((x) => x.key)).toEqual(['1', '3']);
    const k = s.abuseSeries({ ...q, keys: ['3', 'nope'] });
    expect(k.series.map((x) => [x.key, x.bytes])).toEqual([
      ['3', 60],
      ['nope', 0],
    ]);
    const hourly = s.abuseSeries({ ...q, from: t0, stepMs: HOUR });
    expect(hourly.resolution).toBe('hour');
    expect(hourly.series.find((x) => x.key === '1')?.bytesSeries).toEqual([600, 600]);
    const daily = s.abuseSeries({ ...q, from: t0 - DAY, stepMs: DAY });
    expect(daily.resolution).toBe('day');
    expect(daily.series.find((x) => x.key === '2')?.bytesSeries).toEqual([0, 2400]);
    expect(
      s.abuseTotals({ dimension: 'asn', from: t0, to: t0 + 2 * HOUR, limit: 2 }).map((x) => [x.key, x.bytes]),
    ).toEqual([
      ['2', 2400],
      ['1', 1200],
    ]);
  });

  it('retention and hourly folding on a store seeded with 30 days of data', () => {
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
        s.flush();
        batch = [];
      }
    }
    s.recordAbuse(batch);
    // Incidents: resolved long ago (expires), open long ago (kept: still active), resolved recently.
    s.upsertIncident(makeIncident('old', { status: 'resolved', lastSeen: new Date(now - 25 * DAY).toISOString() }));
    s.upsertIncident(makeIncident('old-open', { lastSeen: new Date(now - 25 * DAY).toISOString() }));
    s.upsertIncident(makeIncident('recent', { status: 'resolved', lastSeen: new Date(now - DAY).toISOString() }));
    s.appendAudit({ at: new Date(now - 25 * DAY).toISOString(), by: 'ops', action: 'ack', incidentId: 'old' });
    s.appendAudit({ at: new Date(now - DAY).toISOString(), by: 'ops', action: 'ack', incidentId: 'recent' });
    s.flush();
    const minuteRowsBefore = (s.db.prepare('SELECT COUNT(*) AS n FROM rollup_minute').get() as { n: number }).n;
    expect(minuteRowsBefore).toBe(30 * 144 * 3);

    s.maintain(now);

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
    const r = s.abuseSeries({ dimension: 'asn', from: now - 30 * DAY, to: now, stepMs: DAY, keys: ['174'] });
    const days = r.series[0].bytesSeries;
    expect(days).toHaveLength(31); // 30 days starting at noon span 31 UTC days
    expect(days.slice(0, 10)).toEqual(new Array(10).fill(0));
    expect(days.slice(10, 30)).toEqual(new Array(20).fill(144_000));
    expect(days[30]).toBe(72_000); // today until noon
    // Raw rows for an endpoint: minutes for 7 days, hours before.
    const eps = s.abuseRows({
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
    expect(s.getIncident('old')).toBeUndefined();
    expect(s.getIncident('old-open')).toBeDefined();
    expect(s.getIncident('recent')).toBeDefined();
    expect(
      s
        .incidentsFor('endpoint', '198.51.100.10')
        .map((i) => i.id)
        .sort(),
    ).toEqual(['old-open', 'recent']);
    expect(s.listAudit('old')).toEqual([]);
    expect(s.listAudit('recent')).toHaveLength(1);
    s.close();

    // And it all persisted.
    const again = openStore({ path: dir, retentionDays: 20, logger, timers: false, now: () => now });
    open.push(again);
    expect(
      again.abuseSeries({ dimension: 'asn', from: now - 2 * DAY, to: now, stepMs: DAY, keys: ['174'] }).series[0]
        .bytesSeries,
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
      store.upsertIncident(inc);
      store.upsertIncident({ ...inc, status: 'acknowledged' });
      store.appendAudit({ at: new Date().toISOString(), by: 'ops', action: 'ack', incidentId: inc.id, detail: 'calling the customer' });
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
    expect(s.getIncident('dur-1')?.status).toBe('acknowledged');
    expect(s.listAudit('dur-1')).toEqual([
      expect.objectContaining({ by: 'ops', action: 'ack', detail: 'calling the customer' }),
    ]);
    const rows = s.abuseRows({
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
    const seqs = s
      .abuseTotals({ dimension: 'endpoint', from: Date.now() - HOUR, to: Date.now() + HOUR })
      .map((t) => Number(t.key.slice(4)))
      .sort((a, b) => a - b);
    // What survives is a prefix of what was recorded (no holes)…
    expect(seqs).toEqual(seqs.map((_, i) => i));
    // …missing at most the last flush interval's worth (20 rows at 50 ms) plus scheduling slack.
    expect(seqs.length).toBeGreaterThanOrEqual(last + 1 - 30);
  });
});

describe('totals across minute, hour and day rows', () => {
  it('equal a naive sum over the recorded rows for any range, before and after folding', () => {
    const now = Date.UTC(2026, 10, 24, 12, 34, 0);
    const s = mem(() => now);
    // Deterministic scatter over the last 10 days: three keys, two kinds, odd minutes.
    const rows: AbuseRollupRow[] = [];
    let x = 12345;
    const next = (): number => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 4000; i++) {
      const t = Math.floor((now - 10 * DAY + next() * 10 * DAY) / MINUTE) * MINUTE;
      rows.push(
        row(t, `k${Math.floor(next() * 3)}`, 1 + Math.floor(next() * 1000), {
          kind: next() < 0.5 ? 'scanner' : 'spam-bot',
        }),
      );
    }
    s.recordAbuse(rows);
    s.flush();
    const minuteKept = Math.floor((now - 7 * DAY) / HOUR) * HOUR;
    const naive = (from: number, to: number): Record<string, number> => {
      // Beyond the 7 days of minute rows a range widens to whole hours.
      const f = from < minuteKept ? Math.floor(from / HOUR) * HOUR : from;
      const t = to < minuteKept ? Math.ceil(to / HOUR) * HOUR : to;
      const out: Record<string, number> = {};
      for (const r of rows) if (r.minute >= f && r.minute < t) out[r.key] = (out[r.key] ?? 0) + r.bytes;
      return out;
    };
    const got = (from: number, to: number): Record<string, number> =>
      Object.fromEntries(s.abuseTotals({ dimension: 'asn', from, to }).map((t) => [t.key, t.bytes]));
    const range = fc
      .tuple(fc.integer({ min: 0, max: 10 * 24 * 60 }), fc.integer({ min: 1, max: 10 * 24 * 60 }))
      .map(([a, len]) => [now - 10 * DAY + a * MINUTE, Math.min(now, now - 10 * DAY + (a + len) * MINUTE)] as const)
      .filter(([a, b]) => a < b);
    fc.assert(
      fc.property(range, ([from, to]) => {
        expect(got(from, to)).toEqual(naive(from, to));
      }),
      { numRuns: 60 },
    );
    const before = got(now - 9 * DAY - 7 * MINUTE, now - 3 * MINUTE);
    s.maintain(now);
    expect(got(now - 9 * DAY - 7 * MINUTE, now - 3 * MINUTE)).toEqual(before);
    // lastSeen is exact to the minute for recent traffic.
    const last = Math.max(...rows.filter((r) => r.key === 'k1').map((r) => r.minute));
    expect(s.abuseTotals({ dimension: 'asn', from: now - 9 * DAY, to: now, keys: ['k1'] })[0].lastSeen).toBe(last);
  });
});
