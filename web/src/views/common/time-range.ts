import { RANGES, type RangeKey } from './ranges.js';

/**
 * The one time range of every history page, read from and written to the URL the way Grafana
 * users expect: `range=7d` (a preset, relative to now) or `from`/`to` (absolute; ISO-8601 or
 * epoch ms). Other query parameters (filters) are kept when the range changes. `period` is the
 * older name of `range` on /trends and still works.
 */
export interface TimeRange {
  /** The preset, when the range is one. */
  key?: RangeKey;
  from: number;
  /** Absent for a preset: up to now. */
  to?: number;
  /** Chart step for the span (the preset's, or the smallest preset step that covers it). */
  step: string;
  label: string;
}

function instant(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

const KEYS = Object.keys(RANGES) as RangeKey[];

export function parseTimeRange(params: URLSearchParams, fallback: RangeKey, now = Date.now()): TimeRange {
  const from = instant(params.get('from'));
  const to = instant(params.get('to'));
  if (from !== undefined && (to === undefined || to > from)) {
    const end = to ?? now;
    const span = end - from;
    const fit = KEYS.find((k) => RANGES[k].ms >= span) ?? '90d';
    const fmt = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
    return {
      from,
      ...(to !== undefined ? { to } : {}),
      step: RANGES[fit].step,
      label: `${fmt(from)} – ${to !== undefined ? fmt(to) : 'now'} UTC`,
    };
  }
  const raw = params.get('range') ?? params.get('period');
  const key = raw && raw in RANGES ? (raw as RangeKey) : fallback;
  const r = RANGES[key];
  // Rounded down to the minute, so re-renders within a minute ask for the same URL.
  return { key, from: Math.floor((now - r.ms) / 60_000) * 60_000, step: r.step, label: r.label };
}

/** `from` / `to` / `step` for the history API. */
export function timeRangeQuery(r: TimeRange, step = r.step): URLSearchParams {
  const q = new URLSearchParams({ from: String(r.from), step });
  if (r.to !== undefined) q.set('to', String(r.to));
  return q;
}

/** The URL's query with a new range: a preset key, or absolute from/to; filters are kept. */
export function withTimeRange(
  params: URLSearchParams,
  next: RangeKey | { from: number; to?: number },
): URLSearchParams {
  const out = new URLSearchParams(params);
  out.delete('period');
  if (typeof next === 'string') {
    out.set('range', next);
    out.delete('from');
    out.delete('to');
  } else {
    out.delete('range');
    out.set('from', new Date(next.from).toISOString());
    if (next.to !== undefined) out.set('to', new Date(next.to).toISOString());
    else out.delete('to');
  }
  return out;
}

/** The range part of a query, to carry into links to other pages (as Grafana keeps its time). */
export function rangeParams(params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of ['range', 'from', 'to']) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  const p = params.get('period');
  if (p && !out.has('range')) out.set('range', p);
  return out;
}
