import { DAY, HOUR, MINUTE_RETENTION_MS } from './constants.js';

/**
 * What retention keeps, the same for every store: minute rollups for 7 days (aligned to whole
 * hours, so the hour rows beyond them cover whole hours), hour and day rollups, resolved
 * incidents and audit entries for `retention_days`.
 */
export function retentionCuts(nowMs: number, retentionMs: number) {
  const cut = nowMs - retentionMs;
  return {
    /** Minute rows before this are dropped (the hour and day tables already hold them). */
    minute: minuteKeptFrom(nowMs),
    hour: Math.floor(cut / HOUR) * HOUR,
    day: Math.floor(cut / DAY) * DAY,
    /** Resolved incidents last seen before this, and audit entries written before it, go. */
    incidents: cut,
  };
}

/** Start of the oldest whole hour still held at minute resolution. */
export function minuteKeptFrom(nowMs: number): number {
  return Math.floor((nowMs - MINUTE_RETENTION_MS) / HOUR) * HOUR;
}
