import { MINUTE } from './constants.js';
import { GRAIN, ROLLUP_TABLES, type RollupTable } from './rollup-queries.js';
import type { AbuseRollupRow } from './types.js';

export interface PendingRollup {
  dim: string;
  key: string;
  /** Minute start. */
  t: number;
  kind: string;
  packets: number;
  bytes: number;
  flows: number;
}

/**
 * Rollups waiting for the next flush, summed per (dimension, key, minute, kind): several calls
 * for the same cell cost one row write. A failed write puts its rows back (`restore`).
 */
export class RollupBuffer {
  private pending = new Map<string, PendingRollup>();

  get size(): number {
    return this.pending.size;
  }

  add(rows: readonly AbuseRollupRow[]): void {
    for (const r of rows) {
      this.addOne({
        dim: r.dimension,
        key: r.key,
        t: Math.floor(r.minute / MINUTE) * MINUTE,
        kind: r.kind,
        packets: r.packets,
        bytes: r.bytes,
        flows: r.flows,
      });
    }
  }

  private addOne(r: PendingRollup): void {
    const k = `${r.dim}\u0000${r.key}\u0000${r.t}\u0000${r.kind}`;
    const p = this.pending.get(k);
    if (p) {
      p.packets += r.packets;
      p.bytes += r.bytes;
      p.flows += r.flows;
    } else this.pending.set(k, { ...r });
  }

  /** Everything pending, emptied. */
  take(): PendingRollup[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }

  /** Rows whose write failed go back, summed with what arrived meanwhile. */
  restore(rows: readonly PendingRollup[]): void {
    for (const r of rows) this.addOne(r);
  }
}

export const pendingOf = (r: AbuseRollupRow): PendingRollup => ({
  dim: r.dimension,
  key: r.key,
  t: r.minute,
  kind: r.kind,
  packets: r.packets,
  bytes: r.bytes,
  flows: r.flows,
});

/**
 * Rows summed per table and (dimension, key, bucket of the table's grain, kind): one row write
 * per cell, and no statement touching a row twice. Minute rows before `minuteFrom` are left out
 * (minute resolution is only kept for 7 days).
 */
export function sumPerTable(
  rows: readonly PendingRollup[],
  minuteFrom = -Infinity,
): Map<RollupTable, Map<string, PendingRollup>> {
  const out = new Map<RollupTable, Map<string, PendingRollup>>(ROLLUP_TABLES.map((t) => [t, new Map()]));
  for (const r of rows) {
    for (const t of ROLLUP_TABLES) {
      if (t === 'rollup_minute' && r.t < minuteFrom) continue;
      const g = GRAIN[t];
      const b = Math.floor(r.t / g) * g;
      const k = `${r.dim}\u0000${r.key}\u0000${b}\u0000${r.kind}`;
      const m = out.get(t)!;
      const e = m.get(k);
      if (e) {
        e.packets += r.packets;
        e.bytes += r.bytes;
        e.flows += r.flows;
      } else m.set(k, { ...r, t: b });
    }
  }
  return out;
}
