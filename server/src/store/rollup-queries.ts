import type { IncidentKind } from '@downstream/shared';
import { DAY, HOUR, MINUTE } from './constants.js';
import { minuteKeptFrom } from './retention.js';
import type {
  AbuseDimension,
  AbuseRowsQuery,
  AbuseSeries,
  AbuseSeriesQuery,
  AbuseTotal,
  AbuseTotalsQuery,
  StoredRollupRow,
} from './types.js';

/**
 * The rollup tables every store keeps: minute rows for 7 days, hour and day rows for the
 * retention. Each row is written to all three at once, so "folding" is dropping minute rows.
 */
export const ROLLUP_TABLES = ['rollup_minute', 'rollup_hour', 'rollup_day'] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];
export const GRAIN: Record<RollupTable, number> = { rollup_minute: MINUTE, rollup_hour: HOUR, rollup_day: DAY };
const RESOLUTION = { rollup_minute: 'minute', rollup_hour: 'hour', rollup_day: 'day' } as const;

/** Sums per (key, kind) of one table over [from, to): [key, kind, packets, bytes, flows, max t]. */
export type SumRow = [string, IncidentKind, number, number, number, number];
/** One key's rows of a series query: bucket indexes and their values, in parallel arrays. */
export interface SeriesRows {
  key: string;
  buckets: number[];
  packets: number[];
  bytes: number[];
  flows: number[];
}
export interface RawRollupRow {
  t: number;
  kind: IncidentKind;
  packets: number;
  bytes: number;
  flows: number;
}

/** The few reads each database answers in its own SQL; the tiering above them is shared. */
export interface RollupReader {
  sums(
    table: RollupTable,
    q: { dimension: AbuseDimension; from: number; to: number; kind?: IncidentKind; keys?: string[] },
  ): Promise<SumRow[]>;
  /** Latest minute row of one key in [from, to), or null. */
  lastMinute(dimension: AbuseDimension, key: string, from: number, to: number): Promise<number | null>;
  /** Rows of `keys` in [first, to), bucketed as floor((t - first) / step). */
  series(
    table: RollupTable,
    q: { dimension: AbuseDimension; keys: string[]; first: number; step: number; to: number; kind?: IncidentKind },
  ): Promise<SeriesRows[]>;
  /** Rows of one key in [from, to), newest first, at most `limit`. */
  rows(
    table: RollupTable,
    q: { dimension: AbuseDimension; key: string; from: number; to: number; limit: number },
  ): Promise<RawRollupRow[]>;
}

/** Coarsest table whose grain divides the step (minute rows only exist for 7 days). */
const tableForStep = (stepMs: number): RollupTable =>
  stepMs % DAY === 0 ? 'rollup_day' : stepMs % HOUR === 0 ? 'rollup_hour' : 'rollup_minute';

const ranked = (byKey: Map<string, AbuseTotal>, limit?: number): AbuseTotal[] => {
  const out = [...byKey.values()].sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : 1));
  return limit !== undefined ? out.slice(0, limit) : out;
};

export function rollupQueries(reader: RollupReader, now: () => number) {
  /** Add one table's sums over [from, to) (from aligned down to the table's grain) into `byKey`. */
  const addTotals = async (table: RollupTable, q: AbuseTotalsQuery, byKey: Map<string, AbuseTotal>) => {
    const g = GRAIN[table];
    if (q.from >= q.to) return;
    const rows = await reader.sums(table, { ...q, from: Math.floor(q.from / g) * g });
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

  /**
   * Totals over [from, to) from the coarsest rows that fit: whole days from the day table, whole
   * hours around them from the hour table, and the partial hours at either end from minute rows
   * (where kept; beyond 7 days the range widens to whole hours). A 30-day scorecard thus reads
   * ~30 day rows, ~48 hour rows and ~120 minute rows per key instead of 43,200 minute rows.
   */
  const abuseTotals = async (q: AbuseTotalsQuery): Promise<AbuseTotal[]> => {
    const byKey = new Map<string, AbuseTotal>();
    const minuteKept = minuteKeptFrom(now());
    let from = q.from;
    const to = q.to;
    if (from < minuteKept) from = Math.floor(from / HOUR) * HOUR;
    const hA = Math.ceil(from / HOUR) * HOUR;
    const hB = Math.floor(to / HOUR) * HOUR;
    const parts: [RollupTable, number, number][] = [];
    if (hA >= hB) {
      parts.push([from >= minuteKept ? 'rollup_minute' : 'rollup_hour', from, to]);
    } else {
      parts.push(['rollup_minute', from, hA]);
      const dA = Math.ceil(hA / DAY) * DAY;
      const dB = Math.floor(hB / DAY) * DAY;
      if (dA < dB) {
        parts.push(['rollup_hour', hA, dA], ['rollup_day', dA, dB], ['rollup_hour', dB, hB]);
      } else {
        parts.push(['rollup_hour', hA, hB]);
      }
      parts.push(hB >= minuteKept ? ['rollup_minute', hB, to] : ['rollup_hour', hB, to]);
    }
    for (const [table, a, b] of parts) await addTotals(table, { ...q, from: a, to: b }, byKey);
    // lastSeen to the minute: look inside the hour (or day) the coarse rows point at.
    const out = ranked(byKey, q.limit);
    for (const t of out) {
      if (t.lastSeen >= minuteKept && t.lastSeen % HOUR === 0) {
        const last = await reader.lastMinute(
          q.dimension,
          t.key,
          t.lastSeen,
          Math.min(to, t.lastSeen + (t.lastSeen % DAY === 0 ? DAY : HOUR)),
        );
        if (last != null && last > t.lastSeen) t.lastSeen = last;
      }
    }
    return out;
  };

  const abuseSeries = async (q: AbuseSeriesQuery): Promise<AbuseSeries> => {
    const table = tableForStep(q.stepMs);
    const step = q.stepMs;
    const first = Math.floor(q.from / step) * step;
    const nb = Math.max(0, Math.ceil((q.to - first) / step));
    const buckets = Array.from({ length: nb }, (_, i) => first + i * step);
    // Totals (and the ranking) over the buckets' span from the coarsest rows that fit; then
    // the per-bucket values of only the keys shown.
    const totals = await abuseTotals({
      dimension: q.dimension,
      from: first,
      to: q.to,
      kind: q.kind,
      keys: q.keys,
      limit: q.keys ? undefined : (q.top ?? 50),
    });
    const totalsOf = new Map(totals.map((t) => [t.key, t]));
    const keys = q.keys ?? totals.map((t) => t.key);
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
      const rows = await reader.series(table, {
        dimension: q.dimension,
        keys: withTraffic,
        first,
        step,
        to: q.to,
        kind: q.kind,
      });
      for (const r of rows) {
        const s = series.get(r.key);
        if (!s) continue;
        for (let i = 0; i < r.buckets.length; i++) {
          const b = r.buckets[i];
          if (b < 0 || b >= nb) continue;
          s.packetsSeries[b] += r.packets[i];
          s.bytesSeries[b] += r.bytes[i];
          s.flowsSeries[b] += r.flows[i];
        }
      }
    }
    const out = [...series.values()];
    if (!q.keys) out.sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : 1));
    return { resolution: RESOLUTION[table], buckets, series: out };
  };

  const abuseRows = async (q: AbuseRowsQuery): Promise<StoredRollupRow[]> => {
    const limit = q.limit ?? 10_000;
    const minuteFrom = Math.max(q.from, minuteKeptFrom(now()));
    const out: StoredRollupRow[] = [];
    const read = async (table: RollupTable, from: number, to: number, resolution: 'minute' | 'hour') => {
      if (from >= to || out.length >= limit) return;
      const rows = await reader.rows(table, {
        dimension: q.dimension,
        key: q.key,
        from,
        to,
        limit: limit - out.length,
      });
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
    await read('rollup_minute', minuteFrom, q.to, 'minute');
    await read('rollup_hour', q.from, Math.min(q.to, minuteFrom), 'hour');
    return out;
  };

  return { abuseTotals, abuseSeries, abuseRows };
}
