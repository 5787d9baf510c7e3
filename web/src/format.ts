import { IncidentKind, KIND_POLICY } from '@downstream/shared';

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234567 → "1.23 M": rates on a wall must be short and comparable at a glance. */
export function si(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return '–';
  let v = Math.abs(value);
  let i = 0;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2;
  const n = (value < 0 ? -v : v).toFixed(i === 0 && v < 10 && !Number.isInteger(v) ? 1 : digits);
  const sep = SI[i] || unit ? ' ' : '';
  return `${n}${sep}${SI[i]}${unit}`;
}

export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function pct(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
}

/** Age as "42 s", "7 min", "3 h 05 min", "2 d". */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d`;
}

export function time(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleString('en-GB', {
    hour12: false,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

// Labels and colours are per-kind policy (shared/src/kinds.ts); these are the views' lookups.
export const KIND_LABEL = Object.fromEntries(IncidentKind.options.map((k) => [k, KIND_POLICY[k].label])) as Record<
  IncidentKind,
  string
>;

/** One colour per kind, used by tables, graphs and maps alike; RGB for deck.gl. */
export const KIND_RGB = Object.fromEntries(IncidentKind.options.map((k) => [k, [...KIND_POLICY[k].rgb]])) as Record<
  IncidentKind,
  [number, number, number]
>;

export function kindColor(kind: IncidentKind, alpha = 1): string {
  const [r, g, b] = KIND_RGB[kind];
  return alpha === 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Axis tick labels: SI, with more digits when the short form would repeat a label. */
export function siTicks(ticks: readonly number[], unit = ''): string[] {
  const short = ticks.map((t) => si(t, unit));
  if (new Set(short).size === short.length) return short;
  return ticks.map((t) => {
    const exp = t === 0 ? 0 : Math.min(SI.length - 1, Math.max(0, Math.floor(Math.log10(Math.abs(t)) / 3)));
    const v = t / 1000 ** exp;
    const sep = SI[exp] || unit ? ' ' : '';
    return `${Number(v.toPrecision(5))}${sep}${SI[exp]}${unit}`;
  });
}

const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

/**
 * Tick steps for time axes, in seconds: never below one second, so a young incident's axis reads
 * ":51 :52" rather than uPlot's default ":51.000 :51.100".
 */
export const TIME_INCRS = [
  1,
  2,
  5,
  10,
  15,
  30,
  MIN,
  2 * MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * Labels for time-axis ticks (epoch seconds, local time) at step `incr` seconds: HH:MM:SS under a
 * minute, HH:MM under a day, "24 Nov" beyond; a tick at local midnight on a sub-day axis shows
 * the date so a range crossing midnight stays readable.
 */
export function timeTickLabels(ticks: readonly number[], incr: number): string[] {
  return ticks.map((t) => {
    const d = new Date(t * 1000);
    const date = `${d.getDate()} ${MONTHS[d.getMonth()]}`;
    if (incr >= DAY) return date;
    const hm = `${p2(d.getHours())}:${p2(d.getMinutes())}`;
    if (incr >= MIN) return d.getHours() === 0 && d.getMinutes() === 0 ? date : hm;
    return `${hm}:${p2(d.getSeconds())}`;
  });
}

/**
 * The source counts of one incident, labelled the same on every page: `now` distinct sources in
 * the detector's latest window (what lists and the wall show), `peak` the most at once, `listed`
 * the sources kept over the whole incident (the graph and call list, capped by the detector's
 * list size), `total` the sources over the whole incident: never fewer than the peak, which is
 * an estimate of all of them where the list is capped.
 */
export function sourceCounts(
  i: {
    sources: { distinct: number; top: readonly unknown[] };
    evidence: Record<string, unknown>;
  },
  listed?: number,
): { now: number; peak: number; total: number; listed: number } {
  const now = i.sources.distinct;
  const p = i.evidence.peakSources;
  const peak = Math.max(now, typeof p === 'number' ? p : 0);
  const kept = listed ?? i.sources.top.length;
  return { now, peak, total: Math.max(kept, peak), listed: kept };
}
