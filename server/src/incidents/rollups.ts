import type { DetectionEvent } from '@downstream/shared';
import type { AbuseRollupRow } from '../store/types.js';

const MINUTE = 60_000;
/** Endpoint rows per event: enough for every bot of a campaign without flooding the store. */
const MAX_ENDPOINTS = 200;

/**
 * Per-minute abuse volume by ASN, upstream, customer and endpoint, accumulated from detection
 * events (each event stands for one second at its window rate) and handed to the store when
 * the minute closes — and the running minute's so far every `partialMs`, so the wall's "last
 * hour" shows an attack in its first minute. Stores add rows of the same minute and key up.
 */
export class RollupAccumulator {
  private readonly rows = new Map<string, AbuseRollupRow>();
  private lastPartial = 0;

  constructor(private readonly partialMs = 10_000) {}

  /** `kind`: the incident's, which may be more specific than the event's own (one incident per target). */
  add(e: DetectionEvent, atMs: number, seconds = 1, kind: DetectionEvent['kind'] = e.kind): void {
    const minute = Math.floor(atMs / MINUTE) * MINUTE;
    const packets = e.rate.pps * seconds;
    const bytes = (e.rate.bps / 8) * seconds;
    // Detectors state flow records per second at the same window rate as pps (scaled by sampling).
    const fps = e.evidence.flowsPerSecond;
    const flows = typeof fps === 'number' && fps > 0 ? fps * seconds : 0;
    if (packets <= 0 && bytes <= 0) return;
    const put = (dimension: AbuseRollupRow['dimension'], key: string, share: number) => {
      if (!(share > 0)) return;
      const k = `${minute}|${kind}|${dimension}|${key}`;
      let r = this.rows.get(k);
      if (!r) {
        r = { minute, kind, dimension, key, packets: 0, bytes: 0, flows: 0 };
        this.rows.set(k, r);
      }
      r.packets += packets * share;
      r.bytes += bytes * share;
      r.flows += flows * share;
    };
    for (const a of e.sources.asns) put('asn', String(a.asn), a.share);
    for (const u of e.upstreams) put('upstream', u.name, u.share);
    if (e.direction === 'inbound') {
      if (e.target?.customer) put('customer', e.target.customer, 1);
      if (e.target) put('endpoint', e.target.ip, 1);
    } else {
      const top = e.sources.top;
      let total = 0;
      for (const s of top) total += s.bytes;
      const byCustomer = new Map<string, number>();
      top.forEach((s, i) => {
        const share = total > 0 ? s.bytes / total : 1 / top.length;
        if (s.customer) byCustomer.set(s.customer, (byCustomer.get(s.customer) ?? 0) + share);
        if (i < MAX_ENDPOINTS) put('endpoint', s.ip, share);
      });
      for (const [c, share] of byCustomer) put('customer', c, share);
    }
  }

  /**
   * Rows of minutes that ended before `nowMs` — and the running minute's too once `partialMs`
   * passed since the last time, or when `all` — removed from the accumulator.
   */
  take(nowMs: number, all = false): AbuseRollupRow[] {
    if (nowMs - this.lastPartial >= this.partialMs) {
      this.lastPartial = nowMs;
      all = true;
    }
    const cur = Math.floor(nowMs / MINUTE) * MINUTE;
    const out: AbuseRollupRow[] = [];
    for (const [k, r] of this.rows) {
      if (all || r.minute < cur) {
        out.push({ ...r, packets: Math.round(r.packets), bytes: Math.round(r.bytes), flows: Math.round(r.flows) });
        this.rows.delete(k);
      }
    }
    return out;
  }
}
