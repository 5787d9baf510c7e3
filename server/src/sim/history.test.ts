import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Incident } from '@downstream/shared';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE, openStore } from '../store/index.js';
import { simulateHistory } from './history.js';

const logger = pino({ level: 'silent' });
const NOW = Date.parse('2026-12-03T06:00:00Z');

describe('simulateHistory', () => {
  const h = simulateHistory({ now: NOW, days: 30, seed: 1 });

  it('covers 30 days with resolved, simulated incidents of every built-in kind', async () => {
    expect(h.to).toBe(NOW);
    expect(h.from).toBe(NOW - 30 * DAY);
    expect(h.incidents.length).toBeGreaterThan(60);
    const kinds = new Set(h.incidents.map((i) => i.kind));
    for (const k of ['ddos-fan-in', 'amplification', 'spam-bot', 'scanner', 'ddos-participation'])
      expect(kinds).toContain(k);
    for (const i of h.incidents) {
      expect(() => Incident.parse(i)).not.toThrow();
      expect(i.simulated).toBe(true);
      expect(i.status).toBe('resolved');
      expect(Date.parse(i.firstSeen)).toBeGreaterThanOrEqual(h.from);
      expect(Date.parse(i.lastSeen)).toBeLessThan(h.to);
    }
    // Rollups for every dimension, all inside the span.
    const dims = new Set(h.rollups.map((r) => r.dimension));
    expect([...dims].sort()).toEqual(['asn', 'customer', 'endpoint', 'upstream']);
    const outside = h.rollups.filter((r) => r.minute < h.from || r.minute >= h.to);
    expect(outside).toEqual([]);
  });

  it('is the same for the same seed and differs for another', async () => {
    const again = simulateHistory({ now: NOW, days: 30, seed: 1 });
    expect(again.incidents.map((i) => i.firstSeen)).toEqual(h.incidents.map((i) => i.firstSeen));
    const other = simulateHistory({ now: NOW, days: 30, seed: 2 });
    expect(other.incidents.map((i) => i.firstSeen)).not.toEqual(h.incidents.map((i) => i.firstSeen));
  });
});

describe('Store.importHistory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'downstream-history-'));
  afterAll(async () => rmSync(dir, { recursive: true, force: true }));

  it('writes flagged rollups and incidents that the history queries read, and survives a restart', async () => {
    const h = simulateHistory({ now: NOW, days: 30, seed: 1 });
    const store = openStore({ path: dir, retentionDays: 90, logger, now: () => NOW, timers: false });
    expect(await store.isEmpty()).toBe(true);
    expect(await store.simulatedHistory()).toBeUndefined();
    const t0 = performance.now();
    await store.importHistory(h);
    const ms = performance.now() - t0;
    // A few seconds at most, so a demo start stays quick (typically well under one).
    expect(ms).toBeLessThan(10_000);
    expect(await store.isEmpty()).toBe(false);
    expect(await store.simulatedHistory()).toEqual({ from: h.from, to: h.to });

    // Daily trend over the 30 days: most days have abuse, per upstream link.
    const s = await store.abuseSeries({ dimension: 'upstream', from: h.from, to: h.to, stepMs: DAY });
    expect(s.resolution).toBe('day');
    expect(s.series.map((x) => x.key)).toContain('Transit A (Cogent)');
    const daysWith = s.buckets.filter((_, k) => s.series.some((x) => x.bytesSeries[k]! > 0)).length;
    expect(daysWith).toBeGreaterThan(20);
    // Sums agree across grains: hourly over the span = daily over the span (whole days).
    const hourly = await store.abuseTotals({ dimension: 'asn', from: h.from, to: h.to });
    const rawBytes = h.rollups.filter((r) => r.dimension === 'asn').reduce((a, r) => a + r.bytes, 0);
    expect(hourly.reduce((a, t) => a + t.bytes, 0)).toBeCloseTo(rawBytes, -3);
    // Minute rows only for the last 7 days (what the store keeps), and minute-step queries work there.
    const oldest = store.db.prepare('SELECT MIN(t) AS t FROM rollup_minute').get() as { t: number };
    expect(oldest.t).toBeGreaterThanOrEqual(NOW - 7 * DAY - HOUR);
    const flagged = store.db.prepare('SELECT COUNT(*) AS n, SUM(simulated) AS s FROM rollup_hour').get() as {
      n: number;
      s: number;
    };
    expect(flagged.n).toBeGreaterThan(0);
    expect(flagged.s).toBe(flagged.n);
    const minuteSeries = await store.abuseSeries({
      dimension: 'customer',
      from: NOW - DAY,
      to: NOW,
      stepMs: MINUTE * 5,
    });
    expect(minuteSeries.resolution).toBe('minute');

    const resolved = await store.listIncidents({ status: 'resolved', limit: 1000 });
    expect(resolved).toHaveLength(h.incidents.length);
    expect(resolved.every((i) => i.simulated === true)).toBe(true);
    const simRows = store.db.prepare('SELECT COUNT(*) AS n FROM incidents WHERE simulated = 1').get() as { n: number };
    expect(simRows.n).toBe(h.incidents.length);
    expect((await store.incidentsFor('upstream', 'Transit A (Cogent)')).length).toBeGreaterThan(0);
    await store.close();

    // A restart with the data in place: not empty, so the demo does not backfill again.
    const again = openStore({ path: dir, retentionDays: 90, logger, now: () => NOW, timers: false });
    expect(await again.isEmpty()).toBe(false);
    expect(await again.simulatedHistory()).toEqual({ from: h.from, to: h.to });
    again.close();
  });
});
