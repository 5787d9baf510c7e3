/** Time ranges offered by the history pages, with a step that keeps charts readable. */
export const RANGES = {
  '1h': { ms: 3600_000, step: '1m', label: 'last hour' },
  '6h': { ms: 6 * 3600_000, step: '5m', label: 'last 6 hours' },
  '24h': { ms: 24 * 3600_000, step: '15m', label: 'last 24 hours' },
  '7d': { ms: 7 * 86400_000, step: '1h', label: 'last 7 days' },
  '30d': { ms: 30 * 86400_000, step: '6h', label: 'last 30 days' },
  '90d': { ms: 90 * 86400_000, step: '1d', label: 'last 90 days' },
} as const;
export type RangeKey = keyof typeof RANGES;

export function parseRange(v: string | null, fallback: RangeKey): RangeKey {
  return v && v in RANGES ? (v as RangeKey) : fallback;
}

/**
 * `from`/`step` query for a range. `from` is rounded down to the minute so that re-renders
 * produce the same URL (and do not refetch) within a minute.
 */
export function rangeQuery(key: RangeKey, now = Date.now()): URLSearchParams {
  const r = RANGES[key];
  const from = Math.floor((now - r.ms) / 60_000) * 60_000;
  return new URLSearchParams({ from: String(from), step: r.step });
}
