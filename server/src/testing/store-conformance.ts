import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentStore } from '../incidents/manager.js';
import { DAY, HOUR, MINUTE } from '../store/constants.js';
import type { AbuseRollupRow, Store } from '../store/types.js';
import { makeIncident } from './make-incident.js';

/**
 * One suite every Store implementation passes (SQLite, PostgreSQL; the memory store the
 * incident and audit parts). Each test gets a fresh location (`fresh()`); `open` may be called
 * again on it to check what survives a reopen.
 */
export interface StoreFixture<L = unknown> {
  fresh(): Promise<L>;
  open(location: L, opts: { now?: () => number; retentionDays?: number }): Promise<Store>;
}

/** The part of a Store the memory store has. */
type CoreStore = IncidentStore &
  Pick<Store, 'incidentsChangedSince' | 'listAudit'> &
  Partial<Pick<Store, 'flush' | 'close'>>;

export interface CoreFixture<L = unknown> {
  fresh(): Promise<L>;
  open(location: L, opts: { now?: () => number }): Promise<CoreStore>;
}

const at = (s: string) => new Date(s).toISOString();
/** Packets are fractions in these rows; sums of them differ in the last bits by summation order. */
const round = (v: number) => Math.round(v * 1e6) / 1e6;

function coreSuite(name: string, fx: CoreFixture) {
  const opened: CoreStore[] = [];
  const open = async (opts: { now?: () => number } = {}) => {
    const s = await fx.open(await fx.fresh(), opts);
    opened.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close?.();
  });
  const flush = async (s: CoreStore) => s.flush?.();

  describe(`${name}: incidents`, () => {
    it('round-trips, filters and orders newest first', async () => {
      const s = await open();
      await s.upsertIncident(makeIncident('a', { lastSeen: at('2026-11-24T10:00:00Z'), kind: 'scanner' }));
      await s.upsertIncident(
        makeIncident('b', { lastSeen: at('2026-11-24T11:00:00Z'), direction: 'inbound', kind: 'ddos-fan-in' }),
      );
      await s.upsertIncident(makeIncident('c', { lastSeen: at('2026-11-24T12:00:00Z'), status: 'resolved' }));
      expect(await s.getIncident('a')).toEqual(
        makeIncident('a', { lastSeen: at('2026-11-24T10:00:00Z'), kind: 'scanner' }),
      );
      expect(await s.getIncident('zzz')).toBeUndefined();
      const ids = async (q: Parameters<Store['listIncidents']>[0]) => (await s.listIncidents(q)).map((i) => i.id);
      expect(await ids({ limit: 10 })).toEqual(['c', 'b', 'a']);
      expect(await ids({ limit: 2 })).toEqual(['c', 'b']);
      expect(await ids({ limit: 10, status: 'resolved' })).toEqual(['c']);
      expect(await ids({ limit: 10, kind: 'ddos-fan-in' })).toEqual(['b']);
      expect(await ids({ limit: 10, direction: 'outbound' })).toEqual(['c', 'a']);
      expect(await ids({ limit: 10, since: at('2026-11-24T10:30:00Z') })).toEqual(['c', 'b']);
    });

    it('the latest version wins; an operator change reads back at once', async () => {
      const s = await open();
      const base = makeIncident('x');
      await s.upsertIncident(base);
      await s.upsertIncident({ ...base, peak: { pps: 1, bps: 2 } });
      await s.upsertIncident({ ...base, peak: { pps: 3, bps: 4 } });
      expect((await s.getIncident('x'))?.peak).toEqual({ pps: 3, bps: 4 });
      const acked = { ...base, peak: { pps: 3, bps: 4 }, status: 'acknowledged' as const };
      await s.upsertIncident(acked);
      expect((await s.listIncidents({ limit: 5, status: 'acknowledged' })).map((i) => i.id)).toEqual(['x']);
      const noted = { ...acked, notes: [{ at: base.lastSeen, by: 'ops', text: 'calling them' }] };
      await s.upsertIncident(noted);
      expect((await s.getIncident('x'))?.notes).toEqual(noted.notes);
      await s.upsertIncident({ ...noted, peak: { pps: 9, bps: 9 } });
      await flush(s);
      expect(await s.getIncident('x')).toEqual({ ...noted, peak: { pps: 9, bps: 9 } });
    });

    it('versions handed over without waiting land in the order they were made', async () => {
      const s = await open();
      const base = makeIncident('o');
      const writes: Promise<void>[] = [];
      const notes: { at: string; by: string; text: string }[] = [];
      for (let i = 0; i < 20; i++) {
        // Alternating operator changes (a note: written at once) and refreshes (queued).
        if (i % 2 === 0) notes.push({ at: base.lastSeen, by: 'ops', text: `n${i}` });
        writes.push(s.upsertIncident({ ...base, notes: [...notes], peak: { pps: i, bps: i } }));
      }
      await Promise.all(writes);
      await flush(s);
      const got = await s.getIncident('o');
      expect(got?.peak.pps).toBe(19);
      expect(got?.notes.map((n) => n.text)).toEqual(notes.map((n) => n.text));
    });

    it('change feed: rows changed after a cursor, oldest change first, each change once past the cursor', async () => {
      const s = await open();
      expect(await s.incidentsChangedSince(0)).toEqual([]);
      for (const id of ['a', 'b', 'c']) await s.upsertIncident(makeIncident(id));
      const first = await s.incidentsChangedSince(0);
      expect(first.map((i) => i.id)).toEqual(['a', 'b', 'c']);
      const stamps = first.map((i) => i.changedAt);
      expect([...stamps].sort((x, y) => x - y)).toEqual(stamps);
      expect(new Set(stamps).size).toBe(3); // strictly increasing: a cursor never skips a same-ms row
      expect(first[1]).toMatchObject({ ...makeIncident('b', { lastSeen: first[1].lastSeen }) });
      const cursor = first[2].changedAt;
      expect(await s.incidentsChangedSince(cursor)).toEqual([]);
      // A change to 'a' (an operator's) moves it past the cursor; nothing else is there.
      await s.upsertIncident({ ...makeIncident('a', { lastSeen: first[0].lastSeen }), status: 'acknowledged' });
      const next = await s.incidentsChangedSince(cursor);
      expect(next.map((i) => [i.id, i.status])).toEqual([['a', 'acknowledged']]);
      expect(next[0].changedAt).toBeGreaterThan(cursor);
      // A queued refresh is in the feed too (the feed reads after flushing).
      await s.upsertIncident({ ...makeIncident('c', { lastSeen: first[2].lastSeen }), peak: { pps: 7, bps: 7 } });
      const after = await s.incidentsChangedSince(next[0].changedAt);
      expect(after.map((i) => [i.id, i.peak.pps])).toEqual([['c', 7]]);
      // Limit: the oldest changes first.
      expect((await s.incidentsChangedSince(0, 2)).map((i) => i.id)).toEqual(['b', 'a']);
    });
  });

  describe(`${name}: audit trail`, () => {
    it('lists an incident’s actions in order, with optional fields kept optional', async () => {
      const s = await open();
      await s.appendAudit({
        at: at('2026-11-24T10:00:00Z'),
        by: 'ops',
        action: 'ack',
        incidentId: 'x',
        detail: 'on it',
      });
      await s.appendAudit({ at: at('2026-11-24T10:01:00Z'), by: 'admin', action: 'note', incidentId: 'x' });
      await s.appendAudit({
        at: at('2026-11-24T10:01:30Z'),
        by: 'ops',
        action: 'note',
        incidentId: 'y',
        detail: 'other',
      });
      await s.appendAudit({ at: at('2026-11-24T10:02:00Z'), by: 'ops', action: 'resolve', incidentId: 'x' });
      expect(await s.listAudit('x')).toEqual([
        { at: at('2026-11-24T10:00:00Z'), by: 'ops', action: 'ack', incidentId: 'x', detail: 'on it' },
        { at: at('2026-11-24T10:01:00Z'), by: 'admin', action: 'note', incidentId: 'x' },
        { at: at('2026-11-24T10:02:00Z'), by: 'ops', action: 'resolve', incidentId: 'x' },
      ]);
      expect(await s.listAudit('nope')).toEqual([]);
    });
  });
}

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

/** Incidents, audit, the key index, rollups, retention and history import: what a full Store does. */
export function storeConformance(name: string, fx: StoreFixture) {
  coreSuite(name, fx);
  const opened: Store[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  const openAt = async (loc: unknown, opts: { now?: () => number; retentionDays?: number } = {}) => {
    const s = await fx.open(loc, opts);
    opened.push(s);
    return s;
  };
  const open = async (opts: { now?: () => number; retentionDays?: number } = {}) => openAt(await fx.fresh(), opts);

  describe(`${name}: incident index`, () => {
    it('finds incidents by endpoint (target or source), ASN, customer and upstream; re-indexes when sources change', async () => {
      const s = await open();
      const inc = makeIncident('x', { lastSeen: at('2026-11-24T10:00:00Z') });
      await s.upsertIncident(inc);
      await s.upsertIncident(
        makeIncident('y', {
          lastSeen: at('2026-11-24T11:00:00Z'),
          target: { ip: '198.51.100.10', customer: 'Residential A' },
          direction: 'inbound',
          kind: 'ddos-fan-in',
          sources: { distinct: 0, top: [], asns: [] },
          upstreams: [],
        }),
      );
      const ids = async (dim: Parameters<Store['incidentsFor']>[0], key: string) =>
        (await s.incidentsFor(dim, key)).map((i) => i.id);
      expect(await ids('endpoint', '198.51.100.10')).toEqual(['y', 'x']); // newest first
      expect(await ids('endpoint', '203.0.113.9')).toEqual(['x']);
      expect(await ids('asn', '64500')).toEqual(['x']);
      expect(await ids('asn', '64496')).toEqual(['x']);
      expect(await ids('customer', 'Residential A')).toEqual(['y', 'x']);
      expect(await ids('upstream', 'Transit A')).toEqual(['x']);
      expect(await ids('endpoint', '10.0.0.1')).toEqual([]);
      expect((await s.incidentsFor('customer', 'Residential A', 1)).map((i) => i.id)).toEqual(['y']);
      await s.upsertIncident({
        ...inc,
        sources: { ...inc.sources, top: [{ ...inc.sources.top[0], ip: '198.51.100.99' }] },
      });
      expect(await ids('endpoint', '198.51.100.11')).toEqual([]);
      expect(await ids('endpoint', '198.51.100.99')).toEqual(['x']);
      const counts = await s.incidentCounts('customer');
      expect(counts).toHaveLength(2);
      expect(counts).toEqual(
        expect.arrayContaining([
          {
            key: 'Residential A',
            kind: 'ddos-participation',
            status: 'open',
            count: 1,
            lastSeen: Date.parse(inc.lastSeen),
          },
          {
            key: 'Residential A',
            kind: 'ddos-fan-in',
            status: 'open',
            count: 1,
            lastSeen: Date.parse('2026-11-24T11:00:00Z'),
          },
        ]),
      );
      expect(await s.incidentCounts('customer', Date.parse('2026-11-24T10:30:00Z'))).toHaveLength(1);
      const eps = await s.incidentCustomerEndpoints();
      expect(eps.map((e) => `${e.customer}|${e.ip}`).sort()).toEqual([
        'Residential A|198.51.100.10',
        'Residential A|198.51.100.99',
      ]);
      expect(await s.incidentCustomerEndpoints(Date.parse('2026-11-24T10:30:00Z'))).toEqual([
        { customer: 'Residential A', ip: '198.51.100.10' },
      ]);
    });
  });

  describe(`${name}: rollups`, () => {
    const t0 = Date.UTC(2026, 10, 24, 10, 0, 0);

    it('sums rows for the same minute, kind, dimension and key; keeps the rest apart', async () => {
      const s = await open({ now: () => t0 + HOUR });
      s.recordAbuse([row(t0 + 5_000, '174', 100), row(t0 + 59_000, '174', 200), row(t0 + MINUTE, '174', 1000)]);
      s.recordAbuse([
        row(t0, '174', 400),
        row(t0, '174', 7, { kind: 'spam-bot' }),
        row(t0, '174', 9, { dimension: 'upstream' }),
      ]);
      // Rows recorded after a flush add to what was written.
      await s.flush();
      s.recordAbuse([row(t0 + MINUTE, '174', 1)]);
      const rows = await s.abuseRows({ dimension: 'asn', key: '174', from: t0 - HOUR, to: t0 + HOUR });
      expect(rows.map((r) => [r.minute - t0, r.kind, r.bytes, round(r.packets), r.flows])).toEqual([
        [MINUTE, 'scanner', 1001, 10.01, 2],
        [0, 'scanner', 700, 7, 3],
        [0, 'spam-bot', 7, 0.07, 1],
      ]);
      expect(rows.every((r) => r.resolution === 'minute' && r.dimension === 'asn' && r.key === '174')).toBe(true);
      expect(
        (await s.abuseRows({ dimension: 'asn', key: '174', from: t0 - HOUR, to: t0 + HOUR, limit: 1 })).length,
      ).toBe(1);
    });

    it('series: aligned buckets, top keys by bytes, kind filter, explicit keys; totals and lastSeen', async () => {
      const s = await open({ now: () => t0 + DAY });
      const rows: AbuseRollupRow[] = [];
      for (let m = 0; m < 120; m++) {
        rows.push(row(t0 + m * MINUTE, '1', 10));
        rows.push(row(t0 + m * MINUTE, '2', 20, { kind: 'spam-bot' }));
        if (m % 2 === 0) rows.push(row(t0 + m * MINUTE, '3', 1));
      }
      s.recordAbuse(rows);
      const q = { dimension: 'asn' as const, from: t0 + 10 * MINUTE, to: t0 + 2 * HOUR, stepMs: 30 * MINUTE };
      const r = await s.abuseSeries(q);
      expect(r.resolution).toBe('minute');
      expect(r.buckets).toEqual([0, 1, 2, 3].map((k) => t0 + k * 30 * MINUTE));
      expect(r.series.map((x) => x.key)).toEqual(['2', '1', '3']);
      // First bucket starts at t0 (aligned) but the range starts 10 minutes in.
      expect(r.series[1].bytesSeries).toEqual([300, 300, 300, 300]);
      expect(r.series[1].packetsSeries.map(round)).toEqual([3, 3, 3, 3]);
      expect(r.series[1].flowsSeries).toEqual([30, 30, 30, 30]);
      expect(r.series[1].bytes).toBe(1200);
      expect(r.series[0].byKind).toEqual({ 'spam-bot': 2400 });
      expect(r.series[0].lastSeen).toBe(t0 + 119 * MINUTE);
      expect((await s.abuseSeries({ ...q, top: 1 })).series.map((x) => x.key)).toEqual(['2']);
      expect((await s.abuseSeries({ ...q, kind: 'scanner' })).series.map((x) => x.key)).toEqual(['1', '3']);
      const k = await s.abuseSeries({ ...q, keys: ['3', 'nope'] });
      expect(k.series.map((x) => [x.key, x.bytes])).toEqual([
        ['3', 60],
        ['nope', 0],
      ]);
      const hourly = await s.abuseSeries({ ...q, from: t0, stepMs: HOUR });
      expect(hourly.resolution).toBe('hour');
      expect(hourly.series.find((x) => x.key === '1')?.bytesSeries).toEqual([600, 600]);
      const daily = await s.abuseSeries({ ...q, from: t0 - DAY, stepMs: DAY });
      expect(daily.resolution).toBe('day');
      expect(daily.series.find((x) => x.key === '2')?.bytesSeries).toEqual([0, 2400]);
      expect(
        (await s.abuseTotals({ dimension: 'asn', from: t0, to: t0 + 2 * HOUR, limit: 2 })).map((x) => [x.key, x.bytes]),
      ).toEqual([
        ['2', 2400],
        ['1', 1200],
      ]);
      expect(
        (await s.abuseTotals({ dimension: 'asn', from: t0, to: t0 + 2 * HOUR, keys: ['3'] })).map((x) => x.bytes),
      ).toEqual([60]);
    });

    it('totals over any range equal the naive sum of what was recorded, before and after maintenance', async () => {
      const now = Date.UTC(2026, 10, 24, 12, 34, 0);
      const s = await open({ now: () => now, retentionDays: 90 });
      let seed = 7;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const rows: AbuseRollupRow[] = [];
      for (let i = 0; i < 1500; i++) {
        const minute = now - 10 * DAY + Math.floor(next() * 10 * 24 * 60) * MINUTE;
        rows.push(
          row(minute, `k${Math.floor(next() * 5)}`, Math.floor(next() * 1000), {
            kind: next() < 0.5 ? 'scanner' : 'spam-bot',
          }),
        );
      }
      s.recordAbuse(rows);
      await s.flush();
      const minuteKept = Math.floor((now - 7 * DAY) / HOUR) * HOUR;
      const naive = (from: number, to: number): Record<string, number> => {
        // Beyond the 7 days of minute rows a range widens to whole hours.
        const f = from < minuteKept ? Math.floor(from / HOUR) * HOUR : from;
        const t = to < minuteKept ? Math.ceil(to / HOUR) * HOUR : to;
        const out: Record<string, number> = {};
        for (const r of rows) if (r.minute >= f && r.minute < t) out[r.key] = (out[r.key] ?? 0) + r.bytes;
        return out;
      };
      const got = async (from: number, to: number): Promise<Record<string, number>> =>
        Object.fromEntries((await s.abuseTotals({ dimension: 'asn', from, to })).map((t) => [t.key, t.bytes]));
      const range = fc
        .tuple(fc.integer({ min: 0, max: 10 * 24 * 60 }), fc.integer({ min: 1, max: 10 * 24 * 60 }))
        .map(([a, len]) => [now - 10 * DAY + a * MINUTE, Math.min(now, now - 10 * DAY + (a + len) * MINUTE)] as const)
        .filter(([a, b]) => a < b);
      await fc.assert(
        fc.asyncProperty(range, async ([from, to]) => {
          expect(await got(from, to)).toEqual(naive(from, to));
        }),
        { numRuns: 25 },
      );
      const before = await got(now - 9 * DAY - 7 * MINUTE, now - 3 * MINUTE);
      await s.maintain(now);
      expect(await got(now - 9 * DAY - 7 * MINUTE, now - 3 * MINUTE)).toEqual(before);
      const last = Math.max(...rows.filter((r) => r.key === 'k1').map((r) => r.minute));
      expect((await s.abuseTotals({ dimension: 'asn', from: now - 9 * DAY, to: now, keys: ['k1'] }))[0].lastSeen).toBe(
        last,
      );
    });
  });

  describe(`${name}: retention`, () => {
    it('keeps minute rows 7 days and hour/day rows, resolved incidents and audit for the retention; survives a reopen', async () => {
      const now = Date.UTC(2026, 10, 24, 12, 0, 0);
      const start = now - 30 * DAY;
      const loc = await fx.fresh();
      const s = await openAt(loc, { now: () => now, retentionDays: 20 });
      let batch: AbuseRollupRow[] = [];
      for (let t = start; t < now; t += 10 * MINUTE) {
        batch.push(row(t, '174', 1000), row(t, '198.51.100.10', 5, { dimension: 'endpoint' }));
        if (batch.length > 2000) {
          s.recordAbuse(batch);
          await s.flush();
          batch = [];
        }
      }
      s.recordAbuse(batch);
      await s.upsertIncident(
        makeIncident('old', { status: 'resolved', lastSeen: new Date(now - 25 * DAY).toISOString() }),
      );
      await s.upsertIncident(makeIncident('old-open', { lastSeen: new Date(now - 25 * DAY).toISOString() }));
      await s.upsertIncident(
        makeIncident('recent', { status: 'resolved', lastSeen: new Date(now - DAY).toISOString() }),
      );
      await s.appendAudit({ at: new Date(now - 25 * DAY).toISOString(), by: 'ops', action: 'ack', incidentId: 'old' });
      await s.appendAudit({ at: new Date(now - DAY).toISOString(), by: 'ops', action: 'ack', incidentId: 'recent' });
      await s.flush();
      const all = () =>
        s.abuseRows({ dimension: 'endpoint', key: '198.51.100.10', from: start - DAY, to: now, limit: 100_000 });
      const cut7 = Math.floor((now - 7 * DAY) / HOUR) * HOUR;
      const cut20 = now - 20 * DAY;
      // Before: hour rows back to the start (minute rows are only read for the last 7 days).
      expect((await all()).filter((e) => e.resolution === 'hour').length).toBe(23 * 24);

      await s.maintain(now);

      const eps = await all();
      expect(eps.filter((e) => e.resolution === 'minute')).toHaveLength(7 * 144);
      const hours = eps.filter((e) => e.resolution === 'hour');
      expect(hours).toHaveLength(13 * 24);
      expect(hours.every((e) => e.minute < cut7 && e.minute >= cut20 && e.bytes === 30)).toBe(true);
      // Day rows for the retention only: 10 empty days, 20 full, today until noon.
      const days = (
        await s.abuseSeries({ dimension: 'asn', from: now - 30 * DAY, to: now, stepMs: DAY, keys: ['174'] })
      ).series[0].bytesSeries;
      expect(days).toHaveLength(31);
      expect(days.slice(0, 10)).toEqual(new Array(10).fill(0));
      expect(days.slice(10, 30)).toEqual(new Array(20).fill(144_000));
      expect(days[30]).toBe(72_000);
      // Minute rows older than 7 days are gone even from a minute-step query's view.
      const early = await s.abuseSeries({
        dimension: 'asn',
        from: now - 8 * DAY,
        to: now - 8 * DAY + HOUR,
        stepMs: 10 * MINUTE,
        keys: ['174'],
      });
      expect(early.series[0].bytesSeries).toEqual(new Array(6).fill(0));
      expect(await s.getIncident('old')).toBeUndefined();
      expect(await s.getIncident('old-open')).toBeDefined();
      expect(await s.getIncident('recent')).toBeDefined();
      expect((await s.incidentsFor('endpoint', '198.51.100.10')).map((i) => i.id).sort()).toEqual([
        'old-open',
        'recent',
      ]);
      expect(await s.listAudit('old')).toEqual([]);
      expect(await s.listAudit('recent')).toHaveLength(1);
      await s.close();
      opened.splice(opened.indexOf(s), 1);

      const again = await openAt(loc, { now: () => now, retentionDays: 20 });
      expect(
        (await again.abuseSeries({ dimension: 'asn', from: now - 2 * DAY, to: now, stepMs: DAY, keys: ['174'] }))
          .series[0].bytesSeries,
      ).toEqual([144_000, 144_000, 72_000]);
      expect((await again.listAudit('recent')).map((a) => a.action)).toEqual(['ack']);
      expect((await again.getIncident('old-open'))?.id).toBe('old-open');
    });
  });

  describe(`${name}: simulated history`, () => {
    it('imports flagged rollups and incidents in one go, records its span, and is no longer empty', async () => {
      const now = Date.UTC(2026, 10, 24, 12, 0, 0);
      const s = await open({ now: () => now });
      expect(await s.isEmpty?.()).toBe(true);
      expect(await s.simulatedHistory?.()).toBeUndefined();
      const from = now - 10 * DAY;
      const rollups: AbuseRollupRow[] = [];
      for (let t = from; t < now; t += HOUR) rollups.push(row(t, '174', 10), row(t + MINUTE, '174', 5));
      await s.importHistory!({
        from,
        to: now,
        rollups,
        incidents: [makeIncident('sim-1', { status: 'resolved', lastSeen: new Date(now - 2 * DAY).toISOString() })],
      });
      expect(await s.isEmpty?.()).toBe(false);
      expect(await s.simulatedHistory?.()).toEqual({ from, to: now });
      expect((await s.getIncident('sim-1'))?.simulated).toBe(true);
      const daily = await s.abuseSeries({ dimension: 'asn', from, to: now, stepMs: DAY, keys: ['174'] });
      expect(daily.series[0].bytes).toBe(10 * 24 * 15);
      const recent = await s.abuseRows({ dimension: 'asn', key: '174', from: now - HOUR, to: now });
      expect(recent.map((r) => [r.minute, r.bytes, r.resolution])).toEqual([
        [now - HOUR + MINUTE, 5, 'minute'],
        [now - HOUR, 10, 'minute'],
      ]);
    });
  });
}

/** The incident and audit parts only: what the memory store implements. */
export function incidentStoreConformance(name: string, fx: CoreFixture) {
  coreSuite(name, fx);
}
