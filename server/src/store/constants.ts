export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** Minute rollups are kept this long; beyond it only hourly (and daily) rows remain. */
export const MINUTE_RETENTION_MS = 7 * DAY;
/** Longest a queued rollup or incident refresh may wait before it is written: what a crash can lose. */
export const FLUSH_INTERVAL_MS = 1000;
export const MAINTAIN_INTERVAL_MS = HOUR;
/** meta key: JSON { from, to } (ms) of the backfilled simulated history. */
export const META_SIMULATED = 'simulated_history';

export function isoMs(iso: string): number {
  const v = Date.parse(iso);
  return Number.isFinite(v) ? v : 0;
}
