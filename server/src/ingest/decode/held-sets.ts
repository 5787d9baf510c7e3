/**
 * Data sets that came before their template (v9 and IPFIX exporters send templates only every
 * so often, and UDP reorders): held for a while, decoded when the template comes, else counted
 * as `pending-expired`. Bounded in sets and bytes over all exporters, with a share per exporter
 * so that one exporter flooding data without templates cannot evict another's.
 */
import type { ExporterStats } from '../exporter-stats.js';
import type { DomainKey } from './domain-key.js';
import type { Exporter, ExporterTable } from './exporter-table.js';

/** When the exporter says it sent the data: the header's time, and v9's sysUptime (-1 for IPFIX). */
export interface ExportTime {
  headerMs: number;
  sysUptime: number;
}

export interface HeldSet extends ExportTime {
  protocol: 'netflow-v9' | 'ipfix';
  key: DomainKey;
  templateId: number;
  data: Uint8Array;
  receivedAt: number;
}

export interface HeldSetsLimits {
  /** How long data is held (ms); 0 disables holding. */
  pendingMs: number;
  maxPendingSets: number;
  maxPendingBytes: number;
  /** Share of those bounds one exporter may hold (0..1). */
  pendingSharePerExporter: number;
}

interface Holding {
  /** Oldest first. */
  sets: HeldSet[];
  bytes: number;
}

export class HeldSets {
  /** Only exporters that hold something. */
  private readonly holding = new Map<Exporter, Holding>();
  private sets = 0;
  private bytes = 0;
  private readonly maxSetsPerExporter: number;
  private readonly maxBytesPerExporter: number;

  constructor(
    private readonly table: ExporterTable,
    private readonly limits: HeldSetsLimits,
  ) {
    const share = Math.min(1, Math.max(0, limits.pendingSharePerExporter));
    this.maxSetsPerExporter = Math.max(1, Math.floor(limits.maxPendingSets * share));
    this.maxBytesPerExporter = Math.floor(limits.maxPendingBytes * share);
  }

  get count(): number {
    return this.sets;
  }

  get pendingMs(): number {
    return this.limits.pendingMs;
  }

  /** Whether `e` holds any data (a new template of its may release some). */
  holds(e: Exporter): boolean {
    return this.holding.has(e);
  }

  /**
   * Holds bytes [body, end) of `v`, a data set for template `set.templateId` that `e` has not
   * defined yet. Counts on `s` what could not be held.
   */
  hold(e: Exporter, s: ExporterStats, v: DataView, body: number, end: number, set: Omit<HeldSet, 'data'>): void {
    const size = end - body;
    if (this.limits.pendingMs <= 0) {
      s.error('unknown-template');
      return;
    }
    if (size > this.maxBytesPerExporter) {
      s.error('pending-overflow');
      return;
    }
    let h = this.holding.get(e);
    // room within the exporter's share: its own oldest sets go first
    while (h !== undefined && (h.sets.length >= this.maxSetsPerExporter || h.bytes + size > this.maxBytesPerExporter))
      if (!this.evictOldest(e)) break;
    // room in the global budget: taken from whichever exporter holds the most (this one on a tie),
    // so an exporter within its share keeps its data however many others flood
    while (this.sets >= this.limits.maxPendingSets || this.bytes + size > this.limits.maxPendingBytes) {
      if (!this.evictOldest(this.largestHolder(e))) {
        s.error('pending-overflow'); // a zero budget: nothing to make room from
        return;
      }
    }
    const data = new Uint8Array(size);
    data.set(new Uint8Array(v.buffer, v.byteOffset + body, size));
    h = this.holding.get(e);
    if (h === undefined) {
      h = { sets: [], bytes: 0 };
      this.holding.set(e, h);
    }
    h.sets.push({ ...set, data });
    h.bytes += size;
    this.sets++;
    this.bytes += size;
  }

  /**
   * Takes out what `e` holds for template `templateId` of domain `key`, oldest first. Sets
   * held past `pendingMs` are dropped and counted on `s` as `pending-expired` instead.
   */
  release(e: Exporter, key: DomainKey, templateId: number, nowMs: number, s: ExporterStats): HeldSet[] {
    const h = this.holding.get(e);
    if (h === undefined) return [];
    const out: HeldSet[] = [];
    const keep: HeldSet[] = [];
    for (const p of h.sets) {
      if (p.key === key && p.templateId === templateId) {
        this.unhold(h, p);
        if (nowMs - p.receivedAt > this.limits.pendingMs) s.error('pending-expired');
        else out.push(p);
      } else keep.push(p);
    }
    this.replace(e, h, keep);
    return out;
  }

  /** Drops held data whose template never came (counted as `pending-expired`). */
  expire(nowMs: number): void {
    for (const [e, h] of this.holding) {
      const keep: HeldSet[] = [];
      for (const p of h.sets) {
        if (nowMs - p.receivedAt > this.limits.pendingMs) {
          this.table.stats(e, p.protocol).error('pending-expired');
          this.unhold(h, p);
        } else keep.push(p);
      }
      this.replace(e, h, keep);
    }
  }

  /** Drops `e`'s oldest held set (counted on its stats as `pending-evicted`). */
  private evictOldest(e: Exporter): boolean {
    const h = this.holding.get(e);
    const p = h?.sets.shift();
    if (h === undefined || p === undefined) return false;
    this.table.stats(e, p.protocol).error('pending-evicted');
    this.unhold(h, p);
    if (h.sets.length === 0) this.holding.delete(e);
    return true;
  }

  /** The exporter using the largest part of the budget (sets or bytes); `prefer` wins ties. */
  private largestHolder(prefer: Exporter): Exporter {
    const load = (h: Holding | undefined): number =>
      h === undefined ? 0 : Math.max(h.sets.length / this.limits.maxPendingSets, h.bytes / this.limits.maxPendingBytes);
    let best = prefer;
    let most = load(this.holding.get(prefer));
    for (const [x, h] of this.holding) {
      const l = load(h);
      if (l > most) {
        best = x;
        most = l;
      }
    }
    return best;
  }

  /** Takes `p` (already out of, or about to leave, `h.sets`) off the totals. */
  private unhold(h: Holding, p: HeldSet): void {
    h.bytes -= p.data.byteLength;
    this.sets--;
    this.bytes -= p.data.byteLength;
  }

  private replace(e: Exporter, h: Holding, sets: HeldSet[]): void {
    h.sets = sets;
    if (sets.length === 0) this.holding.delete(e);
  }
}
